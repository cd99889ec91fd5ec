// Fuzzes how model replies are read: the input is an upstream body, read by the Gemini and the
// OpenAI-compatible dialects as a stream (SSE events, then end of stream), as a unary body and
// as an error body. Errors the upstream reports are ModelError values; anything else escaping,
// a crash, or streamed deltas that differ from the reply's text is a finding.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "ai/chat_model.hpp"
#include "ai/gemini/gemini_model.hpp"
#include "ai/openai_compat/openai_model.hpp"
#include "ai/sse_parser.hpp"
#include "core/utf8.hpp"
#include "net/http_client.hpp"

namespace {

namespace ai = evolveai::ai;

/// The two dialects, built once: their settings never change.
struct Dialects {
  std::unique_ptr<ai::ProviderDialect> gemini = ai::gemini::make_dialect(ai::gemini::GeminiSettings{});
  std::unique_ptr<ai::ProviderDialect> openai = ai::openai_compat::make_dialect(ai::openai_compat::OpenAiSettings{});
};

void check_result(const ai::ChatResult& result) {
  // Text comes only from JSON strings, which the parser has checked are UTF-8.
  if (!evolveai::core::is_valid_utf8(result.text)) {
    std::abort();
  }
}

/// Reads `body` as the stream HttpChatModel reads, in chunks of the stream's own choosing.
void read_stream(const ai::ProviderDialect& dialect, std::string_view body) {
  auto reader = dialect.reader();
  ai::SseParser parser;
  std::vector<ai::SseEvent> events;
  std::string deltas;
  try {
    std::size_t at = 0;
    while (at < body.size()) {
      const std::size_t size = std::min<std::size_t>(body.size() - at, 1 + static_cast<unsigned char>(body[at]) % 64);
      parser.feed(body.substr(at, size), events);
      at += size;
      for (const auto& event : events) {
        deltas += reader->read_event(event);
      }
      events.clear();
    }
    parser.finish(events);
    for (const auto& event : events) {
      deltas += reader->read_event(event);
    }
    // What the client was streamed is exactly the reply's text so far.
    if (deltas != reader->reply().text) {
      std::abort();
    }
    reader->end_of_stream(parser.stray_text());
    check_result(reader->reply().finalize(dialect.provider(), dialect.model()));
  } catch (const ai::ModelError&) {
    // An error the upstream reported, or a body that is not a reply.
  } catch (const std::length_error&) {
    // An event over the parser's limit.
  }
  const auto interrupted = reader->reply().interrupted(dialect.model());
  if (interrupted.finish_reason != ai::FinishReason::kInterrupted) {
    std::abort();
  }
}

void read_unary(const ai::ProviderDialect& dialect, std::string_view body) {
  auto reader = dialect.reader();
  try {
    reader->read_body(body);
    check_result(reader->reply().finalize(dialect.provider(), dialect.model()));
  } catch (const ai::ModelError&) {
    // An error body, or a body that is not a reply.
  }
}

void read_error(const ai::ProviderDialect& dialect, std::string_view body) {
  for (const int status : {400, 429, 503}) {
    evolveai::net::HttpResponse response;
    response.status = status;
    response.headers.add("Retry-After", "7");
    response.body = std::string(body);
    const auto error = dialect.error_from_response(response);
    if (error.http_status() != status) {
      std::abort();
    }
  }
}

}  // namespace

// NOLINTNEXTLINE(readability-identifier-naming): the entry point libFuzzer calls
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const Dialects dialects;
  // Reading the fuzzer's bytes as characters is allowed aliasing.
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  for (const auto* dialect : {dialects.gemini.get(), dialects.openai.get()}) {
    read_stream(*dialect, body);
    read_unary(*dialect, body);
    read_error(*dialect, body);
  }
  return 0;
}
