#include "app/cache_wiring.hpp"

#include "cache/fallback_rate_limiter.hpp"
#include "cache/local_cache.hpp"
#include "cache/local_rate_limiter.hpp"
#include "cache/redis_cache.hpp"
#include "cache/redis_rate_limiter.hpp"
#include "net/circuit_breaker.hpp"
#include "net/redis_client.hpp"
#include "net/redis_health.hpp"
#include "net/redis_protocol.hpp"
#include "obs/health.hpp"

namespace evolveai::app {

/// Members in construction order; Redis parts exist only with a configured URL.
struct CacheLayer::Parts {
  cache::LocalRateLimiter local_limiter;
  std::unique_ptr<cache::LocalCache> local_cache;
  std::unique_ptr<net::RedisClient> client;
  std::unique_ptr<net::CircuitBreaker> breaker;
  std::unique_ptr<cache::RedisRateLimiter> redis_limiter;
  std::unique_ptr<cache::FallbackRateLimiter> limiter;
  std::unique_ptr<cache::RedisCache> redis_cache;
  std::unique_ptr<net::RedisHealthCheck> health_check;
};

CacheLayer::CacheLayer(const Config& config, boost::asio::any_io_executor executor, obs::MetricsRegistry& metrics,
                       obs::Logger& logger, obs::HealthChecks& health)
    : parts_(std::make_unique<Parts>()) {
  auto& p = *parts_;
  if (config.redis.url.empty()) {
    p.local_cache = std::make_unique<cache::LocalCache>(cache::LocalCacheOptions{}, metrics, logger);
    return;
  }
  net::RedisClientOptions options;
  options.url = config.redis.url;
  options.pool_size = static_cast<std::size_t>(config.redis.pool_size);
  options.connect_timeout = config.redis.connect_timeout;
  options.command_timeout = config.redis.command_timeout;
  p.client = std::make_unique<net::RedisClient>(std::move(executor), options, logger);
  net::BreakerSettings breaker;
  breaker.failure_threshold = static_cast<unsigned>(config.redis.breaker_failures);
  breaker.open_duration = config.redis.breaker_open_duration;
  breaker.half_open_probes = static_cast<unsigned>(config.redis.breaker_probes);
  p.breaker = std::make_unique<net::CircuitBreaker>("redis", breaker, metrics, logger);
  p.redis_limiter = std::make_unique<cache::RedisRateLimiter>(*p.client);
  p.limiter =
      std::make_unique<cache::FallbackRateLimiter>(*p.redis_limiter, p.local_limiter, *p.breaker, metrics, logger);
  p.redis_cache =
      std::make_unique<cache::RedisCache>(*p.client, *p.breaker, cache::RedisCacheOptions{}, metrics, logger);
  p.health_check = std::make_unique<net::RedisHealthCheck>(*p.client, *p.breaker, config.redis.command_timeout);
  health.add("redis", [check = p.health_check.get()] { return check->check(); });
}

CacheLayer::~CacheLayer() = default;

cache::RateLimiter& CacheLayer::limiter() {
  if (parts_->limiter) {
    return *parts_->limiter;
  }
  return parts_->local_limiter;
}

cache::Cache& CacheLayer::cache() {
  if (parts_->redis_cache) {
    return *parts_->redis_cache;
  }
  return *parts_->local_cache;
}

}  // namespace evolveai::app
