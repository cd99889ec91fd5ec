// The model stream as the product reads it: ai::SseParser framing recorded Gemini and OpenAI
// streams (shared fixtures, fed in 1 KiB reads), alone and together with the provider's reply
// reader (ProviderDialect::reader) that turns each event into reply text.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ai/gemini/gemini_model.hpp"
#include "ai/http_chat_model.hpp"
#include "ai/openai_compat/openai_model.hpp"
#include "ai/sse_parser.hpp"
#include "micro_fixtures.hpp"

namespace {

namespace ai = evolveai::ai;

constexpr std::size_t kReadBytes = 1024;
constexpr std::string_view kGeminiStream =
    "gemini-firebase-vertexai-sdk-test-data/googleai/streaming-success-basic-reply-long.txt";
constexpr std::string_view kOpenAiChunks = "openai-vercel-ai/openai-text.chunks.txt";

/// The recorded OpenAI chunks framed as the wire carries them: `data: <chunk>` events, then `[DONE]`.
std::optional<std::string> openai_stream() {
  const auto chunks = evolveai::bench::read_fixture(std::string(kOpenAiChunks));
  if (!chunks) {
    return std::nullopt;
  }
  std::string stream;
  std::size_t start = 0;
  while (start < chunks->size()) {
    auto end = chunks->find('\n', start);
    if (end == std::string::npos) {
      end = chunks->size();
    }
    const std::string_view line = std::string_view(*chunks).substr(start, end - start);
    if (!line.empty()) {
      stream.append("data: ").append(line).append("\n\n");
    }
    start = end + 1;
  }
  stream += "data: [DONE]\n\n";
  return stream;
}

/// Feeds a whole stream to a fresh parser in socket-sized reads; returns the events.
std::vector<ai::SseEvent> parse_stream(std::string_view stream) {
  ai::SseParser parser;
  std::vector<ai::SseEvent> events;
  for (std::size_t offset = 0; offset < stream.size(); offset += kReadBytes) {
    parser.feed(stream.substr(offset, std::min(kReadBytes, stream.size() - offset)), events);
  }
  parser.finish(events);
  return events;
}

/// SSE framing alone over one recorded stream.
void sse_parse(benchmark::State& state, const std::optional<std::string>& stream) {
  if (!stream) {
    state.SkipWithError("cannot read the recorded stream from the shared fixtures");
    return;
  }
  const auto checked = parse_stream(*stream);
  if (checked.empty() || checked.front().data.empty() || checked.front().data.front() != '{') {
    state.SkipWithError("the recorded stream did not parse into JSON events");
    return;
  }
  for ([[maybe_unused]] auto iteration : state) {
    auto events = parse_stream(*stream);
    benchmark::DoNotOptimize(events);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(stream->size()));
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(checked.size()));
  state.counters["events"] = static_cast<double>(checked.size());
}

/// SSE framing plus the provider's reader: the reply text of one recorded stream.
std::string decode_stream(const ai::ProviderDialect& dialect, std::string_view stream) {
  ai::SseParser parser;
  const auto reader = dialect.reader();
  std::vector<ai::SseEvent> events;
  std::string text;
  for (std::size_t offset = 0; offset < stream.size(); offset += kReadBytes) {
    parser.feed(stream.substr(offset, std::min(kReadBytes, stream.size() - offset)), events);
    for (const auto& event : events) {
      text += reader->read_event(event);
    }
    events.clear();
  }
  parser.finish(events);
  for (const auto& event : events) {
    text += reader->read_event(event);
  }
  reader->end_of_stream(parser.stray_text());
  if (!reader->reply().finish || reader->reply().text != text) {
    text.clear();  // an unfinished or inconsistent reply fails the check
  }
  return text;
}

/// The whole read of one recorded stream through a provider's dialect.
void sse_decode(benchmark::State& state, const ai::ProviderDialect& dialect, const std::optional<std::string>& stream) {
  if (!stream) {
    state.SkipWithError("cannot read the recorded stream from the shared fixtures");
    return;
  }
  const auto checked = decode_stream(dialect, *stream);
  if (checked.empty()) {
    state.SkipWithError("the recorded stream did not decode into a finished reply");
    return;
  }
  for ([[maybe_unused]] auto iteration : state) {
    auto text = decode_stream(dialect, *stream);
    benchmark::DoNotOptimize(text);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(stream->size()));
  state.counters["reply_chars"] = static_cast<double>(checked.size());
}

// SSE framing of a recorded Gemini stream (36 events, CRLF, 17 KiB).
void micro_sse_parse_gemini(benchmark::State& state) {
  sse_parse(state, evolveai::bench::read_fixture(std::string(kGeminiStream)));
}
BENCHMARK(micro_sse_parse_gemini);

// SSE framing of a recorded OpenAI stream (303 small chunks + [DONE], LF).
void micro_sse_parse_openai(benchmark::State& state) {
  sse_parse(state, openai_stream());
}
BENCHMARK(micro_sse_parse_openai);

// A recorded Gemini stream read into reply text by the Gemini dialect (framing + JSON + folding).
void micro_sse_decode_gemini(benchmark::State& state) {
  ai::gemini::GeminiSettings settings;
  settings.api_key = "bench";
  const auto dialect = ai::gemini::make_dialect(settings);
  sse_decode(state, *dialect, evolveai::bench::read_fixture(std::string(kGeminiStream)));
}
BENCHMARK(micro_sse_decode_gemini);

// A recorded OpenAI stream read into reply text by the OpenAI-compatible dialect.
void micro_sse_decode_openai(benchmark::State& state) {
  const auto dialect = ai::openai_compat::make_dialect(ai::openai_compat::OpenAiSettings{});
  sse_decode(state, *dialect, openai_stream());
}
BENCHMARK(micro_sse_decode_openai);

}  // namespace
