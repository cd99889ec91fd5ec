#include "cache/local_rate_limiter.hpp"

#include <algorithm>

namespace evolveai::cache {

namespace {

using Micros = std::chrono::microseconds;

std::int64_t ceil_div(std::int64_t a, std::int64_t b) {
  return (a + b - 1) / b;
}

}  // namespace

LocalRateLimiter::LocalRateLimiter(LocalRateLimiterOptions options, Clock clock)
    : options_(options), clock_(clock ? std::move(clock) : Clock([] { return std::chrono::steady_clock::now(); })) {
  options_.max_keys = std::max<std::size_t>(options_.max_keys, 1);
}

Task<RateDecision> LocalRateLimiter::acquire(std::string_view key, const RatePolicy& policy) {
  co_return decide(key, policy);
}

RateDecision LocalRateLimiter::decide(std::string_view key, const RatePolicy& policy) {
  validate(policy);
  const std::int64_t limit = policy.limit;
  const std::int64_t period_us = std::chrono::duration_cast<Micros>(policy.period).count();
  const std::int64_t capacity = limit * period_us;  // <= 1e6 * 6.048e11, fits

  std::string id;
  id.reserve(policy.name.size() + 1 + key.size());
  id += policy.name;
  id += '\x1f';
  id += key;

  const auto now = clock_();
  const std::scoped_lock lock(mutex_);
  Lru::iterator bucket;
  if (const auto found = index_.find(id); found != index_.end()) {
    bucket = found->second;
    lru_.splice(lru_.begin(), lru_, bucket);
    // Whole microseconds only; the remainder stays in refilled_at so nothing is lost.
    const auto elapsed = std::chrono::duration_cast<Micros>(now - bucket->refilled_at);
    if (elapsed.count() >= period_us) {
      bucket->units = capacity;  // a full period refills any bucket
      bucket->refilled_at = now;
    } else if (elapsed.count() > 0) {
      bucket->units = std::min(capacity, bucket->units + elapsed.count() * limit);
      bucket->refilled_at += elapsed;
      if (bucket->units == capacity)
        bucket->refilled_at = now;
    }
  } else {
    lru_.push_front(Bucket{std::move(id), capacity, now});
    bucket = lru_.begin();
    index_.emplace(bucket->id, bucket);
    while (lru_.size() > options_.max_keys) {
      index_.erase(std::string_view(lru_.back().id));
      lru_.pop_back();
    }
  }

  RateDecision decision;
  if (bucket->units >= period_us) {
    bucket->units -= period_us;
    decision.allowed = true;
    decision.remaining = static_cast<unsigned>(bucket->units / period_us);
  } else {
    const std::int64_t wait_us = ceil_div(period_us - bucket->units, limit);
    decision.retry_after = std::chrono::seconds(std::max<std::int64_t>(1, ceil_div(wait_us, 1'000'000)));
  }
  return decision;
}

std::size_t LocalRateLimiter::tracked_keys() const {
  const std::scoped_lock lock(mutex_);
  return lru_.size();
}

}  // namespace evolveai::cache
