#include <gtest/gtest.h>

#include <chrono>
#include <sstream>
#include <thread>

#include "cache/fallback_rate_limiter.hpp"
#include "cache/local_rate_limiter.hpp"
#include "cache/redis_cache.hpp"
#include "cache/redis_rate_limiter.hpp"
#include "net/circuit_breaker.hpp"
#include "net/redis_client.hpp"
#include "net/redis_health.hpp"
#include "obs/logger.hpp"
#include "obs/metrics.hpp"
#include "support/prometheus_parser.hpp"
#include "support/redis_process.hpp"

namespace evolveai {
namespace {

using namespace std::chrono_literals;

class RedisFailoverTest : public testing::PrivateRedisTest {
 protected:
  net::RedisClientOptions options() {
    net::RedisClientOptions result;
    result.url = redis().url();
    result.pool_size = 2;
    result.connect_timeout = 500ms;
    result.command_timeout = 500ms;
    result.reconnect = net::RetrySettings{2, 20ms, 50ms};
    return result;
  }
  double metric(std::string_view sample, const testing::MetricLabels& labels) {
    return testing::parse_prometheus_text(metrics_.render()).value(sample, labels).value_or(-1);
  }

  obs::MetricsRegistry metrics_;
  std::ostringstream log_;
  obs::Logger logger_{obs::LogLevel::kInfo, obs::Logger::Format::kJson, log_};
  testing::IoThreads io_{2};
};

TEST_F(RedisFailoverTest, ReconnectsAfterTheServerRestarts) {
  net::RedisClient client(io_.executor(), options(), logger_);
  EXPECT_EQ(io_.run(client.command({"SET", "k", "before"})).text, "OK");
  redis().kill();
  try {
    io_.run(client.command({"GET", "k"}));
    FAIL() << "the server is gone";
  } catch (const net::RedisError& e) {
    EXPECT_TRUE(net::is_redis_unavailable(e)) << e.what();
  }
  redis().start();
  EXPECT_TRUE(io_.run(client.command({"GET", "k"})).is_nil());  // no persistence: a fresh server
  EXPECT_EQ(io_.run(client.command({"SET", "k", "after"})).text, "OK");
  EXPECT_EQ(io_.run(client.command({"GET", "k"})).as_optional_string(), "after");
}

TEST_F(RedisFailoverTest, AFrozenServerMakesCommandsTimeOutThenRecovers) {
  net::RedisClient client(io_.executor(), options(), logger_);
  EXPECT_EQ(io_.run(client.command({"PING"})).text, "PONG");
  redis().freeze();
  const auto started = std::chrono::steady_clock::now();
  try {
    io_.run(client.command({"PING"}));
    ADD_FAILURE() << "a frozen server cannot answer";
  } catch (const net::RedisError& e) {
    EXPECT_EQ(e.kind(), net::RedisErrorKind::kTimeout) << e.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
  redis().thaw();
  EXPECT_EQ(io_.run(client.command({"PING"})).text, "PONG");
}

TEST_F(RedisFailoverTest, BreakerOpensLocalLimiterAnswersAndBreakerClosesWhenRedisReturns) {
  net::RedisClient client(io_.executor(), options(), logger_);
  net::CircuitBreaker breaker("redis", net::BreakerSettings{3, 500ms, 1}, metrics_, logger_);
  cache::RedisRateLimiter shared(client);
  cache::LocalRateLimiter local;
  cache::FallbackRateLimiter limiter(shared, local, breaker, metrics_, logger_);
  cache::RedisCache redis_cache(client, breaker, cache::RedisCacheOptions{}, metrics_, logger_);
  net::RedisHealthCheck health(client, breaker, 300ms);
  const cache::RatePolicy roomy{"roomy", 1000, 1min};
  const cache::RatePolicy tight{"tight", 3, 1min};
  const auto fallbacks = [&] {
    return metric("evolveai_rate_limiter_fallbacks_total", {{"reason", "error"}}) +
           metric("evolveai_rate_limiter_fallbacks_total", {{"reason", "breaker_open"}});
  };

  // Redis up: the shared limiter decides.
  for (int i = 0; i < 5; ++i)
    EXPECT_TRUE(io_.run(limiter.acquire("u", roomy)).allowed);
  EXPECT_EQ(fallbacks(), 0);
  EXPECT_TRUE(io_.run(health.check()).ok);
  EXPECT_EQ(metric("evolveai_circuit_breaker_state", {{"name", "redis"}}), 0);

  // Redis gone: every call still gets an answer, the breaker opens, the metrics say so.
  redis().kill();
  for (int i = 0; i < 20; ++i) {
    cache::RateDecision decision;
    ASSERT_NO_THROW(decision = io_.run(limiter.acquire("u", roomy))) << i;
    EXPECT_TRUE(decision.allowed);
  }
  EXPECT_EQ(breaker.state(), net::BreakerState::kOpen);
  EXPECT_EQ(metric("evolveai_circuit_breaker_state", {{"name", "redis"}}), 1);
  EXPECT_EQ(metric("evolveai_circuit_breaker_transitions_total", {{"name", "redis"}, {"to", "open"}}), 1);
  EXPECT_EQ(metric("evolveai_rate_limiter_fallbacks_total", {{"reason", "error"}}), 3);
  EXPECT_EQ(metric("evolveai_rate_limiter_fallbacks_total", {{"reason", "breaker_open"}}), 17);
  // ...and the node's own limit holds.
  int allowed = 0;
  for (int i = 0; i < 6; ++i)
    allowed += io_.run(limiter.acquire("u", tight)).allowed ? 1 : 0;
  EXPECT_EQ(allowed, 3);
  // The cache is skipped, and readiness reports Redis degraded, quickly.
  EXPECT_EQ(io_.run(redis_cache.get("x")), std::nullopt);
  EXPECT_NO_THROW(io_.run(redis_cache.set("x", "v", 1s)));
  const auto started = std::chrono::steady_clock::now();
  const auto down = io_.run(health.check());
  EXPECT_LT(std::chrono::steady_clock::now() - started, 300ms);
  EXPECT_FALSE(down.ok);
  EXPECT_TRUE(down.degraded);
  EXPECT_FALSE(down.detail.empty());

  // Redis back: after the open period a probe goes through and closes the breaker.
  redis().start();
  std::this_thread::sleep_for(600ms);
  EXPECT_TRUE(io_.run(limiter.acquire("u", roomy)).allowed);
  EXPECT_EQ(breaker.state(), net::BreakerState::kClosed);
  EXPECT_EQ(metric("evolveai_circuit_breaker_state", {{"name", "redis"}}), 0);
  EXPECT_EQ(metric("evolveai_circuit_breaker_transitions_total", {{"name", "redis"}, {"to", "closed"}}), 1);
  const double before = fallbacks();
  // The shared limiter decides again: a fresh server has no record of "tight", so 3 pass.
  allowed = 0;
  for (int i = 0; i < 6; ++i)
    allowed += io_.run(limiter.acquire("u", tight)).allowed ? 1 : 0;
  EXPECT_EQ(allowed, 3);
  EXPECT_EQ(fallbacks(), before);
  EXPECT_TRUE(io_.run(health.check()).ok);
  logger_.flush();
  EXPECT_NE(log_.str().find("circuit_breaker_transition"), std::string::npos);
}

}  // namespace
}  // namespace evolveai
