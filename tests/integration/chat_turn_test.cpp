// Chat turns end to end through HTTP against the fake Gemini server, on both storage engines:
// history across restarts, relevant old messages in the context, idempotent repeats, the daily
// quota under concurrency, upstream failures and blocked prompts.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <latch>
#include <set>
#include <thread>

#include "support/chat_test_env.hpp"
#include "support/telegram_signing.hpp"

namespace evolveai {
namespace {

using namespace std::chrono_literals;
using testing::ChatAppTest;
using testing::FakeGemini;

namespace json = boost::json;

/// The request body the fake received, parsed.
json::object request_body(const testing::RecordedRequest& request) {
  return json::parse(request.body).as_object();
}

/// All text parts of the request's `contents`, as (role, text) pairs.
std::vector<std::pair<std::string, std::string>> turns_of(const json::object& body) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& content : body.at("contents").as_array()) {
    const auto role = std::string(content.at("role").as_string());
    for (const auto& part : content.at("parts").as_array()) {
      if (const auto* text = part.as_object().if_contains("text")) {
        out.emplace_back(role, std::string(text->as_string()));
      }
    }
  }
  return out;
}

std::string system_text(const json::object& body) {
  std::string text;
  for (const auto& part : body.at("systemInstruction").at("parts").as_array()) {
    text += std::string(part.at("text").as_string());
  }
  return text;
}

std::int64_t messages_today(std::uint16_t port, const std::string& token) {
  const auto reply = testing::call_api(port, "GET", "/api/v1/profile", token);
  EXPECT_TRUE(reply && reply->status == 200);
  return testing::json_of(*reply).at("usage").at("messages_today").as_int64();
}

class ChatTurn : public ChatAppTest {};

TEST_P(ChatTurn, ConversationSurvivesARestartAndTheModelSeesIt) {
  start();
  auto token = sign_in(5001, "Ann");
  gemini_.enqueue(FakeGemini::text_reply("Nice to meet you, Ann! Luna is a lovely name."));
  const auto first = testing::post_chat(port(), token, {{"message", "My cat is called Luna"}});
  ASSERT_TRUE(first);
  ASSERT_EQ(first->status, 200) << first->body;
  const auto first_body = testing::json_of(*first);
  EXPECT_EQ(first_body.at("reply").as_string(), "Nice to meet you, Ann! Luna is a lovely name.");
  EXPECT_EQ(first_body.at("finish_reason").as_string(), "stop");
  EXPECT_EQ(first_body.at("usage").at("messages_today").as_int64(), 1);
  EXPECT_EQ(first_body.at("usage").at("daily_limit").as_int64(), 50);
  EXPECT_GT(first_body.at("message_id").as_int64(), first_body.at("user_message_id").as_int64());

  stop();
  start();
  token = sign_in(5001, "Ann");
  gemini_.enqueue(FakeGemini::text_reply("Your cat is called Luna."));
  const auto second = testing::post_chat(port(), token, {{"message", "What is my cat called?"}});
  ASSERT_TRUE(second);
  ASSERT_EQ(second->status, 200) << second->body;

  const auto requests = gemini_.requests();
  ASSERT_EQ(requests.size(), 2U);
  const auto body = request_body(requests.back());
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"user", "My cat is called Luna"},
      {"model", "Nice to meet you, Ann! Luna is a lovely name."},
      {"user", "What is my cat called?"}};
  EXPECT_EQ(turns_of(body), expected);
  EXPECT_NE(system_text(body).find("Ann"), std::string::npos);

  const auto history = testing::call_api(port(), "GET", "/api/v1/history", token);
  ASSERT_TRUE(history);
  ASSERT_EQ(history->status, 200);
  const auto history_body = testing::json_of(*history);
  const auto& messages = history_body.at("messages").as_array();
  ASSERT_EQ(messages.size(), 4U);
  EXPECT_EQ(messages[0].at("content").as_string(), "Your cat is called Luna.");
  EXPECT_EQ(messages[0].at("role").as_string(), "assistant");
  EXPECT_EQ(messages[3].at("content").as_string(), "My cat is called Luna");
  EXPECT_EQ(messages[3].at("role").as_string(), "user");
  EXPECT_FALSE(messages[3].at("has_image").as_bool());
  EXPECT_TRUE(testing::json_of(*history).at("next_before_id").is_null());
}

