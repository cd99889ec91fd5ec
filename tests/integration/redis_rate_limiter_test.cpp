#include "cache/redis_rate_limiter.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>

#include <chrono>
#include <future>
#include <sstream>
#include <thread>
#include <vector>

#include "net/redis_client.hpp"
#include "obs/logger.hpp"
#include "support/redis_process.hpp"

namespace evolveai::cache {
namespace {

using namespace std::chrono_literals;

class RedisRateLimiterTest : public testing::SharedRedisTest {
 protected:
  void SetUp() override {
    testing::SharedRedisTest::SetUp();
    if (IsSkipped() || HasFatalFailure())
      return;
    net::RedisClientOptions options;
    options.url = redis_url();
    // Two clients and two limiters stand for two nodes sharing one Redis.
    for (int node = 0; node < 2; ++node) {
      clients_.push_back(std::make_unique<net::RedisClient>(io_.executor(), options, logger_));
      limiters_.push_back(
          std::make_unique<RedisRateLimiter>(*clients_.back(), RedisRateLimiterOptions{unique_prefix()}));
    }
  }
  void TearDown() override {
    limiters_.clear();
    clients_.clear();
  }
  RateDecision acquire(int node, std::string_view key, const RatePolicy& policy) {
    return io_.run(limiters_.at(node)->acquire(key, policy));
  }

  std::ostringstream log_;
  obs::Logger logger_{obs::LogLevel::kInfo, obs::Logger::Format::kJson, log_};
  testing::IoThreads io_{2};
  std::vector<std::unique_ptr<net::RedisClient>> clients_;
  std::vector<std::unique_ptr<RedisRateLimiter>> limiters_;
};

TEST_F(RedisRateLimiterTest, TwoNodesTogetherLetExactlyTheLimitThrough) {
  const RatePolicy policy{"chat", 10, 1min};
  constexpr int kAttempts = 35;  // N + k, spread over both nodes, all at once
  std::vector<std::future<RateDecision>> decisions;
  decisions.reserve(kAttempts);
  for (int i = 0; i < kAttempts; ++i) {
    decisions.push_back(
        boost::asio::co_spawn(io_.io(), limiters_[i % 2]->acquire("user-1", policy), boost::asio::use_future));
  }
  int allowed = 0;
  for (auto& future : decisions) {
    const auto decision = future.get();
    if (decision.allowed) {
      ++allowed;
    } else {
      EXPECT_GE(decision.retry_after, 1s);
      EXPECT_LE(decision.retry_after, 6s);  // one more every 6 s
      EXPECT_EQ(decision.remaining, 0U);
    }
  }
  EXPECT_EQ(allowed, 10);
}

TEST_F(RedisRateLimiterTest, SequentialAcquisitionsCountDownRemaining) {
  const RatePolicy policy{"tts", 5, 1min};
  for (unsigned i = 0; i < 5; ++i) {
    const auto decision = acquire(static_cast<int>(i % 2), "user-2", policy);
    ASSERT_TRUE(decision.allowed) << i;
    EXPECT_EQ(decision.remaining, 4 - i);
  }
  const auto denied = acquire(0, "user-2", policy);
  EXPECT_FALSE(denied.allowed);
  EXPECT_EQ(denied.retry_after, 12s);
}

TEST_F(RedisRateLimiterTest, OneMoreIsAllowedAfterTheEmissionInterval) {
  const RatePolicy policy{"fast", 2, 1s};  // one per 500 ms
  EXPECT_TRUE(acquire(0, "k", policy).allowed);
  EXPECT_TRUE(acquire(1, "k", policy).allowed);
  const auto denied = acquire(0, "k", policy);
  EXPECT_FALSE(denied.allowed);
  EXPECT_EQ(denied.retry_after, 1s);
  std::this_thread::sleep_for(550ms);
  EXPECT_TRUE(acquire(1, "k", policy).allowed);
  EXPECT_FALSE(acquire(0, "k", policy).allowed);
}

TEST_F(RedisRateLimiterTest, KeysAndPoliciesAreIndependent) {
  const RatePolicy chat{"chat", 1, 1min};
  const RatePolicy auth{"auth", 1, 1min};
  EXPECT_TRUE(acquire(0, "a", chat).allowed);
  EXPECT_FALSE(acquire(1, "a", chat).allowed);
  EXPECT_TRUE(acquire(1, "b", chat).allowed);
  EXPECT_TRUE(acquire(0, "a", auth).allowed);
}

TEST_F(RedisRateLimiterTest, KeysExpireOnceTheirAllowanceIsFullAgain) {
  const RatePolicy policy{"ttl", 4, 2s};
  ASSERT_TRUE(acquire(0, "k", policy).allowed);
  const auto pttl = io_.run(clients_[0]->command({"PTTL", unique_prefix() + "ttl:k"})).as_integer();
  EXPECT_GT(pttl, 0);
  EXPECT_LE(pttl, 500);  // one emission interval
}

TEST_F(RedisRateLimiterTest, ReloadsTheScriptAfterTheServerForgetsIt) {
  const RatePolicy policy{"flush", 3, 1min};
  EXPECT_TRUE(acquire(0, "k", policy).allowed);
  io_.run(clients_[0]->command({"SCRIPT", "FLUSH"}));
  EXPECT_TRUE(acquire(1, "k", policy).allowed);  // NOSCRIPT -> EVAL
  const auto exists = io_.run(clients_[0]->command({"SCRIPT", "EXISTS", limiters_[0]->script_sha1()}));
  ASSERT_EQ(exists.elements.size(), 1U);
  EXPECT_EQ(exists.elements[0].as_integer(), 1);
  EXPECT_TRUE(acquire(0, "k", policy).allowed);
  EXPECT_FALSE(acquire(1, "k", policy).allowed);
}

}  // namespace
}  // namespace evolveai::cache
