#include "tts/audio_encoding.hpp"

#include <ogg/ogg.h>
#include <opus/opus.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <numbers>
#include <stdexcept>

namespace evolveai::tts {
namespace {

constexpr std::uint16_t kWavFormatPcm = 1;
constexpr std::uint16_t kWavFormatExtensible = 0xFFFE;
constexpr std::size_t kWavHeaderBytes = 44;

/// Input samples on each side of the resampling kernel's centre when not downsampling.
constexpr double kKernelHalfWidth = 16.0;
/// Where the low-pass edge sits, as a fraction of the lower Nyquist frequency.
constexpr double kCutoffFraction = 0.94;
/// Kaiser window shape: about 80 dB stop-band attenuation.
constexpr double kKaiserBeta = 8.0;
/// Kernel table entries per input sample (linear interpolation in between).
constexpr int kKernelSteps = 256;

/// Largest Opus packet libopus produces.
constexpr int kMaxOpusPacket = 1275 * 3 + 7;
/// Header packets: OpusHead and OpusTags.
constexpr ogg_int64_t kHeaderPackets = 2;

void put_u16(std::string& out, std::uint16_t value) {
  out.push_back(static_cast<char>(value & 0xFFU));
  out.push_back(static_cast<char>((value >> 8U) & 0xFFU));
}

void put_u32(std::string& out, std::uint32_t value) {
  for (unsigned shift = 0; shift < 32; shift += 8) {
    out.push_back(static_cast<char>((value >> shift) & 0xFFU));
  }
}

std::uint16_t get_u16(std::string_view bytes, std::size_t at) {
  return static_cast<std::uint16_t>(static_cast<unsigned char>(bytes[at]) |
                                    (static_cast<unsigned>(static_cast<unsigned char>(bytes[at + 1])) << 8U));
}

std::uint32_t get_u32(std::string_view bytes, std::size_t at) {
  std::uint32_t value = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    value |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at + i])) << (8U * i);
  }
  return value;
}

std::int16_t clamp_sample(double value) {
  const double rounded = std::round(value);
  return static_cast<std::int16_t>(std::clamp(rounded, static_cast<double>(std::numeric_limits<std::int16_t>::min()),
                                              static_cast<double>(std::numeric_limits<std::int16_t>::max())));
}

/// One half of the symmetric low-pass kernel, sampled `kKernelSteps` times per input sample.
struct Kernel {
  std::vector<double> table;
  double half_width = 0;  ///< in input samples

  Kernel(double cutoff, double width) : half_width(width) {
    // `cutoff` is in cycles per input sample; the kernel is 2fc·sinc(2fc·x) under a Kaiser window.
    const auto entries = static_cast<std::size_t>(std::ceil(width * kKernelSteps)) + 2;
    table.resize(entries);
    const double window_norm = std::cyl_bessel_i(0.0, kKaiserBeta);
    for (std::size_t i = 0; i < entries; ++i) {
      const double x = static_cast<double>(i) / kKernelSteps;
      if (x >= width) {
        table[i] = 0.0;
        continue;
      }
      const double arg = 2.0 * cutoff * x;
      const double sinc = arg == 0.0 ? 1.0 : std::sin(std::numbers::pi * arg) / (std::numbers::pi * arg);
      const double ratio = x / width;
      const double window = std::cyl_bessel_i(0.0, kKaiserBeta * std::sqrt(1.0 - ratio * ratio)) / window_norm;
      table[i] = 2.0 * cutoff * sinc * window;
    }
  }

  [[nodiscard]] double at(double x) const {
    const double position = std::abs(x) * kKernelSteps;
    const auto index = static_cast<std::size_t>(position);
    if (index + 1 >= table.size()) {
      return 0.0;
    }
    const double fraction = position - static_cast<double>(index);
    return table[index] + (table[index + 1] - table[index]) * fraction;
  }
};

