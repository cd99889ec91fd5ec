#pragma once

#include <string>
#include <string_view>

#include "tts/tts_engine.hpp"

namespace evolveai::obs {
class Counter;
class Logger;
class MetricsRegistry;
}  // namespace evolveai::obs

namespace evolveai::tts {

/// The cloud engine first, the local one when it fails: any failure of `primary` (its breaker
/// open, retries used up, a refused or unreadable answer) is logged, counted in
/// `evolveai_tts_fallbacks_total{from,reason}` (reason `breaker_open` or `failed`) and the text is
/// synthesised by `fallback` instead. A cancelled call is not a failure and falls back to nothing.
/// Both engines, the registry and the logger must outlive it.
class FallbackTtsEngine final : public TtsEngine {
 public:
  FallbackTtsEngine(TtsEngine& primary, TtsEngine& fallback, obs::MetricsRegistry& metrics, obs::Logger& logger);

  Task<Pcm> synthesize(const std::string& text, const VoiceOptions& options) override;
  /// The primary engine's name: the configured engine.
  [[nodiscard]] std::string_view name() const noexcept override { return primary_.name(); }

 private:
  TtsEngine& primary_;
  TtsEngine& fallback_;
  obs::Logger& logger_;
  obs::Counter& breaker_open_;
  obs::Counter& failed_;
};

}  // namespace evolveai::tts
