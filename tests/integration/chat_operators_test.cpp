// What chat turns give the operators, on both storage engines: the `relevant_past` flag turns the
// injection of older messages off, and every model call shows up in the daily statistics.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "fakes/fake_telegram.hpp"
#include "services/auth/crypto_init.hpp"
#include "services/auth/password_hasher.hpp"
#include "storage/store.hpp"
#include "support/chat_test_env.hpp"

namespace evolveai {
namespace {

using testing::FakeGemini;
namespace json = boost::json;

std::string system_text_of(const testing::RecordedRequest& request) {
  const auto body = json::parse(request.body);
  std::string text;
  for (const auto& part : body.at("systemInstruction").at("parts").as_array()) {
    text += std::string(part.at("text").as_string());
  }
  return text;
}

class ChatOperators : public testing::ChatAppTest {
 protected:
  void SetUp() override {
    ChatAppTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) {
      return;
    }
    // The bot front door runs too, against a fake Bot API.
    config_.telegram.api_base_url = telegram_.base_url();
    config_.telegram.mode = "polling";
    config_.telegram.poll_timeout = std::chrono::seconds(1);
  }

  /// An admin token for this application.
  std::string admin_token() {
    const services::auth::CryptoInit crypto;
    const services::auth::PasswordHasher hasher(crypto);
    app_->run(app_->store().create_admin("ops", hasher.hash("correct horse battery staple")));
    const auto reply = testing::call_api(port(), "POST", "/api/v1/admin/login", "",
                                         R"({"username":"ops","password":"correct horse battery staple"})");
    EXPECT_TRUE(reply && reply->status == 200);
    return std::string(testing::json_of(*reply).at("access_token").as_string());
  }

  /// Today's row of the admin statistics.
  json::object today(const std::string& admin) {
    const auto reply = testing::call_api(port(), "GET", "/api/v1/admin/stats?days=7", admin);
    EXPECT_TRUE(reply && reply->status == 200) << (reply ? reply->body : "");
    return testing::json_of(*reply).at("series").as_array().back().as_object();
  }

  void TearDown() override {
    // The application polls the fake Bot API: stop it while the fake still answers.
    stop();
    app_.reset();
  }

  /// Bot API calls among `calls` that answered the chat (texts, drafts, typing), of any status.
  static std::size_t calls_to(const std::vector<testing::TelegramCall>& calls, std::int64_t chat) {
    std::size_t count = 0;
    for (const auto& call : calls) {
      const auto* id = call.params.if_contains("chat_id");
      if (id != nullptr && id->is_int64() && id->as_int64() == chat) {
        ++count;
      }
    }
    return count;
  }

  testing::FakeTelegram telegram_{testing::kChatTestBotToken};
};

TEST_P(ChatOperators, RelevantPastOffKeepsOlderMessagesOutOfTheContext) {
  config_.chat.recent_messages = 2;
  start();
  const auto admin = admin_token();
  const auto flag = testing::call_api(port(), "PUT", "/api/v1/admin/flags", admin,
                                      R"({"flags":{"relevant_past":{"enabled":false,"percentage":100}}})");
  ASSERT_TRUE(flag && flag->status == 200) << (flag ? flag->body : "");
  const auto token = sign_in(6001);
  for (const char* text : {"I play the saxophone every Sunday morning", "What is the weather like", "Tell me a joke"}) {
    const auto reply = testing::post_chat(port(), token, {{"message", text}});
    ASSERT_TRUE(reply && reply->status == 200) << (reply ? reply->body : "");
  }
  const auto off = testing::post_chat(port(), token, {{"message", "Should I practise the saxophone today?"}});
  ASSERT_TRUE(off && off->status == 200);
  EXPECT_EQ(system_text_of(gemini_.requests().back()).find("every Sunday morning"), std::string::npos);

  const auto on = testing::call_api(port(), "PUT", "/api/v1/admin/flags", admin,
                                    R"({"flags":{"relevant_past":{"enabled":true,"percentage":100}}})");
  ASSERT_TRUE(on && on->status == 200);
  const auto again = testing::post_chat(port(), token, {{"message", "Or the saxophone tomorrow?"}});
  ASSERT_TRUE(again && again->status == 200);
  EXPECT_NE(system_text_of(gemini_.requests().back()).find("every Sunday morning"), std::string::npos)
      << "this node changed the flag, so it sees the change at once";
}

TEST_P(ChatOperators, ModelCallsAppearInTodaysStatistics) {
  gemini_.enqueue(FakeGemini::text_reply("Counted", 30, 12));
  start();
  const auto admin = admin_token();
  const auto token = sign_in(6002);
  ASSERT_EQ(testing::post_chat(port(), token, {{"message", "Count my tokens"}})->status, 200);
  gemini_.set_responder([](const testing::RecordedRequest&) { return FakeGemini::rate_limited(); });
  ASSERT_EQ(testing::post_chat(port(), token, {{"message", "And now?"}})->status, 503);

  const auto row = today(admin);
  EXPECT_EQ(row.at("messages").as_int64(), 3) << "two user messages and one reply";
  EXPECT_EQ(row.at("active_users").as_int64(), 1);
  EXPECT_EQ(row.at("new_users").as_int64(), 1);
  EXPECT_EQ(row.at("tokens_in").as_int64(), 30);
  EXPECT_EQ(row.at("tokens_out").as_int64(), 12);
  EXPECT_EQ(row.at("model_errors").as_int64(), 1);
  EXPECT_TRUE(row.at("p95_latency_ms").is_int64());
}

TEST_P(ChatOperators, BanStopsTheUsersApiCallsAndTheBotIgnoresThemAtOnce) {
  start();
  const auto admin = admin_token();
  const auto token = sign_in(6003);
  ASSERT_EQ(testing::call_api(port(), "GET", "/api/v1/profile", token)->status, 200);
  const auto user = app_->run(app_->store().find_user_by_telegram_id(6003));
  ASSERT_TRUE(user);
  const auto ban = testing::call_api(port(), "POST", "/api/v1/admin/users/" + std::to_string(user->id) + "/ban", admin,
                                     R"({"reason":"abuse"})");
  ASSERT_TRUE(ban && ban->status == 200) << (ban ? ban->body : "");

  const auto refused = testing::call_api(port(), "GET", "/api/v1/profile", token);
  EXPECT_EQ(refused->status, 403);
  EXPECT_EQ(testing::error_code_of(*refused), "forbidden");

  // The banned user's message is taken from Telegram and dropped; a later user's is answered.
  telegram_.push_update(testing::text_update(6003, "hello?", "en", "Annie"));
  gemini_.enqueue(FakeGemini::text_reply("Hi Bob"));
  telegram_.push_update(testing::text_update(6004, "hi", "en"));
  ASSERT_TRUE(telegram_.wait_until([](const auto& calls) { return calls_to(calls, 6004) > 0; }));
  ASSERT_TRUE(telegram_.wait_for_calls("sendMessage", 1));
  EXPECT_EQ(app_->run(app_->store().find_user_by_telegram_id(6003))->first_name, "Annie")
      << "the banned user's update was handled (their profile refreshed) before Bob's was answered";
  EXPECT_EQ(calls_to(telegram_.calls(), 6003), 0U) << "nothing was sent to the banned user";
  EXPECT_EQ(app_->run(app_->store().count_messages(user->id, 0)), 0) << "and nothing of theirs was stored";
}

INSTANTIATE_TEST_SUITE_P(Engines, ChatOperators,
                         ::testing::Values(testing::Engine::kSqlite, testing::Engine::kPostgres),
                         testing::engine_param_name);

}  // namespace
}  // namespace evolveai
