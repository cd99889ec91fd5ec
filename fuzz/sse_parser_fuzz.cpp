// Fuzzes the server-sent-events parser that reads model streams: the input is a stream body.
// Checks that it never crashes and that cutting the bytes into chunks anywhere (as TCP does)
// gives exactly what feeding them whole gives, with the default limit and with a small one.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "ai/sse_parser.hpp"

namespace {

using evolveai::ai::SseEvent;
using evolveai::ai::SseParser;

/// Everything a parser reports, for comparing two runs.
struct Parsed {
  std::vector<SseEvent> events;
  bool over_limit = false;
  std::size_t comments = 0;
  std::string stray;
  std::string last_event_id;
  std::optional<std::chrono::milliseconds> retry;
};

/// Feeds `stream` in chunks whose sizes come from the stream's own bytes; chunk size 0 feeds it whole.
Parsed parse(std::string_view stream, std::size_t max_event_bytes, bool chunked) {
  SseParser parser(max_event_bytes);
  Parsed parsed;
  try {
    std::size_t at = 0;
    std::size_t turn = 0;
    while (at < stream.size()) {
      std::size_t size = stream.size() - at;
      if (chunked) {
        // 1..16 bytes, chosen by the input so the fuzzer can steer the cuts.
        size = std::min<std::size_t>(size, 1 + static_cast<unsigned char>(stream[turn % stream.size()]) % 16);
        ++turn;
      }
      parser.feed(stream.substr(at, size), parsed.events);
      at += size;
    }
    parser.finish(parsed.events);
  } catch (const std::length_error&) {
    parsed.over_limit = true;
  }
  parsed.comments = parser.comments();
  parsed.stray = parser.stray_text();
  parsed.last_event_id = parser.last_event_id();
  parsed.retry = parser.retry();
  return parsed;
}

bool same(const Parsed& a, const Parsed& b) {
  if (a.over_limit != b.over_limit || a.events.size() != b.events.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.events.size(); ++i) {
    if (a.events[i].type != b.events[i].type || a.events[i].data != b.events[i].data ||
        a.events[i].id != b.events[i].id) {
      return false;
    }
  }
  // After a limit error the parser stops mid-line: only the events before it are comparable.
  return a.over_limit ||
         (a.comments == b.comments && a.stray == b.stray && a.last_event_id == b.last_event_id && a.retry == b.retry);
}

}  // namespace

// NOLINTNEXTLINE(readability-identifier-naming): the entry point libFuzzer calls
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Reading the fuzzer's bytes as characters is allowed aliasing.
  const std::string_view stream(reinterpret_cast<const char*>(data), size);
  constexpr std::size_t kSmallLimit = 64;
  for (const std::size_t limit : {std::size_t{8} * 1024 * 1024, kSmallLimit}) {
    const Parsed whole = parse(stream, limit, false);
    const Parsed chunked = parse(stream, limit, true);
    if (!same(whole, chunked)) {
      std::abort();
    }
    for (const auto& event : whole.events) {
      if (event.type.empty() || event.data.size() > limit) {
        std::abort();
      }
    }
  }
  return 0;
}
