#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace evolveai::tts {

/// Mono signed 16-bit audio samples at one sample rate: what every engine produces and every
/// encoder takes.
struct Pcm {
  std::vector<std::int16_t> samples;
  int sample_rate = 0;  ///< samples per second
  std::string engine;   ///< the engine that produced it ("espeak", "google"); empty when unknown

  /// Length in seconds (0 without a sample rate).
  [[nodiscard]] double seconds() const noexcept {
    return sample_rate > 0 ? static_cast<double>(samples.size()) / sample_rate : 0.0;
  }
};

}  // namespace evolveai::tts
