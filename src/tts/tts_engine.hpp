#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include "core/task.hpp"
#include "tts/pcm.hpp"
#include "tts/voices.hpp"

namespace evolveai::tts {

/// Why a synthesis failed.
enum class TtsFailure {
  kUnavailable,  ///< the engine could not be reached or answered 429/5xx; worth retrying
  kTimeout,      ///< a deadline ran out
  kRejected,     ///< the engine refused the request (4xx, unknown voice)
  kBadResponse,  ///< the engine's answer could not be read
  kTooLong,      ///< the audio would pass the engine's size limit
};

/// A failed synthesis, with what the log may say (never shown to clients as is).
class TtsError : public std::runtime_error {
 public:
  TtsError(TtsFailure failure, const std::string& message, bool retryable = false)
      : std::runtime_error(message), failure_(failure), retryable_(retryable) {}

  [[nodiscard]] TtsFailure failure() const noexcept { return failure_; }
  /// True when another attempt may succeed.
  [[nodiscard]] bool retryable() const noexcept { return retryable_; }

 private:
  TtsFailure failure_;
  bool retryable_;
};

/// Turns text into speech. Implementations: EspeakEngine (local, the default), GoogleTtsEngine
/// (cloud) and FallbackTtsEngine (cloud first, local when it fails); tests add fakes.
class TtsEngine {
 public:
  virtual ~TtsEngine() = default;

  /// Synthesises `text` (valid UTF-8, already length-checked by the caller) with `options`; the
  /// result names the engine that produced it. Never blocks the calling thread. Throws TtsError
  /// or core::Error (503 `service_unavailable` when the engine is saturated). Both arguments must
  /// stay valid until the returned task completes.
  virtual Task<Pcm> synthesize(const std::string& text, const VoiceOptions& options) = 0;

  /// "espeak", "google": for logs, metrics and cache keys.
  [[nodiscard]] virtual std::string_view name() const noexcept = 0;
};

}  // namespace evolveai::tts
