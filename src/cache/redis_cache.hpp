#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "cache/cache.hpp"
#include "cache/cache_metrics.hpp"

namespace evolveai::obs {
class Logger;
class MetricsRegistry;
}  // namespace evolveai::obs

namespace evolveai::net {
class CircuitBreaker;
class RedisClient;
}  // namespace evolveai::net

namespace evolveai::cache {

/// Naming of a RedisCache.
struct RedisCacheOptions {
  std::string name = "redis";                  ///< the `cache` metric label; unique per registry
  std::string key_prefix = "evolveai:cache:";  ///< put before every key (one Redis shared by several uses)
};

/// The cache shared by every node, in Redis, every call through the Redis circuit breaker.
/// While Redis fails or the breaker is open, reads miss and writes do nothing; such reads
/// are counted as `error` or `skipped` and errors are logged. Only transport trouble (see
/// net::is_redis_unavailable) counts against the breaker. Client, breaker, registry and
/// logger must outlive it. Thread-safe.
class RedisCache final : public Cache {
 public:
  RedisCache(net::RedisClient& client, net::CircuitBreaker& breaker, RedisCacheOptions options,
             obs::MetricsRegistry& metrics, obs::Logger& logger);

  Task<std::optional<std::string>> get(std::string_view key) override;
  Task<void> set(std::string_view key, std::string value, std::chrono::milliseconds ttl) override;
  Task<void> erase(std::string_view key) override;
  Task<void> discard_corrupt(std::string_view key, std::string_view reason) override;
  [[nodiscard]] std::string_view name() const noexcept override { return options_.name; }

 private:
  /// Runs a write command; failures are counted and logged, never thrown.
  Task<void> write(std::string_view operation, std::vector<std::string> command);
  [[nodiscard]] std::string full_key(std::string_view key) const;

  net::RedisClient& client_;
  net::CircuitBreaker& breaker_;
  RedisCacheOptions options_;
  obs::Logger& logger_;
  CacheCounters counters_;
};

}  // namespace evolveai::cache
