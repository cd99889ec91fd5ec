// Streamed chat turns (server-sent events) through HTTP against the fake Gemini server, on
// both storage engines: the event sequence, a client leaving mid-stream, an upstream cut.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "support/chat_test_env.hpp"

namespace evolveai {
namespace {

using namespace std::chrono_literals;
using testing::ChatAppTest;
using testing::FakeGemini;

namespace json = boost::json;

class ChatStream : public ChatAppTest {};

TEST_P(ChatStream, StreamSendsStartDeltasAndEnd) {
  gemini_.enqueue(FakeGemini::stream_reply({"Of ", "course, ", "Ann!"}));
  start();
  const auto token = sign_in(6001);
  const auto reply = testing::post_chat(port(), token, {{"message", "Hi, remember me?"}, {"stream", true}});
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->status, 200) << reply->body;
  EXPECT_NE(reply->header("content-type").find("text/event-stream"), std::string::npos);
  const auto events = testing::parse_sse(testing::joined_chunks(*reply));
  ASSERT_GE(events.size(), 3U);
  EXPECT_EQ(events.front().event, "start");
  const auto user_message_id = json::parse(events.front().data).at("user_message_id").as_int64();
  EXPECT_GT(user_message_id, 0);
  std::string text;
  for (std::size_t i = 1; i + 1 < events.size(); ++i) {
    EXPECT_EQ(events[i].event, "delta");
    text += std::string(json::parse(events[i].data).at("text").as_string());
  }
  EXPECT_EQ(text, "Of course, Ann!");
  ASSERT_EQ(events.back().event, "end");
  const auto end = json::parse(events.back().data);
  EXPECT_GT(end.at("message_id").as_int64(), user_message_id);
  EXPECT_EQ(end.at("finish_reason").as_string(), "stop");
  EXPECT_EQ(end.at("usage").at("messages_today").as_int64(), 1);
  EXPECT_EQ(end.at("usage").at("daily_limit").as_int64(), 50);

  const auto messages = stored_messages(token);
  ASSERT_EQ(messages.size(), 2U);
  EXPECT_EQ(messages[1].at("content").as_string(), "Of course, Ann!");
  EXPECT_EQ(messages[1].at("finish_reason").as_string(), "stop");
  EXPECT_NE(gemini_.requests().back().path.find(":streamGenerateContent"), std::string::npos);
}

TEST_P(ChatStream, AcceptHeaderAlsoAsksForAStream) {
  start();
  const auto token = sign_in(6002);
  const auto reply =
      testing::post_chat(port(), token, {{"message", "Stream please"}}, {{"Accept", "text/event-stream"}});
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->status, 200) << reply->body;
  const auto events = testing::parse_sse(testing::joined_chunks(*reply));
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.front().event, "start");
  EXPECT_EQ(events.back().event, "end");
}

TEST_P(ChatStream, RepeatedClientMessageIdStreamsTheStoredReply) {
  gemini_.enqueue(FakeGemini::stream_reply({"Stored ", "once"}));
  start();
  const auto token = sign_in(6003);
  const json::object request{{"message", "Say it once"}, {"client_message_id", "c-stream-1"}, {"stream", true}};
  const auto first = testing::post_chat(port(), token, request);
  const auto again = testing::post_chat(port(), token, request);
  ASSERT_TRUE(first && again);
  const auto events = testing::parse_sse(testing::joined_chunks(*again));
  ASSERT_EQ(events.size(), 3U);
  EXPECT_EQ(json::parse(events[1].data).at("text").as_string(), "Stored once");
  EXPECT_EQ(json::parse(events[2].data).at("message_id"),
            json::parse(testing::parse_sse(testing::joined_chunks(*first)).back().data).at("message_id"));
  EXPECT_EQ(gemini_.request_count(), 1U);
}

TEST_P(ChatStream, ClientLeavingMidStreamClosesUpstreamAndKeepsThePartialReply) {
  auto stalled = FakeGemini::stream_reply({"Once upon", " a time", " there was"});
  stalled.stall_after = 1;  // one delta, then silence with the connection open
  gemini_.enqueue(stalled);
  start();
  const auto token = sign_in(6004);
  const auto body = json::serialize(json::object{{"message", "Tell me a story"}, {"stream", true}});
  testing::RawConnection connection(port());
  ASSERT_TRUE(connection.send("POST /api/v1/chat HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token +
                              "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                              "\r\n\r\n" + body));
  const auto head = connection.read_head();
  ASSERT_TRUE(head);
  ASSERT_EQ(head->status, 200);
  std::string seen;
  while (seen.find("Once upon") == std::string::npos) {
    const auto chunk = connection.read_chunk();
    ASSERT_TRUE(chunk) << "stream ended early: " << seen;
    seen += *chunk;
  }
  const auto aborts_before = gemini_.client_aborts();
  connection.close();

  EXPECT_TRUE(gemini_.wait_for_client_abort(aborts_before, 1s)) << "the upstream call is cancelled within 1 s";
  // The reply is written first, then its user message is marked complete.
  const auto messages = wait_for_messages(token, [](const json::array& stored) {
    return stored.size() == 2 && stored[0].at("status").as_string() == "complete";
  });
  ASSERT_EQ(messages.size(), 2U) << json::serialize(messages);
  EXPECT_EQ(messages[1].at("content").as_string(), "Once upon");
  EXPECT_EQ(messages[1].at("finish_reason").as_string(), "interrupted");
  EXPECT_EQ(messages[0].at("status").as_string(), "complete");
}

TEST_P(ChatStream, UpstreamCutMidStreamEndsWithAnErrorEventAndCostsNothing) {
  auto dropped = FakeGemini::stream_reply({"Half ", "a reply"});
  dropped.drop_after = 1;
  gemini_.enqueue(dropped);
  start();
  const auto token = sign_in(6005);
  const auto reply = testing::post_chat(port(), token, {{"message", "Go on"}, {"stream", true}});
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->status, 200);
  const auto events = testing::parse_sse(testing::joined_chunks(*reply));
  ASSERT_GE(events.size(), 2U);
  EXPECT_EQ(events.front().event, "start");
  ASSERT_EQ(events.back().event, "error") << testing::joined_chunks(*reply);
  EXPECT_EQ(json::parse(events.back().data).at("code").as_string(), "upstream_unavailable");
  EXPECT_EQ(gemini_.request_count(), 1U) << "text was already forwarded: never retried";

  const auto messages = stored_messages(token);
  ASSERT_EQ(messages.size(), 1U);
  EXPECT_EQ(messages[0].at("status").as_string(), "failed");
  const auto profile = testing::call_api(port(), "GET", "/api/v1/profile", token);
  EXPECT_EQ(testing::json_of(*profile).at("usage").at("messages_today").as_int64(), 0);
}

TEST_P(ChatStream, RefusalsBeforeTheModelAreOrdinaryHttpErrors) {
  config_.limits.free_daily_messages = 0;
  start();
  const auto token = sign_in(6006);
  const auto reply = testing::post_chat(port(), token, {{"message", "Anything?"}, {"stream", true}});
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 429);
  EXPECT_EQ(testing::error_code_of(*reply), "quota_exceeded");
  EXPECT_EQ(reply->header("content-type"), "application/json");
  EXPECT_EQ(gemini_.request_count(), 0U);
}

INSTANTIATE_TEST_SUITE_P(Engines, ChatStream, ::testing::Values(testing::Engine::kSqlite, testing::Engine::kPostgres),
                         testing::engine_param_name);

}  // namespace
}  // namespace evolveai
