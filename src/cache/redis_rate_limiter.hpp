#pragma once

#include <string>
#include <string_view>

#include "cache/rate_limiter.hpp"

namespace evolveai::net {
class RedisClient;
}

namespace evolveai::cache {

/// Naming of a RedisRateLimiter's keys.
struct RedisRateLimiterOptions {
  std::string key_prefix = "evolveai:rate:";  ///< keys are prefix + policy name + ":" + key
};

/// One limit shared by every node: GCRA (the generic cell rate algorithm) kept in Redis as
/// one theoretical-arrival-time key per (policy, key), read and updated by one Lua script so
/// that each decision is atomic across nodes; time is the Redis server's, so node clocks do
/// not matter. The script is sent by EVALSHA, and by EVAL when the server answers NOSCRIPT
/// (after a restart or SCRIPT FLUSH). Bursts of `limit` are allowed, then one per
/// period/limit (rounded down to a microsecond). Failures are thrown (RedisError); wrap it in
/// a FallbackRateLimiter to keep deciding while Redis is down. Thread-safe; the client must
/// outlive it.
class RedisRateLimiter final : public RateLimiter {
 public:
  explicit RedisRateLimiter(net::RedisClient& client, RedisRateLimiterOptions options = {});

  Task<RateDecision> acquire(std::string_view key, const RatePolicy& policy) override;

  /// The Lua source of the GCRA script.
  [[nodiscard]] static std::string_view script() noexcept;
  /// The script's SHA-1 in lower-case hex, as EVALSHA wants it.
  [[nodiscard]] const std::string& script_sha1() const noexcept { return script_sha1_; }

 private:
  net::RedisClient& client_;
  RedisRateLimiterOptions options_;
  std::string script_sha1_;
};

}  // namespace evolveai::cache
