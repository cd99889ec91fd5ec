#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <thread>

#include "support/http_test_client.hpp"
#include "support/prometheus_parser.hpp"
#include "support/redis_process.hpp"
#include "support/telegram_signing.hpp"
#include "support/test_app.hpp"

namespace evolveai {
namespace {

using namespace std::chrono_literals;

/// The bot token the test server is configured with.
std::string bot_token() {
  return "123456:TEST-bot-token-for-redis-tests";
}

class RedisFrontDoor : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const auto reason = testing::redis_server_unavailable_reason()) {
      if (testing::services_required()) {
        FAIL() << *reason;
      }
      GTEST_SKIP() << *reason;
    }
    redis_ = std::make_unique<testing::RedisProcess>();
  }

  app::Config node_config(const testing::TempDir& dir) const {
    auto config = testing::test_config(dir.path());
    config.telegram.bot_token = bot_token();
    config.redis.url = redis_->url();
    config.redis.command_timeout = 300ms;
    config.redis.connect_timeout = 300ms;
    config.redis.breaker_failures = 2;
    config.redis.breaker_open_duration = 500ms;
    return config;
  }

  static std::optional<double> breaker_state(std::uint16_t port) {
    const auto reply = testing::http_request(port, "GET", "/metrics");
    return testing::parse_prometheus_text(reply->body).value("evolveai_circuit_breaker_state", {{"name", "redis"}});
  }

  std::unique_ptr<testing::RedisProcess> redis_;
};

TEST_F(RedisFrontDoor, TwoNodesSharingRedisEnforceOneGlobalLimit) {
  testing::TempDir first_dir;
  testing::TempDir second_dir;
  auto first_config = node_config(first_dir);
  auto second_config = node_config(second_dir);
  first_config.rate_limits.auth_per_min = 5;
  second_config.rate_limits.auth_per_min = 5;
  testing::TestApp first(first_config);
  testing::TestApp second(second_config);

  int allowed = 0;
  int limited = 0;
  for (int i = 0; i < 12; ++i) {
    const auto port = i % 2 == 0 ? first.port() : second.port();
    const auto reply =
        testing::http_request(port, "POST", "/api/v1/auth", "{}", {{"Content-Type", "application/json"}});
    ASSERT_TRUE(reply);
    (reply->status == 429 ? limited : allowed) += 1;
  }
  // Each node alone would let 5 through (10 in all); shared through Redis only 5 pass.
  EXPECT_EQ(allowed, 5);
  EXPECT_EQ(limited, 7);
}

TEST_F(RedisFrontDoor, BanOnOneNodeStopsTheCachedUserOnAnotherAtOnce) {
  testing::TempDir first_dir;
  testing::TempDir second_dir;
  auto first_config = node_config(first_dir);
  auto second_config = node_config(second_dir);
  first_config.redis.user_cache_ttl = 1h;
  second_config.redis.user_cache_ttl = 1h;
  second_config.database.url = first_config.database.url;
  testing::TestApp first(first_config);
  testing::TestApp second(second_config);

  const auto init_data = testing::init_data_for(
      bot_token(), 880002, "Vera",
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
  const auto signed_in = testing::http_request(second.port(), "POST", "/api/v1/auth",
                                               boost::json::serialize(boost::json::object{{"init_data", init_data}}),
                                               {{"Content-Type", "application/json"}});
  ASSERT_TRUE(signed_in);
  ASSERT_EQ(signed_in->status, 200) << signed_in->body;
  const auto body = boost::json::parse(signed_in->body);
  const std::string token(body.at("access_token").as_string());
  const auto user_id = body.at("user").at("id").as_int64();
  const auto profile = [&] {
    return testing::http_request(second.port(), "GET", "/api/v1/profile", {}, {{"Authorization", "Bearer " + token}});
  };
  ASSERT_EQ(profile()->status, 200);
  ASSERT_EQ(profile()->status, 200);  // now served from the shared cache

  ASSERT_TRUE(first.run(first.store().set_user_banned(user_id, true)));
  const auto banned = profile();
  ASSERT_TRUE(banned);
  EXPECT_EQ(banned->status, 403) << banned->body;
}

TEST_F(RedisFrontDoor, ServiceKeepsAnsweringWhileRedisIsDownAndRecovers) {
  testing::TempDir dir;
  auto config = node_config(dir);
  config.rate_limits.api_per_min = 100000;
  testing::TestApp app(config);
  const auto init_data = testing::init_data_for(
      bot_token(), 880001, "Rita",
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
  const auto signed_in = testing::http_request(app.port(), "POST", "/api/v1/auth",
                                               boost::json::serialize(boost::json::object{{"init_data", init_data}}),
                                               {{"Content-Type", "application/json"}});
  ASSERT_TRUE(signed_in);
  ASSERT_EQ(signed_in->status, 200) << signed_in->body;
  const std::string token(boost::json::parse(signed_in->body).at("access_token").as_string());
  const auto profile = [&] {
    return testing::http_request(app.port(), "GET", "/api/v1/profile", {}, {{"Authorization", "Bearer " + token}});
  };
  EXPECT_EQ(breaker_state(app.port()), 0.0);

  redis_->kill();
  for (int i = 0; i < 30; ++i) {
    const auto reply = profile();
    ASSERT_TRUE(reply);
    ASSERT_EQ(reply->status, 200) << "request " << i << " while Redis is down: " << reply->body;
  }
  EXPECT_EQ(breaker_state(app.port()), 1.0);
  const auto ready = testing::http_request(app.port(), "GET", "/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200) << ready->body;
  EXPECT_TRUE(boost::json::parse(ready->body).at("checks").at("redis").at("degraded").as_bool());

  redis_->start();
  std::optional<double> state;
  for (int i = 0; i < 100 && state != 0.0; ++i) {
    std::this_thread::sleep_for(50ms);
    const auto reply = profile();
    ASSERT_TRUE(reply);
    ASSERT_EQ(reply->status, 200);
    state = breaker_state(app.port());
  }
  EXPECT_EQ(state, 0.0) << "the breaker closes once Redis answers again";
  // The shared limiter is used again: Redis now holds this user's bucket.
  const auto fallbacks_before =
      testing::parse_prometheus_text(testing::http_request(app.port(), "GET", "/metrics")->body)
          .value("evolveai_rate_limiter_fallbacks_total", {{"reason", "breaker_open"}})
          .value_or(0);
  ASSERT_EQ(profile()->status, 200);
  const auto fallbacks_after =
      testing::parse_prometheus_text(testing::http_request(app.port(), "GET", "/metrics")->body)
          .value("evolveai_rate_limiter_fallbacks_total", {{"reason", "breaker_open"}})
          .value_or(0);
  EXPECT_EQ(fallbacks_after, fallbacks_before);
}

}  // namespace
}  // namespace evolveai
