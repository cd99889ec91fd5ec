#include "cache/fallback_rate_limiter.hpp"

#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>

#include <stdexcept>

#include "net/circuit_breaker.hpp"
#include "obs/logger.hpp"
#include "obs/metrics.hpp"

namespace evolveai::cache {

namespace {

bool is_cancellation(const std::exception& e) {
  const auto* error = dynamic_cast<const boost::system::system_error*>(&e);
  return error != nullptr && error->code() == boost::asio::error::operation_aborted;
}

obs::CounterFamily& fallbacks(obs::MetricsRegistry& metrics) {
  return metrics.counter("evolveai_rate_limiter_fallbacks_total",
                         "Rate limit decisions made by the node's own limiter because the shared one was unavailable",
                         {"reason"});
}

}  // namespace

FallbackRateLimiter::FallbackRateLimiter(RateLimiter& shared, RateLimiter& local, net::CircuitBreaker& breaker,
                                         obs::MetricsRegistry& metrics, obs::Logger& logger)
    : shared_(shared),
      local_(local),
      breaker_(breaker),
      logger_(logger),
      breaker_open_(fallbacks(metrics).with({"breaker_open"})),
      errors_(fallbacks(metrics).with({"error"})) {}

Task<RateDecision> FallbackRateLimiter::acquire(std::string_view key, const RatePolicy& policy) {
  validate(policy);  // a bad policy is a bug to surface, not a reason to fall back
  try {
    co_return co_await breaker_.run(shared_.acquire(key, policy),
                                    [](const std::exception& e) { return !is_cancellation(e); });
  } catch (const net::CircuitOpenError&) {
    breaker_open_.inc();
  } catch (const std::exception& e) {
    if (is_cancellation(e))
      throw;
    errors_.inc();
    logger_.warn("rate_limiter_fallback", {{"policy", policy.name}, {"error", e.what()}});
  }
  co_return co_await local_.acquire(key, policy);
}

}  // namespace evolveai::cache
