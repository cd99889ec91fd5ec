#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fakes/fake_upstream.hpp"

namespace evolveai::testing {

/// A fake Google Cloud Text-to-Speech REST API (`POST /v1/text:synthesize`) speaking the real
/// wire format: it checks the `x-goog-api-key` header and the request body and answers
/// `{"audioContent": <base64 WAV, LINEAR16>}` holding a tone of `ms_per_char` per byte of the
/// text at the requested sample rate. Faults are switched on for every following request
/// (500, 503, a stall that never answers) and off again; scripted replies still go first.
class FakeGoogleTts : public FakeUpstream {
 public:
  /// What unscripted requests get.
  enum class Mode { kHealthy, kServerError, kUnavailable, kStall };

  /// `api_key` is what requests must carry; the tone lasts `ms_per_char` per byte of text.
  explicit FakeGoogleTts(std::string api_key = "fake-tts-key",
                         std::chrono::milliseconds ms_per_char = std::chrono::milliseconds(60));
  ~FakeGoogleTts() override;

  /// The `base_url` a client should use: "http://127.0.0.1:PORT".
  [[nodiscard]] std::string base_url() const { return origin(); }
  /// Changes how the following unscripted requests are answered.
  void set_mode(Mode mode);

  /// Synthesis requests answered with audio so far.
  [[nodiscard]] std::size_t audio_replies() const;

  /// A 200 reply whose audioContent is `samples` at `sample_rate` as a WAV file.
  static FakeReply audio_reply(const std::vector<std::int16_t>& samples, int sample_rate);
  /// An error status with a Google error body.
  static FakeReply error(int status, std::string_view grpc_status, std::string_view message);

 private:
  struct State;
  static FakeReply answer(State& state, const RecordedRequest& request);

  std::shared_ptr<State> state_;
};

}  // namespace evolveai::testing