/// A deterministic stream serial from the audio, so equal input gives equal bytes.
std::uint32_t serial_of(const Pcm& pcm) {
  std::uint32_t hash = 2166136261U;
  const auto mix = [&hash](std::uint32_t value) {
    hash ^= value;
    hash *= 16777619U;
  };
  mix(static_cast<std::uint32_t>(pcm.sample_rate));
  for (const std::int16_t sample : pcm.samples) {
    mix(static_cast<std::uint16_t>(sample));
  }
  return hash;
}

std::string opus_head(int pre_skip, int input_rate) {
  std::string head = "OpusHead";
  head.push_back(1);  // version
  head.push_back(1);  // channels
  put_u16(head, static_cast<std::uint16_t>(pre_skip));
  put_u32(head, static_cast<std::uint32_t>(input_rate));
  put_u16(head, 0);   // output gain
  head.push_back(0);  // channel mapping family: mono/stereo
  return head;
}

std::string opus_tags() {
  const std::string_view vendor = opus_get_version_string();
  std::string tags = "OpusTags";
  put_u32(tags, static_cast<std::uint32_t>(vendor.size()));
  tags.append(vendor);
  const std::string_view encoder = "ENCODER=evolveai";
  put_u32(tags, 1);
  put_u32(tags, static_cast<std::uint32_t>(encoder.size()));
  tags.append(encoder);
  return tags;
}

/// libogg's stream state, cleared when it goes out of scope.
class OggStream {
 public:
  explicit OggStream(std::uint32_t serial) {
    if (ogg_stream_init(&state_, static_cast<int>(serial)) != 0) {
      throw std::runtime_error("ogg_stream_init failed");
    }
  }
  ~OggStream() { ogg_stream_clear(&state_); }
  OggStream(const OggStream&) = delete;
  OggStream& operator=(const OggStream&) = delete;

  /// Adds one packet.
  void add(std::string_view data, ogg_int64_t granule, ogg_int64_t number, bool first, bool last) {
    ogg_packet packet{};
    // libogg copies the bytes; it never writes through this pointer.
    packet.packet = reinterpret_cast<unsigned char*>(const_cast<char*>(data.data()));
    packet.bytes = static_cast<long>(data.size());
    packet.b_o_s = first ? 1 : 0;
    packet.e_o_s = last ? 1 : 0;
    packet.granulepos = granule;
    packet.packetno = number;
    if (ogg_stream_packetin(&state_, &packet) != 0) {
      throw std::runtime_error("ogg_stream_packetin failed");
    }
  }

  /// Appends the pages that are full; with `flush` also the partial one, so the next packet starts a page.
  void pages_to(std::string& out, bool flush) {
    ogg_page page{};
    while ((flush ? ogg_stream_flush(&state_, &page) : ogg_stream_pageout(&state_, &page)) != 0) {
      out.append(reinterpret_cast<const char*>(page.header), static_cast<std::size_t>(page.header_len));
      out.append(reinterpret_cast<const char*>(page.body), static_cast<std::size_t>(page.body_len));
    }
  }

 private:
  ogg_stream_state state_{};
};

struct EncoderDeleter {
  void operator()(OpusEncoder* encoder) const noexcept { opus_encoder_destroy(encoder); }
};

void check_opus(int result, const char* what) {
  if (result != OPUS_OK) {
    throw std::runtime_error(std::string(what) + ": " + opus_strerror(result));
  }
}

}  // namespace

