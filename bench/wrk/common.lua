-- Shared by the endpoint scripts of bench/http_wrk.sh (loaded with dofile): files of seeded
-- tokens and sign-in bodies, a round-robin pick, and a machine-readable summary line.
local common = {}

-- Every non-empty line of the file BENCH_DATA_DIR/name.
function common.lines(name)
  local dir = os.getenv("BENCH_DATA_DIR") or "."
  local file = assert(io.open(dir .. "/" .. name, "r"), "cannot open " .. dir .. "/" .. name)
  local out = {}
  for line in file:lines() do
    if #line > 0 then
      out[#out + 1] = line
    end
  end
  file:close()
  return out
end

-- A function returning the items in turn, each thread from its own random start.
function common.cycle(items)
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
  local i = math.random(#items)
  return function()
    i = i % #items + 1
    return items[i]
  end
end

-- Percent-encodes a query parameter.
function common.urlencode(text)
  return (text:gsub("[^%w%-%._~]", function(c)
    return string.format("%%%02X", string.byte(c))
  end))
end

-- Prints one `BENCH_JSON {...}` line that bench/load/report.py reads.
function common.done(summary, latency)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "non2xx": %d, "connect_errors": %d, ' ..
      '"read_errors": %d, "write_errors": %d, "timeouts": %d, "p50_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end

return common
