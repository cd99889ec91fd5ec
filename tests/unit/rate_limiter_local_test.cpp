#include "cache/local_rate_limiter.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <string>

namespace evolveai::cache {
namespace {

using namespace std::chrono_literals;
using TimePoint = std::chrono::steady_clock::time_point;

class LocalRateLimiterTest : public ::testing::Test {
 protected:
  LocalRateLimiter make(std::size_t max_keys = 1000) {
    return LocalRateLimiter(LocalRateLimiterOptions{max_keys}, [this] { return now_; });
  }
  TimePoint now_{std::chrono::hours(100)};
};

TEST_F(LocalRateLimiterTest, AllowsABurstOfLimitThenDenies) {
  auto limiter = make();
  const RatePolicy policy{"chat", 5, 60s};
  for (unsigned i = 0; i < 5; ++i) {
    const auto decision = limiter.decide("u1", policy);
    ASSERT_TRUE(decision.allowed) << i;
    EXPECT_EQ(decision.remaining, 4 - i);
    EXPECT_EQ(decision.retry_after, 0s);
  }
  const auto denied = limiter.decide("u1", policy);
  EXPECT_FALSE(denied.allowed);
  EXPECT_EQ(denied.remaining, 0U);
  EXPECT_EQ(denied.retry_after, 12s);  // one token per 60 s / 5
}

TEST_F(LocalRateLimiterTest, RefillsOneTokenPerPeriodOverLimit) {
  auto limiter = make();
  const RatePolicy policy{"chat", 4, 1s};  // a token every 250 ms
  for (int i = 0; i < 4; ++i)
    ASSERT_TRUE(limiter.decide("u", policy).allowed);
  ASSERT_FALSE(limiter.decide("u", policy).allowed);
  now_ += 249ms;
  EXPECT_FALSE(limiter.decide("u", policy).allowed);
  now_ += 1ms;
  EXPECT_TRUE(limiter.decide("u", policy).allowed);
  EXPECT_FALSE(limiter.decide("u", policy).allowed);
  now_ += 500ms;
  EXPECT_TRUE(limiter.decide("u", policy).allowed);
  EXPECT_TRUE(limiter.decide("u", policy).allowed);
  EXPECT_FALSE(limiter.decide("u", policy).allowed);
}

TEST_F(LocalRateLimiterTest, RefillIsExactOverManySmallSteps) {
  auto limiter = make();
  const RatePolicy policy{"p", 3, 1s};  // 333.33… ms per token: not a whole number of microseconds
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(limiter.decide("k", policy).allowed);
  // 1 s in 1000 steps of 1 ms, asking each time: exactly 3 more get through, no rounding drift.
  int allowed = 0;
  for (int step = 0; step < 1000; ++step) {
    now_ += 1ms;
    if (limiter.decide("k", policy).allowed)
      ++allowed;
  }
  EXPECT_EQ(allowed, 3);
}

TEST_F(LocalRateLimiterTest, NeverHoldsMoreThanLimitTokens) {
  auto limiter = make();
  const RatePolicy policy{"p", 3, 1s};
  ASSERT_TRUE(limiter.decide("k", policy).allowed);
  now_ += 1h;
  int allowed = 0;
  for (int i = 0; i < 10; ++i)
    allowed += limiter.decide("k", policy).allowed ? 1 : 0;
  EXPECT_EQ(allowed, 3);
}

TEST_F(LocalRateLimiterTest, RetryAfterIsRoundedUpToWholeSecondsAndAtLeastOne) {
  auto limiter = make();
  const RatePolicy fast{"fast", 10, 1s};  // 100 ms per token
  for (int i = 0; i < 10; ++i)
    ASSERT_TRUE(limiter.decide("k", fast).allowed);
  EXPECT_EQ(limiter.decide("k", fast).retry_after, 1s);
  const RatePolicy slow{"slow", 2, 5s};  // 2.5 s per token
  for (int i = 0; i < 2; ++i)
    ASSERT_TRUE(limiter.decide("k", slow).allowed);
  EXPECT_EQ(limiter.decide("k", slow).retry_after, 3s);
  now_ += 1600ms;
  EXPECT_EQ(limiter.decide("k", slow).retry_after, 1s);  // 0.9 s left
}

TEST_F(LocalRateLimiterTest, KeysAndPoliciesAreIndependent) {
  auto limiter = make();
  const RatePolicy chat{"chat", 1, 1min};
  const RatePolicy tts{"tts", 1, 1min};
  EXPECT_TRUE(limiter.decide("u1", chat).allowed);
  EXPECT_FALSE(limiter.decide("u1", chat).allowed);
  EXPECT_TRUE(limiter.decide("u2", chat).allowed);
  EXPECT_TRUE(limiter.decide("u1", tts).allowed);
}

TEST_F(LocalRateLimiterTest, KeepsABoundedNumberOfKeys) {
  auto limiter = make(3);
  const RatePolicy policy{"p", 1, 1min};
  for (const auto* key : {"a", "b", "c"})
    ASSERT_TRUE(limiter.decide(key, policy).allowed);
  EXPECT_FALSE(limiter.decide("a", policy).allowed);  // a is now the most recently used
  EXPECT_TRUE(limiter.decide("d", policy).allowed);   // evicts b
  EXPECT_EQ(limiter.tracked_keys(), 3U);
  EXPECT_FALSE(limiter.decide("a", policy).allowed);  // still remembered
  EXPECT_TRUE(limiter.decide("b", policy).allowed);   // forgotten: starts full
}

TEST_F(LocalRateLimiterTest, RejectsInvalidPolicies) {
  auto limiter = make();
  EXPECT_THROW(limiter.decide("k", RatePolicy{"", 1, 1s}), std::invalid_argument);
  EXPECT_THROW(limiter.decide("k", RatePolicy{"p", 0, 1s}), std::invalid_argument);
  EXPECT_THROW(limiter.decide("k", RatePolicy{"p", 1, 0ms}), std::invalid_argument);
  EXPECT_THROW(limiter.decide("k", RatePolicy{"p", 1, std::chrono::hours(24 * 8)}), std::invalid_argument);
  EXPECT_NO_THROW(limiter.decide("k", RatePolicy{"p", 1'000'000, std::chrono::hours(24 * 7)}));
}

}  // namespace
}  // namespace evolveai::cache
