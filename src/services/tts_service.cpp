#include "services/tts_service.hpp"

#include <boost/asio/this_coro.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <exception>

#include "cache/cache.hpp"
#include "core/errors.hpp"
#include "core/time_format.hpp"
#include "core/utf8.hpp"
#include "net/blocking_pool.hpp"
#include "net/circuit_breaker.hpp"
#include "obs/logger.hpp"
#include "obs/metrics.hpp"
#include "services/auth/primitives.hpp"
#include "storage/store.hpp"
#include "tts/audio_encoding.hpp"
#include "tts/tts_engine.hpp"

namespace evolveai::services {
namespace {

/// Synthesis takes from well under a second to tens of seconds for long texts.
constexpr std::array<double, 10> kSynthesisBuckets = {0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 40.0};

bool has_something_to_say(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) { return c != ' ' && c != '\t' && c != '\n' && c != '\r'; });
}

}  // namespace

std::optional<AudioFormat> parse_audio_format(std::string_view name) noexcept {
  if (name == "ogg") {
    return AudioFormat::kOgg;
  }
  if (name == "wav") {
    return AudioFormat::kWav;
  }
  return std::nullopt;
}

std::string_view audio_format_name(AudioFormat format) noexcept {
  return format == AudioFormat::kWav ? "wav" : "ogg";
}

std::string_view audio_content_type(AudioFormat format) noexcept {
  return format == AudioFormat::kWav ? "audio/wav" : "audio/ogg";
}

TtsService::TtsService(storage::Store& store, tts::TtsEngine& engine, cache::Cache& audio_cache,
                       net::BlockingPool& encoders, TtsLimits limits, obs::MetricsRegistry& metrics,
                       obs::Logger& logger)
    : store_(store),
      engine_(engine),
      audio_cache_(audio_cache),
      encoders_(encoders),
      limits_(limits),
      logger_(logger),
      requests_(metrics.counter("evolveai_tts_requests_total",
                                "Speech requests that passed validation, by format and outcome "
                                "(synthesized, cached, premium_required, failed).",
                                {"format", "outcome"})),
      synthesis_seconds_(metrics.histogram("evolveai_tts_synthesis_seconds",
                                           "Time to synthesise speech, by the engine that produced it.", {"engine"},
                                           kSynthesisBuckets)) {}

CheckedSpeech TtsService::check(const SpeechRequest& request) const {
  if (!core::is_valid_utf8(request.text)) {
    throw core::validation_failed("text", "'text' must be valid UTF-8");
  }
  const std::size_t length = core::utf8_length(request.text);
  if (length == 0 || !has_something_to_say(request.text)) {
    throw core::validation_failed("text", "'text' must not be empty");
  }
  if (length > limits_.max_chars) {
    throw core::validation_failed("text", fmt::format("'text' must be 1 to {} characters long", limits_.max_chars));
  }
  if (request.text.find('\0') != std::string::npos) {
    throw core::validation_failed("text", "'text' must not contain NUL characters");
  }
  const auto voice = tts::parse_voice_kind(request.voice);
  if (!voice) {
    throw core::validation_failed("voice", "'voice' must be one of default, female, male");
  }
  const auto format = parse_audio_format(request.format);
  if (!format) {
    throw core::validation_failed("format", "'format' must be ogg or wav");
  }
  CheckedSpeech checked;
  checked.text = request.text;
  checked.voice.language = tts::detect_language(request.text);
  checked.voice.voice = *voice;
  checked.voice.rate = limits_.rate;
  checked.voice.pitch = limits_.pitch;
  checked.voice.trace = request.trace;
  checked.format = *format;
  return checked;
}

void TtsService::count(AudioFormat format, std::string_view outcome) {
  requests_.with({audio_format_name(format), outcome}).inc();
}

std::string TtsService::cache_key(std::string_view engine, const CheckedSpeech& checked) const {
  const std::string material = fmt::format("v1\n{}\n{}\n{}\n{}\n{}\n{}\n{}", engine, checked.voice.language,
                                           tts::voice_kind_name(checked.voice.voice), checked.voice.rate,
                                           checked.voice.pitch, audio_format_name(checked.format), checked.text);
  return "tts:" + auth::to_hex(auth::sha256(material));
}

Task<Speech> TtsService::speak(const SpeechRequest& request) {
  const CheckedSpeech checked = check(request);
  const auto grant = co_await store_.take_daily_unit(request.user_id, kDailyCounter, limits_.free_daily);
  if (!grant.granted) {
    count(checked.format, "premium_required");
    auto refusal = core::premium_required(fmt::format(
        "Your {} free voice messages for today are used up; premium makes them unlimited", limits_.free_daily));
    refusal.with_resets_at(core::format_rfc3339(grant.resets_at));
    throw refusal;
  }

  std::exception_ptr failure;
  try {
    auto produced = produce(checked);
    Speech speech = co_await std::move(produced);
    count(checked.format, speech.cached ? "cached" : "synthesized");
    co_return speech;
  } catch (...) {
    failure = std::current_exception();  // rethrown below, once the unit is given back
  }

  // The unit paid for audio that never came: give it back, even when the caller went away.
  co_await boost::asio::this_coro::reset_cancellation_state();
  try {
    co_await store_.give_back_daily_unit(request.user_id, kDailyCounter, grant.day);
  } catch (const std::exception& e) {
    logger_.warn("tts_give_back_failed", {{"user_id", request.user_id}, {"error", e.what()}});
  }
  count(checked.format, "failed");
  try {
    std::rethrow_exception(failure);
  } catch (const tts::TtsError& e) {
    logger_.warn("tts_failed", {{"engine", engine_.name()}, {"error", e.what()}});
    throw core::service_unavailable("Speech synthesis failed; try again later", e.what());
  } catch (const net::CircuitOpenError& e) {
    logger_.warn("tts_failed", {{"engine", engine_.name()}, {"error", e.what()}});
    throw core::service_unavailable("Speech synthesis is unavailable right now; try again later", e.what());
  }
}

Task<Speech> TtsService::produce(const CheckedSpeech& checked) {
  const std::string key = cache_key(engine_.name(), checked);
  if (auto hit = co_await audio_cache_.get(key)) {
    co_return Speech{std::move(*hit), checked.format, std::string(engine_.name()), true};
  }
  const auto started = std::chrono::steady_clock::now();
  auto synthesis = engine_.synthesize(checked.text, checked.voice);
  tts::Pcm pcm = co_await std::move(synthesis);
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
  std::string engine = pcm.engine.empty() ? std::string(engine_.name()) : pcm.engine;
  synthesis_seconds_.with({engine}).observe(took.count());

  const AudioFormat format = checked.format;
  auto encode = [pcm = std::move(pcm), format] {
    return format == AudioFormat::kOgg ? tts::encode_ogg_opus(pcm) : tts::encode_wav(pcm);
  };
  std::string audio = co_await encoders_.run(std::move(encode));

  // Audio from a fallback engine is kept under that engine's key, so that the configured engine
  // is asked again next time.
  const std::string stored_key = engine == engine_.name() ? key : cache_key(engine, checked);
  auto store = audio_cache_.set(stored_key, audio, limits_.cache_ttl);
  co_await std::move(store);
  co_return Speech{std::move(audio), format, std::move(engine), false};
}

}  // namespace evolveai::services
