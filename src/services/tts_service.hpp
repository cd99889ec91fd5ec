#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/task.hpp"
#include "obs/trace_context.hpp"
#include "storage/records.hpp"
#include "tts/voices.hpp"

namespace evolveai::cache {
class Cache;
}

namespace evolveai::net {
class BlockingPool;
}

namespace evolveai::obs {
class Counter;
class Histogram;
class Logger;
class MetricsRegistry;
template <typename Metric>
class Family;
}  // namespace evolveai::obs

namespace evolveai::storage {
class Store;
}

namespace evolveai::tts {
class TtsEngine;
}

namespace evolveai::services {

/// The audio formats speech comes in.
enum class AudioFormat { kOgg, kWav };

/// "ogg" / "wav" -> the format; nullopt for anything else.
[[nodiscard]] std::optional<AudioFormat> parse_audio_format(std::string_view name) noexcept;
/// "ogg" / "wav".
[[nodiscard]] std::string_view audio_format_name(AudioFormat format) noexcept;
/// `audio/ogg` (Opus inside) or `audio/wav`.
[[nodiscard]] std::string_view audio_content_type(AudioFormat format) noexcept;

/// What speech requests may ask for and how they sound; from `[tts]`.
struct TtsLimits {
  std::size_t max_chars = 1000;  ///< longest text, in characters
  std::int64_t free_daily = 5;   ///< syntheses a free user gets per UTC day; premium is unlimited
  int rate = 175;                ///< words per minute
  int pitch = 50;                ///< 0..100, 50 normal
  std::chrono::milliseconds cache_ttl = std::chrono::hours(24);  ///< how long synthesised audio is kept
};

/// One request for speech, from either front door.
struct SpeechRequest {
  storage::UserId user_id = 0;
  std::string text;
  std::string voice = "default";  ///< default, female or male
  std::string format = "ogg";     ///< ogg or wav
  obs::TraceContext trace;        ///< the front door's span, propagated to a cloud engine
};

/// Synthesised speech, encoded.
struct Speech {
  std::string audio;
  AudioFormat format = AudioFormat::kOgg;
  std::string engine;   ///< the engine that produced it
  bool cached = false;  ///< served from the audio cache
};

/// A validated request: what will be synthesised and how.
struct CheckedSpeech {
  std::string text;
  tts::VoiceOptions voice;
  AudioFormat format = AudioFormat::kOgg;
};

/// Turns text into audio for a user: validates the request, takes one unit of the user's free
/// daily allowance (exact under concurrency, in the store; premium unlimited; 402
/// `premium_required` when used up) and gives it back when synthesis fails, serves repeats from
/// an audio cache keyed by (engine, voice, format, text), synthesises through the engine and
/// encodes off the I/O threads. Counts requests in `evolveai_tts_requests_total{format,outcome}`
/// and synthesis time in `evolveai_tts_synthesis_seconds{engine}`. Every reference must outlive it.
class TtsService {
 public:
  /// The store counter the daily allowance is kept in.
  static constexpr std::string_view kDailyCounter = "tts";

  TtsService(storage::Store& store, tts::TtsEngine& engine, cache::Cache& audio_cache, net::BlockingPool& encoders,
             TtsLimits limits, obs::MetricsRegistry& metrics, obs::Logger& logger);

  /// Checks a request without side effects: text 1..max_chars characters of valid UTF-8 (400
  /// `validation_failed`, field "text"), a known voice ("voice") and format ("format").
  [[nodiscard]] CheckedSpeech check(const SpeechRequest& request) const;

  /// The request's audio. Throws core::Error: 400 as check() does, 402 `premium_required` with
  /// `resets_at` when a free user's allowance for today is used up, 503 when synthesis fails.
  Task<Speech> speak(const SpeechRequest& request);

  [[nodiscard]] const TtsLimits& limits() const noexcept { return limits_; }

 private:
  Task<Speech> produce(const CheckedSpeech& checked);
  [[nodiscard]] std::string cache_key(std::string_view engine, const CheckedSpeech& checked) const;
  /// Counts one request's outcome.
  void count(AudioFormat format, std::string_view outcome);

  storage::Store& store_;
  tts::TtsEngine& engine_;
  cache::Cache& audio_cache_;
  net::BlockingPool& encoders_;
  TtsLimits limits_;
  obs::Logger& logger_;
  obs::Family<obs::Counter>& requests_;
  obs::Family<obs::Histogram>& synthesis_seconds_;
};

}  // namespace evolveai::services
