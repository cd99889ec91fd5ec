#pragma once

#include "cache/rate_limiter.hpp"

namespace evolveai::obs {
class Counter;
class Logger;
class MetricsRegistry;
}  // namespace evolveai::obs

namespace evolveai::net {
class CircuitBreaker;
}

namespace evolveai::cache {

/// Asks the shared limiter (Redis) through its circuit breaker and, while the breaker is
/// open or the shared limiter fails, lets this node's own limiter decide instead, so rate
/// limiting degrades to per-node limits rather than failing requests. Every fallback is
/// counted in `evolveai_rate_limiter_fallbacks_total{reason}` (breaker_open, error) and
/// failures are logged. Any failure of the shared limiter but cancellation counts against
/// the breaker. Thread-safe; every reference must outlive it.
class FallbackRateLimiter final : public RateLimiter {
 public:
  FallbackRateLimiter(RateLimiter& shared, RateLimiter& local, net::CircuitBreaker& breaker,
                      obs::MetricsRegistry& metrics, obs::Logger& logger);

  Task<RateDecision> acquire(std::string_view key, const RatePolicy& policy) override;

 private:
  RateLimiter& shared_;
  RateLimiter& local_;
  net::CircuitBreaker& breaker_;
  obs::Logger& logger_;
  obs::Counter& breaker_open_;
  obs::Counter& errors_;
};

}  // namespace evolveai::cache