std::string encode_wav(const Pcm& pcm) {
  if (pcm.sample_rate <= 0) {
    throw std::invalid_argument("encode_wav: the sample rate must be positive");
  }
  const std::size_t data_bytes = pcm.samples.size() * 2;
  if (data_bytes > std::numeric_limits<std::uint32_t>::max() - kWavHeaderBytes) {
    throw std::invalid_argument("encode_wav: too much audio for one WAV file");
  }
  std::string out;
  out.reserve(kWavHeaderBytes + data_bytes);
  out += "RIFF";
  put_u32(out, static_cast<std::uint32_t>(kWavHeaderBytes - 8 + data_bytes));
  out += "WAVE";
  out += "fmt ";
  put_u32(out, 16);
  put_u16(out, kWavFormatPcm);
  put_u16(out, 1);  // channels
  put_u32(out, static_cast<std::uint32_t>(pcm.sample_rate));
  put_u32(out, static_cast<std::uint32_t>(pcm.sample_rate) * 2);  // bytes per second
  put_u16(out, 2);                                                // bytes per frame
  put_u16(out, 16);                                               // bits per sample
  out += "data";
  put_u32(out, static_cast<std::uint32_t>(data_bytes));
  for (const std::int16_t sample : pcm.samples) {
    put_u16(out, static_cast<std::uint16_t>(sample));
  }
  return out;
}

std::optional<Pcm> decode_wav(std::string_view bytes) {
  if (bytes.size() < 12 || bytes.substr(0, 4) != "RIFF" || bytes.substr(8, 4) != "WAVE") {
    return std::nullopt;
  }
  std::size_t at = 12;
  std::optional<std::uint16_t> channels;
  std::uint32_t rate = 0;
  while (at + 8 <= bytes.size()) {
    const std::string_view id = bytes.substr(at, 4);
    const std::uint32_t size = get_u32(bytes, at + 4);
    const std::size_t body = at + 8;
    if (id == "fmt ") {
      if (size < 16 || body + 16 > bytes.size()) {
        return std::nullopt;
      }
      const std::uint16_t format = get_u16(bytes, body);
      const std::uint16_t bits = get_u16(bytes, body + 14);
      if ((format != kWavFormatPcm && format != kWavFormatExtensible) || bits != 16) {
        return std::nullopt;
      }
      channels = get_u16(bytes, body + 2);
      rate = get_u32(bytes, body + 4);
      if ((*channels != 1 && *channels != 2) || rate == 0 ||
          rate > static_cast<std::uint32_t>(std::numeric_limits<int>::max())) {
        return std::nullopt;
      }
    } else if (id == "data") {
      if (!channels) {
        return std::nullopt;
      }
      // A WAV written while streaming may declare an unknown data size: read to the end.
      const std::size_t available = std::min<std::size_t>(size, bytes.size() - body);
      const std::size_t frame_bytes = std::size_t{2} * *channels;
      Pcm pcm;
      pcm.sample_rate = static_cast<int>(rate);
      pcm.samples.reserve(available / frame_bytes);
      for (std::size_t frame = body; frame + frame_bytes <= body + available; frame += frame_bytes) {
        int sum = 0;
        for (std::size_t channel = 0; channel < *channels; ++channel) {
          sum += static_cast<std::int16_t>(get_u16(bytes, frame + channel * 2));
        }
        pcm.samples.push_back(static_cast<std::int16_t>(sum / *channels));
      }
      return pcm;
    }
    const std::size_t next = body + size + (size % 2);  // chunks are padded to even sizes
    if (next <= at) {
      return std::nullopt;
    }
    at = next;
  }
  return std::nullopt;
}

std::vector<std::int16_t> resample(std::span<const std::int16_t> samples, int from_rate, int to_rate) {
  if (from_rate <= 0 || to_rate <= 0) {
    throw std::invalid_argument("resample: sample rates must be positive");
  }
  if (from_rate == to_rate || samples.empty()) {
    return {samples.begin(), samples.end()};
  }
  const double scale = std::min(1.0, static_cast<double>(to_rate) / from_rate);
  const Kernel kernel(0.5 * scale * kCutoffFraction, kKernelHalfWidth / scale);
  const auto from = static_cast<std::int64_t>(from_rate);
  const auto to = static_cast<std::int64_t>(to_rate);
  const auto count = static_cast<std::int64_t>(samples.size());
  const std::int64_t out_count = (count * to + from - 1) / from;
  const auto last = count - 1;
  std::vector<std::int16_t> out;
  out.reserve(static_cast<std::size_t>(out_count));
  for (std::int64_t n = 0; n < out_count; ++n) {
    // The output sample's position in input samples, exactly n * from / to.
    const std::int64_t whole = n * from / to;
    const double t = static_cast<double>(whole) + static_cast<double>(n * from - whole * to) / static_cast<double>(to);
    const auto first_tap = std::max<std::int64_t>(0, static_cast<std::int64_t>(std::ceil(t - kernel.half_width)));
    const auto last_tap = std::min<std::int64_t>(last, static_cast<std::int64_t>(std::floor(t + kernel.half_width)));
    double sum = 0.0;
    for (std::int64_t k = first_tap; k <= last_tap; ++k) {
      sum += samples[static_cast<std::size_t>(k)] * kernel.at(t - static_cast<double>(k));
    }
    out.push_back(clamp_sample(sum));
  }
  return out;
}

