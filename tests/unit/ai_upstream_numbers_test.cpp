#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>

#include "ai/gemini/gemini_model.hpp"
#include "ai/openai_compat/openai_model.hpp"
#include "ai/provider_support.hpp"
#include "ai/sse_parser.hpp"

// Numbers an upstream sends are untrusted: these were found by the model_stream fuzz target.
namespace evolveai::ai {
namespace {

constexpr std::int64_t kMaxTokens = std::int64_t{1} << 40;

SseEvent event_with(std::string data) {
  SseEvent event;
  event.data = std::move(data);
  return event;
}

// A RetryInfo `retryDelay` of 16 or more digits overflowed the seconds (undefined behaviour)
// and became a garbage wait hint.
TEST(ProviderSupport, IgnoresARetryDelayBeyondTheDurationRange) {
  EXPECT_FALSE(parse_proto_duration("9999999999999999s"));
  EXPECT_FALSE(parse_proto_duration("99999999999999999999.5s"));
  EXPECT_FALSE(parse_proto_duration("315576000001s"));
  // The largest google.protobuf.Duration is still read.
  EXPECT_EQ(parse_proto_duration("315576000000s"), std::chrono::seconds(315'576'000'000));
  EXPECT_EQ(parse_proto_duration("0000000000000000000000000030s"), std::chrono::seconds(30));
}

// Gemini's output tokens are candidates + thoughts: two huge counts overflowed the sum.
TEST(GeminiReader, BoundsTokenCountsSoTheirSumCannotOverflow) {
  const auto reader = gemini::make_dialect(gemini::GeminiSettings{})->reader();
  (void)reader->read_event(
      event_with(R"({"candidates":[{"content":{"parts":[{"text":"Hi"}]}}],"usageMetadata":{"promptTokenCount":-5,)"
                 R"("candidatesTokenCount":9223372036854775807,"thoughtsTokenCount":9223372036854775807,)"
                 R"("totalTokenCount":9223372036854775807}})"));
  const auto& usage = reader->reply().usage;
  EXPECT_EQ(usage.input_tokens, 0);
  EXPECT_EQ(usage.output_tokens, 2 * kMaxTokens);
  EXPECT_EQ(usage.total_tokens, kMaxTokens);
}

// Negative or huge counts would reach the usage sums and metrics of a chat turn.
TEST(OpenAiReader, BoundsTokenCounts) {
  const auto reader = openai_compat::make_dialect(openai_compat::OpenAiSettings{})->reader();
  (void)reader->read_event(event_with(
      R"({"choices":[],"usage":{"prompt_tokens":-1,"completion_tokens":9223372036854775807,"total_tokens":12}})"));
  const auto& usage = reader->reply().usage;
  EXPECT_EQ(usage.input_tokens, 0);
  EXPECT_EQ(usage.output_tokens, kMaxTokens);
  EXPECT_EQ(usage.total_tokens, 12);
}

}  // namespace
}  // namespace evolveai::ai