TEST_P(ChatTurn, HistoryPagesNewestFirstWithACursor) {
  start();
  const auto token = sign_in(5002);
  for (int i = 0; i < 3; ++i) {
    const auto reply = testing::post_chat(port(), token, {{"message", "message " + std::to_string(i)}});
    ASSERT_TRUE(reply && reply->status == 200);
  }
  const auto page = testing::call_api(port(), "GET", "/api/v1/history?limit=4", token);
  ASSERT_TRUE(page && page->status == 200) << (page ? page->body : "");
  const auto body = testing::json_of(*page);
  ASSERT_EQ(body.at("messages").as_array().size(), 4U);
  const auto cursor = body.at("next_before_id").as_int64();
  const auto rest =
      testing::call_api(port(), "GET", "/api/v1/history?limit=4&before_id=" + std::to_string(cursor), token);
  ASSERT_TRUE(rest && rest->status == 200);
  const auto rest_body = testing::json_of(*rest);
  const auto& older = rest_body.at("messages").as_array();
  ASSERT_EQ(older.size(), 2U);
  EXPECT_EQ(older[1].at("content").as_string(), "message 0");
  EXPECT_EQ(testing::call_api(port(), "GET", "/api/v1/history?limit=101", token)->status, 400);
}

TEST_P(ChatTurn, SearchFindsAnOldMessageAndItIsInjectedIntoTheContext) {
  config_.chat.recent_messages = 2;
  start();
  const auto token = sign_in(5003);
  const std::vector<std::string> said = {"I play the saxophone every Sunday morning", "What is the weather like",
                                         "Tell me a joke", "Thanks, that was funny"};
  std::int64_t old_id = 0;
  for (const auto& text : said) {
    const auto reply = testing::post_chat(port(), token, {{"message", text}});
    ASSERT_TRUE(reply && reply->status == 200) << (reply ? reply->body : "");
    if (old_id == 0) {
      old_id = testing::json_of(*reply).at("user_message_id").as_int64();
    }
  }

  const auto search = testing::call_api(port(), "GET", "/api/v1/search?q=saxophone", token);
  ASSERT_TRUE(search);
  ASSERT_EQ(search->status, 200) << search->body;
  const auto search_body = testing::json_of(*search);
  const auto& results = search_body.at("results").as_array();
  ASSERT_EQ(results.size(), 1U);
  EXPECT_EQ(results[0].at("message_id").as_int64(), old_id);
  EXPECT_EQ(results[0].at("role").as_string(), "user");
  EXPECT_NE(std::string(results[0].at("snippet").as_string()).find("<mark>saxophone</mark>"), std::string::npos);

  const auto reply = testing::post_chat(port(), token, {{"message", "Should I practise the saxophone today?"}});
  ASSERT_TRUE(reply && reply->status == 200);
  const auto body = request_body(gemini_.requests().back());
  EXPECT_NE(system_text(body).find("I play the saxophone every Sunday morning"), std::string::npos)
      << system_text(body);
  for (const auto& [role, text] : turns_of(body)) {
    EXPECT_EQ(text.find("every Sunday"), std::string::npos) << "quoted, not a conversation turn";
  }
}

TEST_P(ChatTurn, SearchValidatesItsQuery) {
  start();
  const auto token = sign_in(5004);
  EXPECT_EQ(testing::call_api(port(), "GET", "/api/v1/search", token)->status, 400);
  EXPECT_EQ(testing::call_api(port(), "GET", "/api/v1/search?q=" + std::string(201, 'a'), token)->status, 400);
  EXPECT_EQ(testing::call_api(port(), "GET", "/api/v1/search?q=a&limit=51", token)->status, 400);
  // Operators and quotes are plain text, never a syntax error.
  const auto odd =
      testing::call_api(port(), "GET", "/api/v1/search?q=" + testing::url_encode("\"a\" OR NEAR(b*) -"), token);
  ASSERT_TRUE(odd);
  EXPECT_EQ(odd->status, 200) << odd->body;
}

