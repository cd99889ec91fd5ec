-- POST /api/v1/auth: a Mini App sign-in (HMAC check, user upsert, JWT) for the seeded users in turn.
local common = dofile((os.getenv("BENCH_WRK_DIR") or "bench/wrk") .. "/common.lua")
local next_body

function init(_)
  next_body = common.cycle(common.lines("auth_bodies.txt"))
end

function request()
  return wrk.format("POST", "/api/v1/auth", { ["Content-Type"] = "application/json" }, next_body())
end

function done(summary, latency, _)
  common.done(summary, latency)
end
