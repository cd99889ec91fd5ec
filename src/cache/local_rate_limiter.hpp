#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "cache/rate_limiter.hpp"

namespace evolveai::cache {

/// Bounds of a LocalRateLimiter.
struct LocalRateLimiterOptions {
  std::size_t max_keys = 100000;  ///< buckets kept at most; the least recently used go first
};

/// This node's own limiter: a token bucket per (policy, key) holding up to `limit` tokens and
/// refilled continuously at `limit` per `period`, in exact integer arithmetic. At most
/// `max_keys` buckets are kept; evicting the least recently used one forgets its history (the
/// key starts again with a full bucket), which errs on the side of letting requests through.
/// Thread-safe; acquire() completes at once.
class LocalRateLimiter final : public RateLimiter {
 public:
  /// Reads the current time; injected so that tests move time by hand.
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  /// `clock` defaults to steady_clock.
  explicit LocalRateLimiter(LocalRateLimiterOptions options = {}, Clock clock = {});

  Task<RateDecision> acquire(std::string_view key, const RatePolicy& policy) override;
  /// acquire() without a coroutine.
  RateDecision decide(std::string_view key, const RatePolicy& policy);

  /// Buckets held now.
  [[nodiscard]] std::size_t tracked_keys() const;

 private:
  struct Bucket {
    std::string id;  // policy name, a separator, the key
    // Tokens times the period in microseconds, so that refill needs no division:
    // one token is `period_us` units and each elapsed microsecond adds `limit` units.
    std::int64_t units = 0;
    std::chrono::steady_clock::time_point refilled_at;
  };
  using Lru = std::list<Bucket>;  // most recently used first

  LocalRateLimiterOptions options_;
  Clock clock_;
  mutable std::mutex mutex_;
  Lru lru_;
  std::unordered_map<std::string_view, Lru::iterator> index_;  // keys view the buckets' ids
};

}  // namespace evolveai::cache
