#include "cache/fallback_rate_limiter.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <chrono>
#include <sstream>
#include <stdexcept>

#include "cache/local_rate_limiter.hpp"
#include "net/circuit_breaker.hpp"
#include "obs/logger.hpp"
#include "obs/metrics.hpp"
#include "support/prometheus_parser.hpp"

namespace evolveai::cache {
namespace {

using namespace std::chrono_literals;
using TimePoint = std::chrono::steady_clock::time_point;

template <typename T>
T run(Task<T> task) {
  boost::asio::io_context io;
  auto future = boost::asio::co_spawn(io, std::move(task), boost::asio::use_future);
  io.run();
  return future.get();
}

/// A shared limiter that answers a fixed decision or fails, counting its calls.
class FakeSharedLimiter final : public RateLimiter {
 public:
  Task<RateDecision> acquire(std::string_view, const RatePolicy&) override {
    ++calls;
    if (failing)
      throw std::runtime_error("redis down");
    co_return RateDecision{false, 7s, 0};
  }
  bool failing = false;
  int calls = 0;
};

class FallbackRateLimiterTest : public ::testing::Test {
 protected:
  double fallbacks(std::string_view reason) {
    return testing::parse_prometheus_text(metrics_.render())
        .value("evolveai_rate_limiter_fallbacks_total", {{"reason", std::string(reason)}})
        .value_or(-1);
  }

  TimePoint now_{std::chrono::hours(100)};
  obs::MetricsRegistry metrics_;
  std::ostringstream log_;
  obs::Logger logger_{obs::LogLevel::kInfo, obs::Logger::Format::kJson, log_};
  FakeSharedLimiter shared_;
  LocalRateLimiter local_{LocalRateLimiterOptions{}, [this] { return now_; }};
  net::CircuitBreaker breaker_{"redis", net::BreakerSettings{2, 5s, 1}, metrics_, logger_, [this] { return now_; }};
  FallbackRateLimiter limiter_{shared_, local_, breaker_, metrics_, logger_};
  const RatePolicy policy_{"chat", 2, 1min};
};

TEST_F(FallbackRateLimiterTest, UsesTheSharedLimiterWhileItWorks) {
  const auto decision = run(limiter_.acquire("u", policy_));
  EXPECT_FALSE(decision.allowed);  // the fake's answer, not the local limiter's
  EXPECT_EQ(decision.retry_after, 7s);
  EXPECT_EQ(shared_.calls, 1);
  EXPECT_EQ(fallbacks("error"), 0);
  EXPECT_EQ(fallbacks("breaker_open"), 0);
}

TEST_F(FallbackRateLimiterTest, TheLocalLimiterDecidesWhenTheSharedOneFailsThenWhileTheBreakerIsOpen) {
  shared_.failing = true;
  EXPECT_TRUE(run(limiter_.acquire("u", policy_)).allowed);
  EXPECT_TRUE(run(limiter_.acquire("u", policy_)).allowed);
  EXPECT_EQ(breaker_.state(), net::BreakerState::kOpen);
  EXPECT_EQ(fallbacks("error"), 2);
  // Open: the shared limiter is not asked at all, and the local limit holds.
  EXPECT_FALSE(run(limiter_.acquire("u", policy_)).allowed);
  EXPECT_EQ(shared_.calls, 2);
  EXPECT_EQ(fallbacks("breaker_open"), 1);

  // Back after the open period: the probe succeeds and the shared limiter decides again.
  shared_.failing = false;
  now_ += 5s;
  EXPECT_EQ(run(limiter_.acquire("u", policy_)).retry_after, 7s);
  EXPECT_EQ(breaker_.state(), net::BreakerState::kClosed);
  EXPECT_EQ(shared_.calls, 3);
  logger_.flush();
  EXPECT_NE(log_.str().find("rate_limiter_fallback"), std::string::npos);
}

TEST_F(FallbackRateLimiterTest, AnInvalidPolicyIsAnErrorNotAFallback) {
  EXPECT_THROW(run(limiter_.acquire("u", RatePolicy{"bad", 0, 1s})), std::invalid_argument);
  EXPECT_EQ(shared_.calls, 0);
}

}  // namespace
}  // namespace evolveai::cache
