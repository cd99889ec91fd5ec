#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tts/pcm.hpp"

namespace evolveai::tts {

/// The sample rate Opus works at and OGG/Opus granule positions count in.
inline constexpr int kOpusSampleRate = 48000;
/// Samples per Opus frame at 48 kHz (20 ms).
inline constexpr int kOpusFrameSamples = 960;

/// A RIFF/WAVE file of 16-bit mono PCM (44-byte header). Throws std::invalid_argument without a
/// positive sample rate or when the data would not fit a RIFF size field.
[[nodiscard]] std::string encode_wav(const Pcm& pcm);

/// Reads a RIFF/WAVE file of 16-bit PCM (plain or WAVE_FORMAT_EXTENSIBLE), one or two channels
/// (two are mixed down); nullopt when it is anything else or truncated before the data.
[[nodiscard]] std::optional<Pcm> decode_wav(std::string_view bytes);

/// Converts `samples` from `from_rate` to `to_rate` with a Kaiser-windowed sinc filter whose
/// cutoff sits just below the lower of the two Nyquist frequencies. The result has
/// ceil(size * to_rate / from_rate) samples. Throws std::invalid_argument for rates <= 0.
[[nodiscard]] std::vector<std::int16_t> resample(std::span<const std::int16_t> samples, int from_rate, int to_rate);

/// How OGG/Opus output is made.
struct OggOpusOptions {
  int bitrate = 32000;                  ///< bits per second of the Opus stream
  std::optional<std::uint32_t> serial;  ///< the logical stream's serial; by default derived from the audio
};

/// An OGG/Opus file as Telegram voice messages need it (RFC 7845): the audio resampled to 48 kHz
/// and encoded in 20 ms frames with the VoIP application, an OpusHead page (pre-skip = the encoder's
/// lookahead, the input rate recorded) and an OpusTags page, then audio pages whose granule
/// positions count 48 kHz samples including the pre-skip; the last page (end of stream) trims
/// the padding of the final frame. Pure computation, no I/O; throws std::invalid_argument without
/// a positive sample rate and std::runtime_error when libopus or libogg fails.
[[nodiscard]] std::string encode_ogg_opus(const Pcm& pcm, const OggOpusOptions& options = {});

}  // namespace evolveai::tts
