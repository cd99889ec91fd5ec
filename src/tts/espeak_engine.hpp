#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "net/blocking_pool.hpp"
#include "tts/tts_engine.hpp"

namespace evolveai::obs {
class CallbackFamily;
class Counter;
class MetricsRegistry;
}  // namespace evolveai::obs

namespace evolveai::tts {

/// How the local engine runs.
struct EspeakOptions {
  /// The espeak-ng-data directory (or its parent); empty means the library's default, which on
  /// Debian is /usr/lib/x86_64-linux-gnu/espeak-ng-data (package espeak-ng-data).
  std::string data_path;
  /// An espeak-ng voice to prefer when it speaks the request's language (e.g. "en-gb"); empty for
  /// the built-in choice (see espeak_voice_name).
  std::string voice;
  /// Syntheses waiting or running at most; one more is refused with 503 `service_unavailable`.
  std::size_t queue_size = 32;
  /// The longest audio one call may produce.
  std::chrono::seconds max_audio{600};
};

/// Speech from libespeak-ng, offline. espeak-ng keeps its state in process-wide variables and is
/// not thread-safe, so every call into it runs on this engine's one dedicated thread (and under a
/// process-wide lock, should tests build two engines at once), in synchronous mode with a
/// callback collecting the samples. The library is initialised by the first engine and stays so
/// until the process exits (it cannot be initialised twice). Callers await the result without
/// blocking their thread; the queue in front of the thread is bounded. Exports
/// `evolveai_tts_queue_depth{engine="espeak"}` and `evolveai_tts_queue_rejections_total{engine="espeak"}`.
/// The registry must outlive it.
class EspeakEngine final : public TtsEngine {
 public:
  /// Initialises espeak-ng; throws std::runtime_error when its data or the English and Russian
  /// voices cannot be loaded (a broken installation stops start-up).
  EspeakEngine(EspeakOptions options, obs::MetricsRegistry& metrics);
  /// Finishes queued syntheses and stops the thread.
  ~EspeakEngine() override;
  EspeakEngine(const EspeakEngine&) = delete;
  EspeakEngine& operator=(const EspeakEngine&) = delete;

  Task<Pcm> synthesize(const std::string& text, const VoiceOptions& options) override;
  [[nodiscard]] std::string_view name() const noexcept override { return "espeak"; }

  /// Syntheses waiting or running now.
  [[nodiscard]] std::size_t pending() const noexcept { return pending_.load(); }
  /// The sample rate espeak-ng produces.
  [[nodiscard]] int sample_rate() const noexcept { return sample_rate_; }

 private:
  /// Runs on the dedicated thread.
  [[nodiscard]] Pcm synthesize_now(const std::string& text, const VoiceOptions& options) const;

  EspeakOptions options_;
  int sample_rate_ = 0;
  std::atomic<std::size_t> pending_{0};
  obs::Counter& rejections_;
  obs::CallbackFamily& depth_;
  net::BlockingPool thread_{1};  // last: joined first, while everything it uses still exists
};

}  // namespace evolveai::tts
