#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "core/task.hpp"

namespace evolveai::cache {

/// A named limit: at most `limit` acquisitions per `period` per key, with bursts up to `limit`.
struct RatePolicy {
  std::string name;  ///< e.g. "chat", "auth"; keeps the counters of policies apart
  unsigned limit = 0;
  std::chrono::milliseconds period{0};
};

/// Throws std::invalid_argument unless the policy is usable (a name, 1 <= limit <= 1e6,
/// 1 ms <= period <= 7 days).
void validate(const RatePolicy& policy);

/// The answer to one acquisition.
struct RateDecision {
  bool allowed = false;
  std::chrono::seconds retry_after{0};  ///< when denied: wait at least this long (>= 1 s); 0 when allowed
  unsigned remaining = 0;               ///< acquisitions still allowed right now after this one
};

/// Decides whether one more request of `key` fits a policy, and records it when it does.
class RateLimiter {
 public:
  virtual ~RateLimiter() = default;

  /// Takes one unit of `key`'s allowance under `policy`. `key` and `policy` must stay valid
  /// until the task has been awaited. Throws std::invalid_argument for an invalid policy.
  virtual Task<RateDecision> acquire(std::string_view key, const RatePolicy& policy) = 0;
};

}  // namespace evolveai::cache
