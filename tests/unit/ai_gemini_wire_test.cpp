#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "ai/gemini/gemini_model.hpp"
#include "ai/provider_support.hpp"

namespace evolveai::ai {
namespace {

namespace json = boost::json;

ChatRequest sample_request() {
  ChatRequest request;
  request.system_instruction = "You are Evo, a warm companion.";
  request.messages.push_back({Role::kUser, {Part::text_part("Hi, I'm Ann.")}});
  request.messages.push_back({Role::kAssistant, {Part::text_part("Hello Ann!")}});
  request.messages.push_back(
      {Role::kUser,
       {Part::text_part("What is in this picture?"), Part::inline_data("image/png", std::string("\x89PNG\r\n", 6))}});
  request.options.max_output_tokens = 256;
  request.options.temperature = 0.5;
  return request;
}

std::unique_ptr<ProviderDialect> dialect() {
  gemini::GeminiSettings settings;
  settings.base_url = "https://example.test/v1beta/";
  settings.model = "models/gemini-test";
  settings.api_key = "secret-key";
  return gemini::make_dialect(settings);
}

TEST(GeminiWire, BuildsGenerateContentWithKeyHeaderAndBody) {
  const auto http = dialect()->build(sample_request(), false);
  EXPECT_EQ(http.method, "POST");
  EXPECT_EQ(http.url, "https://example.test/v1beta/models/gemini-test:generateContent");
  EXPECT_EQ(http.headers.get("x-goog-api-key").value_or(""), "secret-key");
  EXPECT_EQ(http.headers.get("content-type").value_or(""), "application/json");

  const auto body = json::parse(http.body).as_object();
  EXPECT_EQ(body.at("systemInstruction").at("parts").at(0).at("text").as_string(), "You are Evo, a warm companion.");
  const auto& contents = body.at("contents").as_array();
  ASSERT_EQ(contents.size(), 3U);
  EXPECT_EQ(contents[0].at("role").as_string(), "user");
  EXPECT_EQ(contents[1].at("role").as_string(), "model");
  const auto& parts = contents[2].at("parts").as_array();
  ASSERT_EQ(parts.size(), 2U);
  EXPECT_EQ(parts[1].at("inline_data").at("mime_type").as_string(), "image/png");
  EXPECT_EQ(parts[1].at("inline_data").at("data").as_string(), "iVBORw0K");
  EXPECT_EQ(body.at("generationConfig").at("maxOutputTokens").as_int64(), 256);
  EXPECT_DOUBLE_EQ(body.at("generationConfig").at("temperature").as_double(), 0.5);
  const auto& safety = body.at("safetySettings").as_array();
  ASSERT_EQ(safety.size(), 4U);
  EXPECT_EQ(safety[0].at("threshold").as_string(), "BLOCK_MEDIUM_AND_ABOVE");
}

TEST(GeminiWire, StreamsThroughStreamGenerateContentWithSse) {
  const auto http = dialect()->build(sample_request(), true);
  EXPECT_EQ(http.url, "https://example.test/v1beta/models/gemini-test:streamGenerateContent?alt=sse");
  EXPECT_EQ(http.headers.get("accept").value_or(""), "text/event-stream");
}

TEST(GeminiWire, AsksForJsonWithASchema) {
  auto request = sample_request();
  request.options.json_output = true;
  request.options.json_schema = R"({"type":"object","properties":{"summary":{"type":"string"}}})";
  const auto body = json::parse(dialect()->build(request, false).body).as_object();
  EXPECT_EQ(body.at("generationConfig").at("responseMimeType").as_string(), "application/json");
  EXPECT_EQ(body.at("generationConfig").at("responseSchema").at("type").as_string(), "object");
  request.options.json_schema = "{not json";
  EXPECT_THROW((void)dialect()->build(request, false), std::invalid_argument);
}

TEST(GeminiWire, ReadsTextSkippingThoughtsAndTakesUsage) {
  auto reader = dialect()->reader();
  reader->read_body(
      R"({"candidates":[{"content":{"parts":[{"text":"thinking...","thought":true},{"text":"Mountain View"}],
    "role":"model"},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":14,"candidatesTokenCount":2,
    "totalTokenCount":40,"thoughtsTokenCount":24},"modelVersion":"gemini-2.5-flash"})");
  const auto result = reader->reply().finalize("gemini", "configured");
  EXPECT_EQ(result.text, "Mountain View");
  EXPECT_EQ(result.finish_reason, FinishReason::kStop);
  EXPECT_EQ(result.usage.input_tokens, 14);
  EXPECT_EQ(result.usage.output_tokens, 26);
  EXPECT_EQ(result.usage.total_tokens, 40);
  EXPECT_EQ(result.model, "gemini-2.5-flash");
}

TEST(GeminiWire, ABlockedPromptIsAFriendlySafetyReplyNotAnError) {
  auto reader = dialect()->reader();
  reader->read_body(R"({"promptFeedback":{"blockReason":"SAFETY"}})");
  const auto result = reader->reply().finalize("gemini", "configured");
  EXPECT_TRUE(result.blocked);
  EXPECT_EQ(result.finish_reason, FinishReason::kSafety);
  EXPECT_EQ(result.block_reason, "SAFETY");
  EXPECT_FALSE(result.friendly_text.empty());
  EXPECT_EQ(result.model, "configured");
}

