#pragma once

#include <memory>

#include "app/config.hpp"

namespace evolveai::net {
class BlockingPool;
}

namespace evolveai::obs {
class Logger;
class MetricsRegistry;
}  // namespace evolveai::obs

namespace evolveai::services {
class TtsService;
}

namespace evolveai::storage {
class Store;
}

namespace evolveai::app {

/// Speech from `[tts]`: espeak-ng always (on its own thread, bounded queue); with `tts.engine =
/// "google"` the cloud engine in front of it behind its own HTTP client, retry policy and the
/// `tts_google` circuit breaker, espeak answering whenever the cloud fails; an in-process audio
/// cache of `tts.cache_bytes`; and the TtsService that the routes use.
class TtsLayer {
 public:
  TtsLayer(const Config& config, storage::Store& store, net::BlockingPool& encoders, obs::MetricsRegistry& metrics,
           obs::Logger& logger);
  ~TtsLayer();
  TtsLayer(const TtsLayer&) = delete;
  TtsLayer& operator=(const TtsLayer&) = delete;

  /// The service behind `POST /api/v1/tts` (and voice replies).
  [[nodiscard]] services::TtsService& service();

 private:
  struct Parts;
  std::unique_ptr<Parts> parts_;
};

}  // namespace evolveai::app