std::string encode_ogg_opus(const Pcm& pcm, const OggOpusOptions& options) {
  if (pcm.sample_rate <= 0) {
    throw std::invalid_argument("encode_ogg_opus: the sample rate must be positive");
  }
  const std::vector<std::int16_t> audio = resample(pcm.samples, pcm.sample_rate, kOpusSampleRate);

  int error = OPUS_OK;
  const std::unique_ptr<OpusEncoder, EncoderDeleter> encoder(
      opus_encoder_create(kOpusSampleRate, 1, OPUS_APPLICATION_VOIP, &error));
  check_opus(error, "opus_encoder_create");
  check_opus(opus_encoder_ctl(encoder.get(), OPUS_SET_BITRATE_REQUEST, opus_int32{options.bitrate}),
             "setting the Opus bitrate");
  check_opus(opus_encoder_ctl(encoder.get(), OPUS_SET_SIGNAL_REQUEST, opus_int32{OPUS_SIGNAL_VOICE}),
             "setting the Opus signal type");
  opus_int32 lookahead = 0;
  check_opus(opus_encoder_ctl(encoder.get(), OPUS_GET_LOOKAHEAD_REQUEST, &lookahead), "reading the Opus lookahead");

  OggStream stream(options.serial.value_or(serial_of(pcm)));
  std::string out;
  stream.add(opus_head(lookahead, pcm.sample_rate), 0, 0, true, false);
  stream.pages_to(out, true);  // OpusHead alone on the first page
  stream.add(opus_tags(), 0, 1, false, false);
  stream.pages_to(out, true);  // audio starts on a fresh page

  // Enough frames that the decoder, after skipping `lookahead` samples, yields every input sample;
  // the final granule position then tells it to drop the padding at the end.
  const auto total = static_cast<ogg_int64_t>(audio.size());
  const ogg_int64_t end_granule = lookahead + total;
  const ogg_int64_t frames = std::max<ogg_int64_t>(1, (end_granule + kOpusFrameSamples - 1) / kOpusFrameSamples);
  std::vector<opus_int16> frame(kOpusFrameSamples);
  std::vector<unsigned char> packet(kMaxOpusPacket);
  for (ogg_int64_t i = 0; i < frames; ++i) {
    const ogg_int64_t begin = i * kOpusFrameSamples;
    std::fill(frame.begin(), frame.end(), opus_int16{0});
    if (begin < total) {
      const auto available = std::min<ogg_int64_t>(kOpusFrameSamples, total - begin);
      std::copy_n(audio.begin() + begin, available, frame.begin());
    }
    const opus_int32 size = opus_encode(encoder.get(), frame.data(), kOpusFrameSamples, packet.data(),
                                        static_cast<opus_int32>(packet.size()));
    if (size < 0) {
      check_opus(size, "opus_encode");
    }
    const bool last = i + 1 == frames;
    const ogg_int64_t granule = last ? end_granule : (i + 1) * kOpusFrameSamples;
    const std::string_view bytes(reinterpret_cast<const char*>(packet.data()), static_cast<std::size_t>(size));
    stream.add(bytes, granule, kHeaderPackets + i, false, last);
    stream.pages_to(out, last);
  }
  return out;
}

}  // namespace evolveai::tts
