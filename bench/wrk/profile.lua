-- GET /api/v1/profile: JWT check, rate limit, user read, usage; the seeded users in turn.
local common = dofile((os.getenv("BENCH_WRK_DIR") or "bench/wrk") .. "/common.lua")
local next_token

function init(_)
  next_token = common.cycle(common.lines("tokens.txt"))
end

function request()
  return wrk.format("GET", "/api/v1/profile", { ["Authorization"] = "Bearer " .. next_token() })
end

function done(summary, latency, _)
  common.done(summary, latency)
end