TEST(GeminiWire, StreamEventsAccumulateAndTheLastUsageWins) {
  auto reader = dialect()->reader();
  EXPECT_EQ(reader->read_event({"message", R"({"candidates":[{"content":{"parts":[{"text":"Hel"}]}}],
    "usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":1}})",
                                ""}),
            "Hel");
  EXPECT_EQ(reader->read_event({"message", R"({"candidates":[{"content":{"parts":[{"text":"lo"}]},
    "finishReason":"MAX_TOKENS"}],"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":2}})",
                                ""}),
            "lo");
  reader->end_of_stream("");
  const auto result = reader->reply().finalize("gemini", "m");
  EXPECT_EQ(result.text, "Hello");
  EXPECT_EQ(result.finish_reason, FinishReason::kLength);
  EXPECT_EQ(result.usage.output_tokens, 2);
}

TEST(GeminiWire, AnErrorAppendedToAStreamIsThrown) {
  auto reader = dialect()->reader();
  (void)reader->read_event({"message", R"({"candidates":[{"content":{"parts":[{"text":"First "}]}}]})", ""});
  try {
    reader->end_of_stream("{\n\"error\": {\"code\": 499, \"message\": \"cancelled\", \"status\": \"CANCELLED\"}\n}\n");
    FAIL() << "expected a ModelError";
  } catch (const ModelError& error) {
    EXPECT_EQ(error.http_status(), 499);
    EXPECT_EQ(error.upstream_status(), "CANCELLED");
  }
}

TEST(GeminiWire, ErrorBodiesBecomeTypedErrorsWithRetryInfo) {
  net::HttpResponse response;
  response.status = 429;
  response.body = R"({"error":{"code":429,"message":"Quota exceeded","status":"RESOURCE_EXHAUSTED","details":[
    {"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"22.5s"}]}})";
  const auto error = dialect()->error_from_response(response);
  EXPECT_EQ(error.failure(), ModelFailure::kRateLimited);
  EXPECT_TRUE(error.retryable());
  EXPECT_EQ(error.upstream_status(), "RESOURCE_EXHAUSTED");
  ASSERT_TRUE(error.retry_after_hint());
  EXPECT_EQ(*error.retry_after_hint(), std::chrono::milliseconds(22500));
  EXPECT_EQ(error.code(), "upstream_unavailable");
  EXPECT_EQ(error.status_override(), 503);
  EXPECT_EQ(std::string(error.log_message()).find("Quota exceeded") != std::string::npos, true);

  response.status = 404;
  response.body = "<!DOCTYPE html><title>Error 404 (Not Found)!!1</title>";
  const auto html = dialect()->error_from_response(response);
  EXPECT_EQ(html.failure(), ModelFailure::kRejected);
  EXPECT_FALSE(html.retryable());
  EXPECT_EQ(html.http_status(), 404);
}

TEST(GeminiWire, MapsEveryFinishReason) {
  EXPECT_EQ(gemini::map_finish_reason("STOP"), FinishReason::kStop);
  EXPECT_EQ(gemini::map_finish_reason("MAX_TOKENS"), FinishReason::kLength);
  for (const auto* reason : {"SAFETY", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY"}) {
    EXPECT_EQ(gemini::map_finish_reason(reason), FinishReason::kSafety) << reason;
  }
  EXPECT_EQ(gemini::map_finish_reason("RECITATION"), FinishReason::kRecitation);
  EXPECT_EQ(gemini::map_finish_reason("OTHER"), FinishReason::kError);
  EXPECT_EQ(gemini::map_finish_reason("FAKE_NEW_FINISH_REASON"), FinishReason::kError);
}

TEST(ProviderSupport, EncodesBase64AndParsesWaitHints) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode(std::string("\xff\xfe\x00", 3)), "//4A");
  EXPECT_EQ(parse_proto_duration("22s"), std::chrono::milliseconds(22000));
  EXPECT_EQ(parse_proto_duration("0.250s"), std::chrono::milliseconds(250));
  EXPECT_EQ(parse_proto_duration("1.5s"), std::chrono::milliseconds(1500));
  EXPECT_FALSE(parse_proto_duration("s"));
  EXPECT_FALSE(parse_proto_duration("12"));
  EXPECT_EQ(parse_retry_after_seconds(" 12 "), std::chrono::milliseconds(12000));
  EXPECT_FALSE(parse_retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT"));
  EXPECT_EQ(failure_for_status(429), ModelFailure::kRateLimited);
  EXPECT_EQ(failure_for_status(503), ModelFailure::kServer);
  EXPECT_EQ(failure_for_status(400), ModelFailure::kRejected);
  EXPECT_EQ(failure_for_status(501), ModelFailure::kRejected);
}

TEST(ProviderSupport, AnEmptyReplyIsAnErrorUnlessBlocked) {
  ReplyAccumulator reply;
  reply.saw_reply = true;
  EXPECT_EQ(reply.finalize("p", "m").finish_reason, FinishReason::kError);
  reply.finish = FinishReason::kRecitation;
  const auto recitation = reply.finalize("p", "m");
  EXPECT_EQ(recitation.finish_reason, FinishReason::kRecitation);
  EXPECT_TRUE(recitation.blocked);
  ReplyAccumulator nothing;
  EXPECT_THROW((void)nothing.finalize("p", "m"), ModelError);
}

}  // namespace
}  // namespace evolveai::ai
