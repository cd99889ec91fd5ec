#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fakes/fake_upstream.hpp"

namespace evolveai::testing {

/// A fake Gemini REST API (v1beta `models/{model}:generateContent` and
/// `:streamGenerateContent?alt=sse`) speaking the real wire format. Unscripted requests
/// get `reply_text`, streamed one word per event at `token_interval` (the benchmark's
/// token rate); scripted replies and faults come from the builders below.
class FakeGemini : public FakeUpstream {
 public:
  /// What unscripted requests get.
  struct Options {
    std::string reply_text = "Hello from the fake Gemini.";
    std::chrono::milliseconds token_interval{0};
    bool tls = false;
  };

  FakeGemini();
  explicit FakeGemini(Options options);

  /// The `base_url` a client should use: "http://127.0.0.1:PORT/v1beta".
  [[nodiscard]] std::string base_url() const;

  /// One GenerateContentResponse as JSON text (finish reason and usage left out when empty / 0).
  static std::string response_json(std::string_view text, std::string_view finish_reason, int prompt_tokens,
                                   int output_tokens);
  /// A unary reply with `text`, STOP and usage.
  static FakeReply text_reply(std::string_view text, int prompt_tokens = 7, int output_tokens = 5);
  /// A streamed reply: one event per delta, STOP and usage on the last, CRLF framing.
  static FakeReply stream_reply(const std::vector<std::string>& deltas, std::chrono::milliseconds interval = {},
                                std::string_view finish_reason = "STOP");
  /// HTTP 429 RESOURCE_EXHAUSTED, with a RetryInfo detail when `retry_delay` is set.
  static FakeReply rate_limited(std::optional<std::chrono::milliseconds> retry_delay = std::nullopt);
  /// An error status with a Google error body.
  static FakeReply error(int status, std::string_view grpc_status, std::string_view message);
  /// A prompt blocked for SAFETY: promptFeedback.blockReason and no candidates.
  static FakeReply blocked_prompt(bool streaming);
  /// A 200 whose JSON is cut off.
  static FakeReply malformed_json(bool streaming);
  /// A recorded fixture served byte for byte: JSON error bodies get their `error.code` as
  /// the status, an HTML page the status its title names, SSE text 200 in chunks of
  /// `piece` bytes, other JSON 200.
  static FakeReply recorded(std::string_view file_bytes, std::size_t piece = 97);

 private:
  static FakeReply unscripted(const Options& options, const RecordedRequest& request);

  Options options_;
};

}  // namespace evolveai::testing
