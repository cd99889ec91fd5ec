-- POST /api/v1/chat (not streamed): a whole turn (quota, user message stored, context built,
-- model called, reply stored) against the instant fake model; varied English and Russian text.
local common = dofile((os.getenv("BENCH_WRK_DIR") or "bench/wrk") .. "/common.lua")
local texts = { "Hi! Do you remember what I told you about jazz?", "What should I cook for dinner tonight?",
  "Привет! Какая сегодня погода у вас?", "I need a plan for the weekend, any ideas?",
  "Расскажи мне что-нибудь интересное про музыку.", "Coffee or tea in the morning, what do you think?",
  "Я устал после работы, давай поговорим.", "Tell me a short story about a cat and a train." }
local next_token, next_text

function init(_)
  next_token = common.cycle(common.lines("tokens.txt"))
  next_text = common.cycle(texts)
end

function request()
  local body = '{"message": "' .. next_text() .. '", "stream": false}'
  return wrk.format("POST", "/api/v1/chat",
    { ["Authorization"] = "Bearer " .. next_token(), ["Content-Type"] = "application/json" }, body)
end

function done(summary, latency, _)
  common.done(summary, latency)
end
