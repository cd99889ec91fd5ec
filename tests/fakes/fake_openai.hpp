#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fakes/fake_upstream.hpp"
#include "fakes/vcr_cassette.hpp"

namespace evolveai::testing {

/// A fake OpenAI-compatible API (`POST /v1/chat/completions`, streaming or not) speaking
/// the real wire format. Unscripted requests get `reply_text` (streamed one word per
/// chunk at `token_interval` when the request asks for a stream); scripted replies and
/// faults come from the builders below.
class FakeOpenAi : public FakeUpstream {
 public:
  /// What unscripted requests get.
  struct Options {
    std::string reply_text = "Hello from the fake OpenAI.";
    std::chrono::milliseconds token_interval{0};
    bool tls = false;
  };

  FakeOpenAi();
  explicit FakeOpenAi(Options options);

  /// The `base_url` a client should use: "http://127.0.0.1:PORT/v1".
  [[nodiscard]] std::string base_url() const;

  /// A chat.completion with `text`.
  static FakeReply completion(std::string_view text, std::string_view finish_reason = "stop", int prompt_tokens = 11,
                              int completion_tokens = 4);
  /// A stream: one chunk per delta, then a finish chunk, a usage chunk with `choices: []`
  /// (when `usage`), and `data: [DONE]`.
  static FakeReply stream_reply(const std::vector<std::string>& deltas, std::chrono::milliseconds interval = {},
                                std::string_view finish_reason = "stop", bool usage = true);
  /// HTTP 429 with an OpenAI error body, and `Retry-After` when given.
  static FakeReply rate_limited(std::optional<std::chrono::seconds> retry_after = std::nullopt);
  /// An error status with an OpenAI error body.
  static FakeReply error(int status, std::string_view type, std::string_view message);
  /// A 200 whose JSON is cut off.
  static FakeReply malformed_json(bool streaming);
  /// A vercel `*.chunks.txt` fixture on the wire: each line as `data: <line>\n\n`, then
  /// `data: [DONE]\n\n`, in chunks of `piece` bytes.
  static FakeReply from_chunk_lines(std::string_view lines, std::size_t piece = 113);
  /// A recorded SSE or JSON body served byte for byte (status 200, or `status`).
  static FakeReply recorded(std::string_view bytes, int status = 200, std::size_t piece = 113);
  /// A cassette exchange as recorded: its status, content type and body.
  static FakeReply from_cassette(const CassetteExchange& exchange, std::size_t piece = 113);

 private:
  static FakeReply unscripted(const Options& options, const RecordedRequest& request);

  Options options_;
};

}  // namespace evolveai::testing
