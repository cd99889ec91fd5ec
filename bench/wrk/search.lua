-- GET /api/v1/search: full-text search of a user's messages for words found in 1-10 % of the
-- seeded messages (bench/load/seed.py TOPICS), English and Russian, one and two words.
local common = dofile((os.getenv("BENCH_WRK_DIR") or "bench/wrk") .. "/common.lua")
local queries = { "jazz", "coffee", "weekend", "travel plans", "remember", "музыка", "погода", "кофе",
  "работа", "weekend coffee", "новая работа", "morning" }
local next_token, next_query

function init(_)
  next_token = common.cycle(common.lines("tokens.txt"))
  next_query = common.cycle(queries)
end

function request()
  local path = "/api/v1/search?limit=20&q=" .. common.urlencode(next_query())
  return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. next_token() })
end

function done(summary, latency, _)
  common.done(summary, latency)
end
