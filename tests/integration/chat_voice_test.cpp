// Voice replies to chat turns end to end, on both storage engines: asked for per request or by
// the user's `voice_replies` setting, spoken with espeak-ng as OGG/Opus, in the JSON answer and
// as a `voice` event of a stream; an exhausted speech allowance never costs the text reply.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "services/chat_image.hpp"
#include "support/chat_test_env.hpp"

namespace evolveai {
namespace {

using testing::ChatAppTest;
using testing::FakeGemini;

namespace json = boost::json;

constexpr std::size_t kMaxAudioBytes = std::size_t{8} * 1024 * 1024;

/// The audio bytes of a `voice` object, checked to be an Ogg stream with an Opus head.
std::string ogg_audio_of(const json::value& voice) {
  EXPECT_EQ(voice.at("mime_type").as_string(), "audio/ogg");
  auto audio = services::decode_image_base64(voice.at("data").as_string(), kMaxAudioBytes, "voice.data");
  EXPECT_TRUE(audio.starts_with("OggS"));
  EXPECT_NE(audio.find("OpusHead"), std::string::npos);
  return audio;
}

void set_voice_replies(std::uint16_t port, const std::string& token, bool on) {
  const json::object patch{{"settings", json::object{{"voice_replies", on}}}};
  const auto reply = testing::call_api(port, "PATCH", "/api/v1/profile", token, json::serialize(patch));
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->status, 200) << reply->body;
}

class ChatVoice : public ChatAppTest {};

TEST_P(ChatVoice, VoiceFlagAddsTheSpokenReplyToTheAnswer) {
  start();
  const auto token = sign_in(7101);
  gemini_.enqueue(FakeGemini::text_reply("Hello Ann. It is a **lovely** day for a walk."));
  const auto reply = testing::post_chat(port(), token, {{"message", "Say hello"}, {"voice", true}});
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->status, 200) << reply->body;
  const auto body = testing::json_of(*reply);
  EXPECT_EQ(body.at("reply").as_string(), "Hello Ann. It is a **lovely** day for a walk.");
  const auto audio = ogg_audio_of(body.at("voice"));
  EXPECT_GT(audio.size(), 1000U);
  EXPECT_EQ(body.at("voice").at("engine").as_string(), "espeak");
}

TEST_P(ChatVoice, NoVoiceUnlessAskedOrTurnedOnInSettings) {
  start();
  const auto token = sign_in(7102);
  gemini_.enqueue(FakeGemini::text_reply("Text only."));
  const auto plain = testing::post_chat(port(), token, {{"message", "Hi"}});
  ASSERT_TRUE(plain);
  ASSERT_EQ(plain->status, 200) << plain->body;
  EXPECT_EQ(testing::json_of(*plain).as_object().if_contains("voice"), nullptr);

  set_voice_replies(port(), token, true);
  gemini_.enqueue(FakeGemini::text_reply("Now you hear me."));
  const auto spoken = testing::post_chat(port(), token, {{"message", "Again"}});
  ASSERT_TRUE(spoken);
  ASSERT_EQ(spoken->status, 200) << spoken->body;
  ogg_audio_of(testing::json_of(*spoken).at("voice"));

  // The request's own flag wins over the setting.
  gemini_.enqueue(FakeGemini::text_reply("Quietly."));
  const auto quiet = testing::post_chat(port(), token, {{"message", "Whisper"}, {"voice", false}});
  ASSERT_TRUE(quiet);
  ASSERT_EQ(quiet->status, 200) << quiet->body;
  EXPECT_EQ(testing::json_of(*quiet).as_object().if_contains("voice"), nullptr);
}

TEST_P(ChatVoice, StreamSendsTheVoiceEventBeforeEnd) {
  start();
  const auto token = sign_in(7103);
  gemini_.enqueue(FakeGemini::stream_reply({"Of ", "course, ", "Ann!"}));
  const auto reply = testing::post_chat(port(), token, {{"message", "Hi"}, {"stream", true}, {"voice", true}});
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->status, 200) << reply->body;
  const auto events = testing::parse_sse(testing::joined_chunks(*reply));
  std::vector<std::string> names;
  for (const auto& event : events) {
    names.push_back(event.event);
  }
  ASSERT_GE(names.size(), 3U);
  EXPECT_EQ(names.front(), "start");
  ASSERT_EQ(names.back(), "end");
  ASSERT_EQ(names[names.size() - 2], "voice");
  ogg_audio_of(json::parse(events[events.size() - 2].data));
}

TEST_P(ChatVoice, UsedUpSpeechAllowanceKeepsTheTextReplyAndSaysWhy) {
  config_.tts.free_daily = 1;
  start();
  const auto token = sign_in(7104);
  gemini_.enqueue(FakeGemini::text_reply("First answer."));
  gemini_.enqueue(FakeGemini::text_reply("Second answer."));
  const auto first = testing::post_chat(port(), token, {{"message", "One"}, {"voice", true}});
  ASSERT_TRUE(first);
  ASSERT_EQ(first->status, 200) << first->body;
  ogg_audio_of(testing::json_of(*first).at("voice"));

  const auto second = testing::post_chat(port(), token, {{"message", "Two"}, {"voice", true}});
  ASSERT_TRUE(second);
  ASSERT_EQ(second->status, 200) << second->body;
  const auto body = testing::json_of(*second);
  EXPECT_EQ(body.at("reply").as_string(), "Second answer.");
  const auto& error = body.at("voice").at("error");
  EXPECT_EQ(error.at("code").as_string(), "premium_required");
  EXPECT_FALSE(error.at("resets_at").as_string().empty());
  EXPECT_EQ(body.at("voice").as_object().if_contains("data"), nullptr);

  const auto stored = wait_for_messages(token, [](const json::array& messages) { return messages.size() >= 4; });
  EXPECT_EQ(stored.back().at("content").as_string(), "Second answer.");
}

TEST_P(ChatVoice, VoiceRepliesFeatureFlagOffMeansTextOnly) {
  start();
  // As an operator's PUT /api/v1/admin/flags stores it; read before the flag cache holds anything.
  app_->run(app_->store().kv_set("feature_flag:voice_replies", R"({"enabled":false,"percentage":100})"));
  const auto token = sign_in(7106);
  gemini_.enqueue(FakeGemini::text_reply("Only words today."));
  const auto reply = testing::post_chat(port(), token, {{"message", "Speak"}, {"voice", true}});
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->status, 200) << reply->body;
  EXPECT_EQ(testing::json_of(*reply).as_object().if_contains("voice"), nullptr);
}

TEST_P(ChatVoice, VoiceFlagMustBeABoolean) {
  start();
  const auto token = sign_in(7105);
  const auto reply = testing::post_chat(port(), token, {{"message", "Hi"}, {"voice", "yes"}});
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 400);
  EXPECT_EQ(testing::error_code_of(*reply), "validation_failed");
  EXPECT_TRUE(gemini_.requests().empty());
}

INSTANTIATE_TEST_SUITE_P(Engines, ChatVoice, ::testing::Values(testing::Engine::kSqlite, testing::Engine::kPostgres),
                         testing::engine_param_name);

}  // namespace
}  // namespace evolveai
