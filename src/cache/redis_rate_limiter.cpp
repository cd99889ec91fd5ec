#include "cache/redis_rate_limiter.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <stdexcept>

#include "net/redis_client.hpp"

namespace evolveai::cache {

namespace {

// KEYS[1]: the theoretical arrival time (TAT) key. ARGV[1]: emission interval in µs (period /
// limit). ARGV[2]: burst tolerance in µs (interval * limit). Returns {allowed, retry_after_us,
// remaining}. Integers only, so every value is exact in Lua's doubles (µs since 1970 < 2^53).
constexpr std::string_view kGcraScript = R"lua(
if redis.replicate_commands then redis.replicate_commands() end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]))
if not tat or tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - tolerance
if allow_at > now then
  return {0, allow_at - now, 0}
end
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', math.ceil((new_tat - now) / 1000))
return {1, 0, math.floor((tolerance - (new_tat - now)) / interval)}
)lua";

std::string sha1_hex(std::string_view text) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  if (EVP_Digest(text.data(), text.size(), digest.data(), &size, EVP_sha1(), nullptr) != 1) {
    throw std::runtime_error("SHA-1 is unavailable");
  }
  static constexpr std::string_view kHex = "0123456789abcdef";
  std::string hex;
  hex.reserve(std::size_t{size} * 2);
  for (unsigned int i = 0; i < size; ++i) {
    hex += kHex[digest[i] >> 4U];
    hex += kHex[digest[i] & 0x0FU];
  }
  return hex;
}

RateDecision parse_decision(const net::RedisReply& reply) {
  if (reply.type != net::RedisReply::Type::kArray || reply.elements.size() != 3) {
    throw net::RedisError(net::RedisErrorKind::kProtocol, "rate limit script returned an unexpected reply");
  }
  RateDecision decision;
  decision.allowed = reply.elements[0].as_integer() == 1;
  if (!decision.allowed) {
    const auto wait_us = std::max<std::int64_t>(reply.elements[1].as_integer(), 0);
    decision.retry_after = std::chrono::seconds(std::max<std::int64_t>(1, (wait_us + 999'999) / 1'000'000));
  }
  decision.remaining = static_cast<unsigned>(std::max<std::int64_t>(reply.elements[2].as_integer(), 0));
  return decision;
}

}  // namespace

RedisRateLimiter::RedisRateLimiter(net::RedisClient& client, RedisRateLimiterOptions options)
    : client_(client), options_(std::move(options)), script_sha1_(sha1_hex(kGcraScript)) {}

std::string_view RedisRateLimiter::script() noexcept {
  return kGcraScript;
}

Task<RateDecision> RedisRateLimiter::acquire(std::string_view key, const RatePolicy& policy) {
  validate(policy);
  const std::int64_t period_us = std::chrono::duration_cast<std::chrono::microseconds>(policy.period).count();
  const std::int64_t interval_us = std::max<std::int64_t>(1, period_us / policy.limit);
  const std::int64_t tolerance_us = interval_us * policy.limit;
  std::string redis_key = options_.key_prefix;
  redis_key += policy.name;
  redis_key += ':';
  redis_key += key;

  net::RedisCommand command{
      "EVALSHA", script_sha1_, "1", redis_key, std::to_string(interval_us), std::to_string(tolerance_us)};
  try {
    co_return parse_decision(co_await client_.command(command));
  } catch (const net::RedisError& e) {
    if (e.kind() != net::RedisErrorKind::kServer || e.server_code() != "NOSCRIPT")
      throw;
  }
  // The server lost its script cache (restart, SCRIPT FLUSH): EVAL runs and caches it again.
  command[0] = "EVAL";
  command[1] = std::string(kGcraScript);
  co_return parse_decision(co_await client_.command(std::move(command)));
}

}  // namespace evolveai::cache
