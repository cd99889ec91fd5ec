#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "net/circuit_breaker.hpp"
#include "net/http_client.hpp"
#include "net/retry_policy.hpp"
#include "tts/tts_engine.hpp"

namespace evolveai::tts {

/// The public endpoint of Google Cloud Text-to-Speech.
inline constexpr std::string_view kGoogleTtsBaseUrl = "https://texttospeech.googleapis.com";

/// How the cloud engine calls the API.
struct GoogleTtsOptions {
  std::string base_url = std::string(kGoogleTtsBaseUrl);  ///< API root; `/v1/text:synthesize` is appended
  std::string api_key;                                    ///< sent as `x-goog-api-key`
  std::string voice;         ///< a voice name to use when it speaks the request's language (see google_voice)
  int sample_rate = 24000;   ///< LINEAR16 rate asked for
  net::RetrySettings retry;  ///< max_attempts counts the first call
  /// Guards the API (not owned; must outlive the engine); null for none. Timeouts, connection
  /// failures, 429 and 5xx count as failures; refused requests do not.
  net::CircuitBreaker* breaker = nullptr;
  net::RetryPolicy::Random random;    ///< tests make jitter deterministic
  net::RetryPolicy::Sleeper sleeper;  ///< tests record waits; empty means a timer on the caller's executor
};

/// Speech from Google Cloud Text-to-Speech over REST: `POST {base_url}/v1/text:synthesize` with
/// `{"input":{"text"},"voice":{"languageCode","name"},"audioConfig":{"audioEncoding":"LINEAR16",
/// "sampleRateHertz","speakingRate","pitch"}}`, answered by `{"audioContent": base64 WAV}`.
/// Calls go through the shared HttpClient (its timeouts), one RetryPolicy and the breaker.
/// Throws TtsError, or net::CircuitOpenError when the breaker refuses the call.
class GoogleTtsEngine final : public TtsEngine {
 public:
  GoogleTtsEngine(GoogleTtsOptions options, std::shared_ptr<net::HttpClient> client);

  Task<Pcm> synthesize(const std::string& text, const VoiceOptions& options) override;
  [[nodiscard]] std::string_view name() const noexcept override { return "google"; }

  /// The JSON request body for `text` and `options` (exposed for wire-format tests).
  [[nodiscard]] std::string request_body(const std::string& text, const VoiceOptions& options) const;
  /// Reads a response body into PCM; throws TtsError kBadResponse when it holds no usable audio.
  [[nodiscard]] Pcm read_response(std::string_view body) const;

 private:
  Task<Pcm> attempt(const net::HttpRequest& request);

  GoogleTtsOptions options_;
  std::shared_ptr<net::HttpClient> client_;
  net::RetryPolicy retry_;
};

/// Standard base64 (padding optional, no whitespace); nullopt when malformed.
[[nodiscard]] std::optional<std::string> decode_base64(std::string_view text);

}  // namespace evolveai::tts
