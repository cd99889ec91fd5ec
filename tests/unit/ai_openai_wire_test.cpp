#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "ai/openai_compat/openai_model.hpp"
#include "core/errors.hpp"

namespace evolveai::ai {
namespace {

namespace json = boost::json;

std::unique_ptr<ProviderDialect> dialect(std::string key = "sk-test", std::string max_tokens_field = "max_tokens") {
  openai_compat::OpenAiSettings settings;
  settings.base_url = "http://localhost:11434/v1/";
  settings.model = "llama3";
  settings.api_key = std::move(key);
  settings.max_tokens_field = std::move(max_tokens_field);
  return openai_compat::make_dialect(settings);
}

ChatRequest sample_request() {
  ChatRequest request;
  request.system_instruction = "Be kind.";
  request.messages.push_back({Role::kUser, {Part::text_part("Hi")}});
  request.messages.push_back({Role::kAssistant, {Part::text_part("Hello!")}});
  request.messages.push_back(
      {Role::kUser, {Part::text_part("Look:"), Part::inline_data("image/jpeg", std::string("\xff\xd8\xff", 3))}});
  request.options.max_output_tokens = 100;
  return request;
}

TEST(OpenAiWire, BuildsChatCompletionsWithSystemFirstAndDataUrls) {
  const auto http = dialect()->build(sample_request(), true);
  EXPECT_EQ(http.url, "http://localhost:11434/v1/chat/completions");
  EXPECT_EQ(http.headers.get("authorization").value_or(""), "Bearer sk-test");
  const auto body = json::parse(http.body).as_object();
  EXPECT_EQ(body.at("model").as_string(), "llama3");
  EXPECT_TRUE(body.at("stream").as_bool());
  EXPECT_TRUE(body.at("stream_options").at("include_usage").as_bool());
  EXPECT_EQ(body.at("max_tokens").as_int64(), 100);
  const auto& messages = body.at("messages").as_array();
  ASSERT_EQ(messages.size(), 4U);
  EXPECT_EQ(messages[0].at("role").as_string(), "system");
  EXPECT_EQ(messages[0].at("content").as_string(), "Be kind.");
  EXPECT_EQ(messages[1].at("content").as_string(), "Hi");
  EXPECT_EQ(messages[2].at("role").as_string(), "assistant");
  const auto& parts = messages[3].at("content").as_array();
  EXPECT_EQ(parts[0].at("type").as_string(), "text");
  EXPECT_EQ(parts[1].at("image_url").at("url").as_string(), "data:image/jpeg;base64,/9j/");
}

TEST(OpenAiWire, SendsNoAuthorizationWithoutAKeyAndTheConfiguredTokenField) {
  const auto http = dialect("", "max_completion_tokens")->build(sample_request(), false);
  EXPECT_FALSE(http.headers.get("authorization"));
  const auto body = json::parse(http.body).as_object();
  EXPECT_FALSE(body.at("stream").as_bool());
  EXPECT_FALSE(body.contains("stream_options"));
  EXPECT_EQ(body.at("max_completion_tokens").as_int64(), 100);
}

TEST(OpenAiWire, AudioOtherThanWavOrMp3IsRefused) {
  ChatRequest request;
  request.messages.push_back({Role::kUser, {Part::inline_data("audio/ogg", "OggS")}});
  EXPECT_THROW((void)dialect()->build(request, false), core::Error);
  request.messages[0].parts[0].mime_type = "audio/wav";
  const auto body = json::parse(dialect()->build(request, false).body);
  EXPECT_EQ(body.at("messages").at(0).at("content").at(0).at("input_audio").at("format").as_string(), "wav");
}

TEST(OpenAiWire, ToleratesNullAndEmptyChoicesAndStopsAtDone) {
  auto reader = dialect()->reader();
  EXPECT_EQ(reader->read_event({"message", R"({"choices":[],"prompt_filter_results":[]})", ""}), "");
  EXPECT_EQ(reader->read_event({"message", R"({"choices":null})", ""}), "");
  EXPECT_EQ(reader->read_event({"message", R"({"choices":[{"delta":{"role":"assistant","content":"Par"}}]})", ""}),
            "Par");
  EXPECT_EQ(reader->read_event({"message", R"({"choices":[{"delta":{"content":"is."},"finish_reason":"stop"}]})", ""}),
            "is.");
  EXPECT_EQ(reader->read_event({"message", R"({"choices":[],"usage":{"prompt_tokens":13,"completion_tokens":11,
    "total_tokens":24}})",
                                ""}),
            "");
  EXPECT_EQ(reader->read_event({"message", "[DONE]", ""}), "");
  reader->end_of_stream("");
  const auto result = reader->reply().finalize("openai", "m");
  EXPECT_EQ(result.text, "Paris.");
  EXPECT_EQ(result.finish_reason, FinishReason::kStop);
  EXPECT_EQ(result.usage.input_tokens, 13);
  EXPECT_EQ(result.usage.output_tokens, 11);
}

TEST(OpenAiWire, AnErrorChunkInsideAStreamIsThrown) {
  auto reader = dialect()->reader();
  try {
    (void)reader->read_event(
        {"message", R"({"error":{"code":400,"message":"Token limit reached"},"choices":[{"delta":{"content":""}}]})",
         ""});
    FAIL() << "expected a ModelError";
  } catch (const ModelError& error) {
    EXPECT_EQ(error.http_status(), 400);
    EXPECT_FALSE(error.retryable());
  }
}

TEST(OpenAiWire, ARefusalWithoutContentIsASafetyStop) {
  auto reader = dialect()->reader();
  reader->read_body(R"({"choices":[{"message":{"role":"assistant","content":null,"refusal":"I can't help with that."},
    "finish_reason":"stop"}]})");
  const auto result = reader->reply().finalize("openai", "m");
  EXPECT_TRUE(result.blocked);
  EXPECT_EQ(result.finish_reason, FinishReason::kSafety);
}

TEST(OpenAiWire, ErrorBodiesAndRetryAfterHeaders) {
  net::HttpResponse response;
  response.status = 429;
  response.headers.add("Retry-After", "3");
  response.body = R"({"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}})";
  const auto limited = dialect()->error_from_response(response);
  EXPECT_EQ(limited.failure(), ModelFailure::kRateLimited);
  EXPECT_EQ(limited.retry_after_hint(), std::chrono::milliseconds(3000));
  EXPECT_EQ(limited.upstream_status(), "requests");

  response.headers = {};
  response.headers.add("retry-after-ms", "1500");
  EXPECT_EQ(dialect()->error_from_response(response).retry_after_hint(), std::chrono::milliseconds(1500));

  response.status = 400;
  response.headers = {};
  response.body =
      R"({"error":{"message":"Unsupported parameter","type":"invalid_request_error","code":"unsupported_parameter"}})";
  const auto rejected = dialect()->error_from_response(response);
  EXPECT_EQ(rejected.failure(), ModelFailure::kRejected);
  EXPECT_FALSE(rejected.retryable());
  EXPECT_EQ(rejected.upstream_status(), "invalid_request_error");
}

TEST(OpenAiWire, MapsFinishReasons) {
  EXPECT_EQ(openai_compat::map_finish_reason("stop"), FinishReason::kStop);
  EXPECT_EQ(openai_compat::map_finish_reason("length"), FinishReason::kLength);
  EXPECT_EQ(openai_compat::map_finish_reason("content_filter"), FinishReason::kSafety);
  EXPECT_EQ(openai_compat::map_finish_reason("tool_calls"), FinishReason::kError);
}

}  // namespace
}  // namespace evolveai::ai
