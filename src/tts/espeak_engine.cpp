#include "tts/espeak_engine.hpp"

#include <espeak-ng/espeak_ng.h>
#include <espeak-ng/speak_lib.h>

#include <algorithm>
#include <array>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "core/errors.hpp"
#include "obs/metrics.hpp"

namespace evolveai::tts {
namespace {

constexpr int kMinRate = espeakRATE_MINIMUM;
constexpr int kMaxRate = espeakRATE_MAXIMUM;

/// espeak-ng's own process-wide state, mirrored: the lock every call into the library takes, and
/// whether it has been initialised. The library is initialised once, by the first engine, and kept
/// until the process exits: espeak-ng cannot be initialised again after espeak_ng_Terminate (it
/// hangs). This exists because the library is a process-wide global itself.
struct EspeakLibrary {
  std::mutex mutex;
  bool initialised = false;
  std::string data_path;
  int sample_rate = 0;
};

EspeakLibrary& library() {
  static EspeakLibrary state;
  return state;
}

std::string status_text(espeak_ng_STATUS status) {
  std::array<char, 256> buffer{};
  espeak_ng_GetStatusCodeMessage(status, buffer.data(), buffer.size());
  return {buffer.data()};
}

/// Where the synthesis callback puts the samples of one call (espeak hands it back as user data).
struct Collector {
  std::vector<std::int16_t> samples;
  std::size_t limit = 0;
  bool overflow = false;
};

/// espeak-ng's retrieval callback: appends samples; returning 1 aborts the synthesis.
int collect_samples(short* wav, int count, espeak_EVENT* events) {
  Collector* collector = nullptr;
  for (espeak_EVENT* event = events; event != nullptr; ++event) {
    collector = static_cast<Collector*>(event->user_data);
    if (collector != nullptr || event->type == espeakEVENT_LIST_TERMINATED) {
      break;
    }
  }
  if (collector == nullptr || wav == nullptr || count <= 0) {
    return 0;
  }
  if (collector->samples.size() + static_cast<std::size_t>(count) > collector->limit) {
    collector->overflow = true;
    return 1;
  }
  collector->samples.insert(collector->samples.end(), wav, wav + count);
  return 0;
}

/// Initialises the library unless that was done before; returns its sample rate.
int initialise_library(const std::string& data_path) {
  auto& lib = library();
  const std::lock_guard lock(lib.mutex);
  if (lib.initialised) {
    if (lib.data_path != data_path) {
      throw std::invalid_argument("espeak-ng is already initialised with another data path");
    }
    return lib.sample_rate;
  }
  espeak_ng_InitializePath(data_path.empty() ? nullptr : data_path.c_str());
  espeak_ng_ERROR_CONTEXT context = nullptr;
  const espeak_ng_STATUS status = espeak_ng_Initialize(&context);
  espeak_ng_ClearErrorContext(&context);
  if (status != ENS_OK) {
    throw std::runtime_error("espeak-ng cannot start: " + status_text(status) +
                             " (is the espeak-ng-data package installed?)");
  }
  const espeak_ng_STATUS output = espeak_ng_InitializeOutput(ENOUTPUT_MODE_SYNCHRONOUS, 0, nullptr);
  if (output != ENS_OK) {
    throw std::runtime_error("espeak-ng cannot start synchronous output: " + status_text(output));
  }
  for (const char* voice : {"ru", "en-us"}) {
    if (const espeak_ng_STATUS found = espeak_ng_SetVoiceByName(voice); found != ENS_OK) {
      throw std::runtime_error(std::string("espeak-ng has no voice '") + voice + "': " + status_text(found) +
                               " (is the espeak-ng-data package installed?)");
    }
  }
  espeak_SetSynthCallback(&collect_samples);
  lib.data_path = data_path;
  lib.sample_rate = espeak_ng_GetSampleRate();
  lib.initialised = true;
  return lib.sample_rate;
}

/// Gives back a queue slot when the call that took it ends, however it ends.
class QueueSlot {
 public:
  explicit QueueSlot(std::atomic<std::size_t>& pending) : pending_(pending) {}
  ~QueueSlot() { --pending_; }
  QueueSlot(const QueueSlot&) = delete;
  QueueSlot& operator=(const QueueSlot&) = delete;

 private:
  std::atomic<std::size_t>& pending_;
};

}  // namespace

EspeakEngine::EspeakEngine(EspeakOptions options, obs::MetricsRegistry& metrics)
    : options_(std::move(options)),
      sample_rate_(initialise_library(options_.data_path)),
      rejections_(metrics
                      .counter("evolveai_tts_queue_rejections_total",
                               "Speech requests refused because the engine's queue was full.", {"engine"})
                      .with({"espeak"})),
      depth_(metrics.callback_gauge_family("evolveai_tts_queue_depth",
                                           "Speech syntheses waiting or running on the engine's thread.", {"engine"})) {
  depth_.set({"espeak"}, [this] { return static_cast<double>(pending_.load()); });
}

EspeakEngine::~EspeakEngine() {
  thread_.stop();
  depth_.remove({"espeak"});
}

Task<Pcm> EspeakEngine::synthesize(const std::string& text, const VoiceOptions& options) {
  if (pending_.fetch_add(1) >= options_.queue_size) {
    --pending_;
    rejections_.inc();
    throw core::service_unavailable("Speech synthesis is busy right now; try again in a moment", "espeak queue full");
  }
  const QueueSlot slot(pending_);
  // The task is made before it is awaited: GCC 12 mishandles temporaries inside co_await.
  auto job = [this, text, options] { return synthesize_now(text, options); };
  auto on_thread = thread_.run(std::move(job));
  co_return co_await std::move(on_thread);
}

Pcm EspeakEngine::synthesize_now(const std::string& text, const VoiceOptions& options) const {
  const std::string voice = espeak_voice_name(options, options_.voice);
  Collector collector;
  collector.limit = static_cast<std::size_t>(sample_rate_) * static_cast<std::size_t>(options_.max_audio.count());
  {
    const std::lock_guard lock(library().mutex);
    if (const espeak_ng_STATUS status = espeak_ng_SetVoiceByName(voice.c_str()); status != ENS_OK) {
      throw TtsError(TtsFailure::kRejected, "espeak-ng voice '" + voice + "': " + status_text(status));
    }
    espeak_ng_SetParameter(espeakRATE, std::clamp(options.rate, kMinRate, kMaxRate), 0);
    espeak_ng_SetParameter(espeakPITCH, std::clamp(options.pitch, 0, 100), 0);
    const espeak_ng_STATUS status =
        espeak_ng_Synthesize(text.c_str(), text.size() + 1, 0, POS_CHARACTER, 0, espeakCHARS_UTF8, nullptr, &collector);
    if (collector.overflow) {
      throw TtsError(TtsFailure::kTooLong, "espeak-ng: the audio would be longer than the limit");
    }
    if (status != ENS_OK) {
      throw TtsError(TtsFailure::kBadResponse, "espeak-ng synthesis failed: " + status_text(status));
    }
  }
  Pcm pcm;
  pcm.samples = std::move(collector.samples);
  pcm.sample_rate = sample_rate_;
  pcm.engine = "espeak";
  return pcm;
}

}  // namespace evolveai::tts