TEST_P(ChatTurn, RepeatedClientMessageIdIsAnsweredOnceAndCountedOnce) {
  start();
  const auto token = sign_in(5005);
  gemini_.enqueue(FakeGemini::text_reply("First answer"));
  const json::object request{{"message", "Hello there"}, {"client_message_id", "c-dup-1"}};
  const auto first = testing::post_chat(port(), token, request);
  const auto again = testing::post_chat(port(), token, request);
  ASSERT_TRUE(first && again);
  ASSERT_EQ(first->status, 200) << first->body;
  ASSERT_EQ(again->status, 200) << again->body;
  EXPECT_EQ(testing::json_of(*again).at("message_id"), testing::json_of(*first).at("message_id"));
  EXPECT_EQ(testing::json_of(*again).at("reply").as_string(), "First answer");
  EXPECT_EQ(testing::json_of(*again).at("usage").at("messages_today").as_int64(), 1);
  EXPECT_EQ(gemini_.request_count(), 1U);
  EXPECT_EQ(messages_today(port(), token), 1);
}

TEST_P(ChatTurn, ConcurrentRepeatsNeverProduceASecondReply) {
  config_.limits.free_daily_messages = 2;
  config_.rate_limits.chat_per_min = 10'000;
  start();
  const auto token = sign_in(5006);
  // A slow first answer keeps the first turn running while the repeats arrive.
  auto slow = FakeGemini::text_reply("The only answer");
  slow.first_byte_delay = 300ms;
  gemini_.enqueue(slow);
  constexpr int kRepeats = 6;
  std::vector<std::optional<testing::HttpReply>> replies(kRepeats);
  std::latch go(kRepeats);
  std::vector<std::thread> threads;
  for (int i = 0; i < kRepeats; ++i) {
    threads.emplace_back([&, i] {
      go.arrive_and_wait();
      replies[i] = testing::post_chat(port(), token, {{"message", "Only once"}, {"client_message_id", "c-race"}});
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  std::set<std::int64_t> reply_ids;
  for (const auto& reply : replies) {
    ASSERT_TRUE(reply);
    ASSERT_TRUE(reply->status == 200 || reply->status == 409) << reply->status << " " << reply->body;
    if (reply->status == 200) {
      reply_ids.insert(testing::json_of(*reply).at("message_id").as_int64());
    } else {
      EXPECT_EQ(testing::error_code_of(*reply), "conflict");
    }
  }
  EXPECT_EQ(reply_ids.size(), 1U);
  EXPECT_EQ(gemini_.request_count(), 1U);
  const auto messages = stored_messages(token);
  ASSERT_EQ(messages.size(), 2U) << json::serialize(messages);
  EXPECT_EQ(messages[1].at("role").as_string(), "assistant");
  // Counted once: of a daily limit of 2, exactly one unit is left.
  const auto second = testing::post_chat(port(), token, {{"message", "second"}});
  const auto third = testing::post_chat(port(), token, {{"message", "third"}});
  ASSERT_TRUE(second && third);
  EXPECT_EQ(second->status, 200) << second->body;
  EXPECT_EQ(testing::error_code_of(*third), "quota_exceeded");
}

TEST_P(ChatTurn, FiftyParallelTurnsWithTenUnitsLeftGrantExactlyTen) {
  config_.limits.free_daily_messages = 10;
  config_.rate_limits.chat_per_min = 10'000;
  start();
  const auto token = sign_in(5007);
  constexpr int kTurns = 50;
  std::vector<std::optional<testing::HttpReply>> replies(kTurns);
  std::latch go(kTurns);
  std::vector<std::thread> threads;
  for (int i = 0; i < kTurns; ++i) {
    threads.emplace_back([&, i] {
      go.arrive_and_wait();
      replies[i] = testing::post_chat(port(), token, {{"message", "turn " + std::to_string(i)}});
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  int ok = 0;
  int refused = 0;
  for (const auto& reply : replies) {
    ASSERT_TRUE(reply);
    if (reply->status == 200) {
      ++ok;
    } else {
      ASSERT_EQ(reply->status, 429) << reply->body;
      EXPECT_EQ(testing::error_code_of(*reply), "quota_exceeded");
      EXPECT_TRUE(testing::json_of(*reply).at("error").as_object().contains("resets_at"));
      EXPECT_FALSE(reply->header("retry-after").empty());
      ++refused;
    }
  }
  EXPECT_EQ(ok, 10);
  EXPECT_EQ(refused, 40);
  EXPECT_EQ(gemini_.request_count(), 10U);
  // The counter stands at exactly the limit: refusals gave nothing back they had not taken.
  const auto one_more = testing::post_chat(port(), token, {{"message", "one more"}});
  ASSERT_TRUE(one_more);
  EXPECT_EQ(testing::error_code_of(*one_more), "quota_exceeded");
}

TEST_P(ChatTurn, UpstreamRateLimitIsRetriedThen503AndCostsNothing) {
  gemini_.set_responder([](const testing::RecordedRequest&) { return FakeGemini::rate_limited(); });
  start();
  const auto token = sign_in(5008);
  const auto reply = testing::post_chat(port(), token, {{"message", "Are you there?"}});
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 503) << reply->body;
  EXPECT_EQ(testing::error_code_of(*reply), "upstream_unavailable");
  EXPECT_EQ(gemini_.request_count(), 3U) << "the first try and max_retries = 2 retries";
  EXPECT_EQ(messages_today(port(), token), 0) << "a failed turn gives its quota unit back";
  const auto messages = stored_messages(token);
  ASSERT_EQ(messages.size(), 1U) << "the user message is kept";
  EXPECT_EQ(messages[0].at("content").as_string(), "Are you there?");
  EXPECT_EQ(messages[0].at("status").as_string(), "failed");
}

TEST_P(ChatTurn, FailedMessageRepeatedWithItsIdRunsAgain) {
  gemini_.enqueue(FakeGemini::error(500, "INTERNAL", "boom"));
  gemini_.enqueue(FakeGemini::error(500, "INTERNAL", "boom"));
  gemini_.enqueue(FakeGemini::error(500, "INTERNAL", "boom"));
  gemini_.enqueue(FakeGemini::text_reply("Back again"));
  start();
  const auto token = sign_in(5009);
  const json::object request{{"message", "Try me"}, {"client_message_id", "c-retry"}};
  const auto failed = testing::post_chat(port(), token, request);
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->status, 503) << failed->body;
  const auto retried = testing::post_chat(port(), token, request);
  ASSERT_TRUE(retried);
  ASSERT_EQ(retried->status, 200) << retried->body;
  EXPECT_EQ(testing::json_of(*retried).at("reply").as_string(), "Back again");
  const auto messages = stored_messages(token);
  ASSERT_EQ(messages.size(), 2U) << "one user message, one reply";
  EXPECT_EQ(messages[0].at("status").as_string(), "complete");
  EXPECT_EQ(testing::json_of(*retried).at("user_message_id"), messages[0].at("id"));
  EXPECT_EQ(messages_today(port(), token), 1);
}

TEST_P(ChatTurn, BlockedPromptIsAFriendlyReplyWithFinishReasonSafety) {
  gemini_.enqueue(FakeGemini::blocked_prompt(false));
  start();
  const auto token = sign_in(5010);
  const auto reply = testing::post_chat(port(), token, {{"message", "something the filters dislike"}});
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->status, 200) << reply->body;
  const auto body = testing::json_of(*reply);
  EXPECT_EQ(body.at("finish_reason").as_string(), "safety");
  EXPECT_FALSE(body.at("reply").as_string().empty());
  const auto messages = stored_messages(token);
  ASSERT_EQ(messages.size(), 2U);
  EXPECT_EQ(messages[1].at("finish_reason").as_string(), "safety");
  EXPECT_EQ(messages[1].at("content"), body.at("reply"));
}

TEST_P(ChatTurn, ReplyIsStoredWithTokenUsage) {
  gemini_.enqueue(FakeGemini::text_reply("Counted", 30, 12));
  start();
  const auto token = sign_in(5011);
  const auto reply = testing::post_chat(port(), token, {{"message", "Count my tokens"}});
  ASSERT_TRUE(reply && reply->status == 200);
  const auto messages = stored_messages(token);
  ASSERT_EQ(messages.size(), 2U);
  EXPECT_EQ(messages[1].at("tokens").as_int64(), 42);
  EXPECT_EQ(messages[1].at("finish_reason").as_string(), "stop");
  EXPECT_EQ(messages[1].at("reply_to_id"), messages[0].at("id"));
  EXPECT_TRUE(messages[0].at("finish_reason").is_null());
}

TEST_P(ChatTurn, HistorySearchAndExportOnlyEverShowTheCallersOwnMessages) {
  start();
  const auto ann = sign_in(5012, "Ann");
  const auto bob = sign_in(5013, "Bob");
  gemini_.enqueue(FakeGemini::text_reply("Ann's pineapple reply"));
  const auto ann_reply = testing::post_chat(port(), ann, {{"message", "my secret pineapple recipe"}});
  ASSERT_TRUE(ann_reply && ann_reply->status == 200);
  const auto ann_message_id = testing::json_of(*ann_reply).at("message_id").as_int64();
  gemini_.enqueue(FakeGemini::text_reply("Bob's reply"));
  const auto bob_reply = testing::post_chat(port(), bob, {{"message", "a note from bob"}});
  ASSERT_TRUE(bob_reply && bob_reply->status == 200);

  const auto history =
      testing::call_api(port(), "GET", "/api/v1/history?before_id=" + std::to_string(ann_message_id + 1), bob);
  ASSERT_TRUE(history && history->status == 200);
  const auto history_text = history->body;
  EXPECT_EQ(history_text.find("pineapple"), std::string::npos) << history_text;
  const auto history_body = testing::json_of(*history);
  for (const auto& message : history_body.at("messages").as_array()) {
    EXPECT_NE(message.at("id").as_int64(), ann_message_id);
  }
  const auto search = testing::call_api(port(), "GET", "/api/v1/search?q=pineapple", bob);
  ASSERT_TRUE(search && search->status == 200);
  EXPECT_TRUE(testing::json_of(*search).at("results").as_array().empty()) << search->body;
  const auto exported = testing::call_api(port(), "GET", "/api/v1/export", bob);
  ASSERT_TRUE(exported && exported->status == 200);
  EXPECT_EQ(exported->body.find("pineapple"), std::string::npos);
  EXPECT_NE(exported->header("content-disposition").find("attachment"), std::string::npos);
  EXPECT_EQ(testing::json_of(*exported).at("messages").as_array().size(), 2U);

  const auto own = testing::call_api(port(), "GET", "/api/v1/search?q=pineapple", ann);
  ASSERT_TRUE(own && own->status == 200);
  EXPECT_EQ(testing::json_of(*own).at("results").as_array().size(), 2U);
}

TEST_P(ChatTurn, ForgettingHistoryDeletesOnlyTheCallersMessages) {
  start();
  const auto ann = sign_in(5014, "Ann");
  const auto bob = sign_in(5015, "Bob");
  ASSERT_EQ(testing::post_chat(port(), ann, {{"message", "remember this"}})->status, 200);
  ASSERT_EQ(testing::post_chat(port(), bob, {{"message", "and this"}})->status, 200);
  const auto forgot = testing::call_api(port(), "DELETE", "/api/v1/history", ann);
  ASSERT_TRUE(forgot);
  EXPECT_EQ(forgot->status, 204);
  EXPECT_TRUE(stored_messages(ann).empty());
  EXPECT_EQ(stored_messages(bob).size(), 2U);
}

TEST_P(ChatTurn, AWholeTurnMayOutlastTheServersRequestTimeoutWhileTheModelIsWithinItsOwn) {
  config_.server.request_timeout = 300ms;
  config_.llm.total_timeout = 10s;
  start();
  const auto token = sign_in(5301);
  auto slow = FakeGemini::text_reply("Worth the wait.");
  slow.first_byte_delay = 900ms;
  gemini_.enqueue(slow);
  const auto reply = testing::post_chat(port(), token, {{"message", "Take your time"}});
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->status, 200) << reply->body;
  EXPECT_EQ(testing::json_of(*reply).at("reply").as_string(), "Worth the wait.");
}

INSTANTIATE_TEST_SUITE_P(Engines, ChatTurn, ::testing::Values(testing::Engine::kSqlite, testing::Engine::kPostgres),
                         testing::engine_param_name);

}  // namespace
}  // namespace evolveai
