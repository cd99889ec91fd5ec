-- GET /healthz: the HTTP server alone.
local common = dofile((os.getenv("BENCH_WRK_DIR") or "bench/wrk") .. "/common.lua")

function done(summary, latency, _)
  common.done(summary, latency)
end
