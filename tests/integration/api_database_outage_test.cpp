#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include <chrono>
#include <string>

#include "support/http_test_client.hpp"
#include "support/redis_process.hpp"
#include "support/telegram_signing.hpp"
#include "support/test_app.hpp"

namespace evolveai {
namespace {

using namespace std::chrono_literals;

constexpr const char* kBotToken = "123456:TEST-bot-token-for-outage-tests";

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

/// A node whose PostgreSQL does not answer: nothing listens on the configured port, and
/// migrations are skipped so that the node starts at all (as it would after a database restart).
class ApiDatabaseOutage : public ::testing::Test {
 protected:
  void SetUp() override {
    auto config = testing::test_config(dir_.path());
    config.telegram.bot_token = kBotToken;
    config.database.url =
        "postgresql://postgres@127.0.0.1:" + std::to_string(testing::free_port()) + "/evolveai_outage";
    config.database.migrate_on_start = false;
    config.database.acquire_timeout = 1s;
    app_ = std::make_unique<testing::TestApp>(config);
  }

  testing::TempDir dir_;
  std::unique_ptr<testing::TestApp> app_;
};

TEST_F(ApiDatabaseOutage, UnreachableDatabaseAnswers503ServiceUnavailable) {
  const std::string body =
      R"({"init_data": ")" + testing::init_data_for(kBotToken, 5151, "Outage", now_seconds()) + R"("})";
  const auto reply =
      testing::http_request(app_->port(), "POST", "/api/v1/auth", body, {{"Content-Type", "application/json"}});
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->status, 503);
  const auto parsed = boost::json::parse(reply->body);
  EXPECT_EQ(parsed.at("error").at("code").as_string(), "service_unavailable");
  // Nothing about the database's address or driver reaches the client.
  EXPECT_EQ(reply->body.find("127.0.0.1"), std::string::npos);
  EXPECT_EQ(reply->body.find("connect"), std::string::npos);
}

TEST_F(ApiDatabaseOutage, ReadinessReportsTheDatabaseDown) {
  const auto reply = testing::http_request(app_->port(), "GET", "/readyz");
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->status, 503);
  EXPECT_FALSE(boost::json::parse(reply->body).at("checks").at("database").at("ok").as_bool());
}

}  // namespace
}  // namespace evolveai
