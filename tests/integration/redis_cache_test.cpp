#include "cache/redis_cache.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <sstream>
#include <thread>

#include "net/circuit_breaker.hpp"
#include "net/redis_client.hpp"
#include "obs/logger.hpp"
#include "obs/metrics.hpp"
#include "support/prometheus_parser.hpp"
#include "support/redis_process.hpp"

namespace evolveai::cache {
namespace {

using namespace std::chrono_literals;

/// What every cache test needs around it: metrics, a log, I/O threads.
struct Fixture {
  double metric(std::string_view sample, const testing::MetricLabels& labels) {
    return testing::parse_prometheus_text(metrics.render()).value(sample, labels).value_or(-1);
  }
  obs::MetricsRegistry metrics;
  std::ostringstream log;
  obs::Logger logger{obs::LogLevel::kInfo, obs::Logger::Format::kJson, log};
  testing::IoThreads io{2};
};

class RedisCacheTest : public testing::SharedRedisTest {
 protected:
  void SetUp() override {
    testing::SharedRedisTest::SetUp();
    if (IsSkipped() || HasFatalFailure())
      return;
    net::RedisClientOptions options;
    options.url = redis_url();
    client_ = std::make_unique<net::RedisClient>(f_.io.executor(), options, f_.logger);
    breaker_ = std::make_unique<net::CircuitBreaker>("redis", net::BreakerSettings{3, 1s, 1}, f_.metrics, f_.logger);
    cache_ = std::make_unique<RedisCache>(*client_, *breaker_, RedisCacheOptions{"redis", unique_prefix()}, f_.metrics,
                                          f_.logger);
  }
  void TearDown() override {
    cache_.reset();
    breaker_.reset();
    client_.reset();
  }

  Fixture f_;
  std::unique_ptr<net::RedisClient> client_;
  std::unique_ptr<net::CircuitBreaker> breaker_;
  std::unique_ptr<RedisCache> cache_;
};

TEST_F(RedisCacheTest, StoresReadsAndErasesUnderItsPrefix) {
  f_.io.run(cache_->set("profile:17", "{\"id\":17}", 10s));
  EXPECT_EQ(f_.io.run(cache_->get("profile:17")), "{\"id\":17}");
  EXPECT_EQ(f_.io.run(client_->command({"GET", unique_prefix() + "profile:17"})).as_optional_string(), "{\"id\":17}");
  const auto ttl_ms = f_.io.run(client_->command({"PTTL", unique_prefix() + "profile:17"})).as_integer();
  EXPECT_GT(ttl_ms, 9000);
  EXPECT_LE(ttl_ms, 10000);
  f_.io.run(cache_->erase("profile:17"));
  EXPECT_EQ(f_.io.run(cache_->get("profile:17")), std::nullopt);
  EXPECT_EQ(f_.metric("evolveai_cache_requests_total", {{"cache", "redis"}, {"result", "hit"}}), 1);
  EXPECT_EQ(f_.metric("evolveai_cache_requests_total", {{"cache", "redis"}, {"result", "miss"}}), 1);
  EXPECT_EQ(f_.metric("evolveai_cache_writes_total", {{"cache", "redis"}, {"result", "ok"}}), 2);
}

TEST_F(RedisCacheTest, EntriesExpire) {
  f_.io.run(cache_->set("short", "v", 150ms));
  EXPECT_EQ(f_.io.run(cache_->get("short")), "v");
  std::this_thread::sleep_for(400ms);
  EXPECT_EQ(f_.io.run(cache_->get("short")), std::nullopt);
}

TEST_F(RedisCacheTest, CorruptEntriesAreErasedAndCounted) {
  f_.io.run(cache_->set("bad", "\xff not json", 10s));
  const auto decode = [](std::string_view text) -> std::optional<std::string> {
    if (text.empty() || text.front() != '{')
      return std::nullopt;
    return std::string(text);
  };
  EXPECT_EQ(f_.io.run(get_decoded<std::string>(*cache_, "bad", decode)), std::nullopt);
  EXPECT_TRUE(f_.io.run(client_->command({"GET", unique_prefix() + "bad"})).is_nil());
  EXPECT_EQ(f_.metric("evolveai_cache_corrupt_entries_total", {{"cache", "redis"}}), 1);
}

TEST(RedisCacheDegraded, AnUnreachableRedisMeansMissesThenSkipsNeverErrors) {
  Fixture f;
  net::RedisClientOptions options;
  options.url = "redis://127.0.0.1:" + std::to_string(testing::free_port()) + "/0";
  options.reconnect = net::RetrySettings{1, 1ms, 1ms};
  net::RedisClient client(f.io.executor(), options, f.logger);
  net::CircuitBreaker breaker("redis", net::BreakerSettings{2, 1min, 1}, f.metrics, f.logger);
  RedisCache cache(client, breaker, RedisCacheOptions{}, f.metrics, f.logger);

  EXPECT_EQ(f.io.run(cache.get("a")), std::nullopt);
  EXPECT_NO_THROW(f.io.run(cache.set("a", "v", 1s)));
  EXPECT_EQ(breaker.state(), net::BreakerState::kOpen);
  EXPECT_EQ(f.io.run(cache.get("a")), std::nullopt);
  EXPECT_NO_THROW(f.io.run(cache.erase("a")));
  EXPECT_EQ(f.metric("evolveai_cache_requests_total", {{"cache", "redis"}, {"result", "error"}}), 1);
  EXPECT_EQ(f.metric("evolveai_cache_requests_total", {{"cache", "redis"}, {"result", "skipped"}}), 1);
  EXPECT_EQ(f.metric("evolveai_cache_writes_total", {{"cache", "redis"}, {"result", "error"}}), 1);
  EXPECT_EQ(f.metric("evolveai_cache_writes_total", {{"cache", "redis"}, {"result", "skipped"}}), 1);
  f.logger.flush();
  EXPECT_NE(f.log.str().find("cache_error"), std::string::npos);
}

}  // namespace
}  // namespace evolveai::cache
