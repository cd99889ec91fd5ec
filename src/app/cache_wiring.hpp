#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <memory>

#include "app/config.hpp"
#include "cache/cache.hpp"
#include "cache/rate_limiter.hpp"

namespace evolveai::obs {
class HealthChecks;
class Logger;
class MetricsRegistry;
}  // namespace evolveai::obs

namespace evolveai::app {

/// Rate limiting and caching of this node: in-process only without `redis.url`; with it, shared
/// through Redis behind one circuit breaker, falling back to the node's own limiter and skipping
/// the cache while Redis is down (reported as degraded by /readyz, never as down).
class CacheLayer {
 public:
  CacheLayer(const Config& config, boost::asio::any_io_executor executor, obs::MetricsRegistry& metrics,
             obs::Logger& logger, obs::HealthChecks& health);
  ~CacheLayer();
  CacheLayer(const CacheLayer&) = delete;
  CacheLayer& operator=(const CacheLayer&) = delete;

  /// The limiter every rate-limited route uses.
  [[nodiscard]] cache::RateLimiter& limiter();
  /// The cache of profiles and other small, rebuildable values.
  [[nodiscard]] cache::Cache& cache();

 private:
  struct Parts;
  std::unique_ptr<Parts> parts_;
};

}  // namespace evolveai::app
