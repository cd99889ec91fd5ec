#include "app/tts_wiring.hpp"

#include "cache/local_cache.hpp"
#include "net/circuit_breaker.hpp"
#include "net/http_client.hpp"
#include "services/tts_service.hpp"
#include "tts/espeak_engine.hpp"
#include "tts/fallback_tts_engine.hpp"
#include "tts/google_tts_engine.hpp"

namespace evolveai::app {
namespace {

/// Audio entries are large; the byte bound is what matters, this only caps bookkeeping.
constexpr std::size_t kMaxAudioEntries = 100'000;

tts::EspeakOptions espeak_options(const Config& config) {
  tts::EspeakOptions options;
  options.data_path = config.tts.espeak_data;
  // The configured voice names a cloud voice when the cloud engine is on.
  options.voice = config.tts.engine == "espeak" ? config.tts.voice : std::string();
  options.queue_size = static_cast<std::size_t>(config.tts.queue_size);
  return options;
}

net::HttpClientOptions client_options(const Config& config) {
  net::HttpClientOptions options;
  options.connect_timeout = config.tts.connect_timeout;
  options.first_byte_timeout = config.tts.timeout;
  options.read_timeout = config.tts.timeout;
  options.total_timeout = config.tts.timeout;
  options.user_agent = "evolveai-tts";
  return options;
}

services::TtsLimits tts_limits(const Config& config) {
  services::TtsLimits limits;
  limits.max_chars = static_cast<std::size_t>(config.tts.max_chars);
  limits.free_daily = config.tts.free_daily;
  limits.rate = config.tts.rate;
  limits.pitch = config.tts.pitch;
  limits.cache_ttl = config.tts.cache_ttl;
  return limits;
}

}  // namespace

/// Members in construction order; the cloud parts exist only with `tts.engine = "google"`.
struct TtsLayer::Parts {
  Parts(const Config& config, obs::MetricsRegistry& metrics, obs::Logger& logger)
      : espeak(espeak_options(config), metrics),
        audio_cache(cache::LocalCacheOptions{"tts_audio", kMaxAudioEntries, config.tts.cache_bytes}, metrics, logger) {
    if (config.tts.engine != "google") {
      return;
    }
    net::BreakerSettings breaker_settings;
    breaker_settings.failure_threshold = static_cast<unsigned>(config.tts.breaker_failures);
    breaker_settings.open_duration = config.tts.breaker_open_duration;
    breaker_settings.half_open_probes = static_cast<unsigned>(config.tts.breaker_probes);
    breaker = std::make_unique<net::CircuitBreaker>("tts_google", breaker_settings, metrics, logger);
    tts::GoogleTtsOptions options;
    if (!config.tts.base_url.empty()) {
      options.base_url = config.tts.base_url;
    }
    options.api_key = config.tts.api_key;
    options.voice = config.tts.voice;
    options.retry.max_attempts = static_cast<unsigned>(config.tts.max_retries) + 1;
    options.breaker = breaker.get();
    google = std::make_unique<tts::GoogleTtsEngine>(std::move(options),
                                                    std::make_shared<net::HttpClient>(client_options(config)));
    fallback = std::make_unique<tts::FallbackTtsEngine>(*google, espeak, metrics, logger);
  }

  /// The engine the service talks to.
  tts::TtsEngine& engine() {
    if (fallback) {
      return *fallback;
    }
    return espeak;
  }

  tts::EspeakEngine espeak;
  cache::LocalCache audio_cache;
  std::unique_ptr<net::CircuitBreaker> breaker;
  std::unique_ptr<tts::GoogleTtsEngine> google;
  std::unique_ptr<tts::FallbackTtsEngine> fallback;
  std::unique_ptr<services::TtsService> service;
};

TtsLayer::TtsLayer(const Config& config, storage::Store& store, net::BlockingPool& encoders,
                   obs::MetricsRegistry& metrics, obs::Logger& logger)
    : parts_(std::make_unique<Parts>(config, metrics, logger)) {
  parts_->service = std::make_unique<services::TtsService>(store, parts_->engine(), parts_->audio_cache, encoders,
                                                           tts_limits(config), metrics, logger);
}

TtsLayer::~TtsLayer() = default;

services::TtsService& TtsLayer::service() {
  return *parts_->service;
}

}  // namespace evolveai::app
