#pragma once

#include <chrono>

#include "core/task.hpp"
#include "obs/health.hpp"

namespace evolveai::net {

class CircuitBreaker;
class RedisClient;

/// The readiness check of Redis: PING through the Redis breaker. Redis down (or its breaker
/// open) is reported as degraded, never as fatal, because the node keeps serving without it
/// (cache skipped, local rate limits). Answers within `timeout` so /readyz stays prompt.
class RedisHealthCheck {
 public:
  /// Client and breaker must outlive the check.
  RedisHealthCheck(RedisClient& client, CircuitBreaker& breaker,
                   std::chrono::milliseconds timeout = std::chrono::milliseconds(500));

  /// ok when PING answers PONG; otherwise not ok and degraded, with the reason.
  Task<obs::CheckResult> check();

 private:
  RedisClient& client_;
  CircuitBreaker& breaker_;
  std::chrono::milliseconds timeout_;
};

}  // namespace evolveai::net
