#include "tts/audio_encoding.hpp"

#include <gtest/gtest.h>

#include <opus/opus.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <stdexcept>
#include <string>
#include <vector>

namespace evolveai::tts {
namespace {

std::vector<std::int16_t> sine(double hz, int rate, double seconds, double amplitude = 10000.0) {
  const auto count = static_cast<std::size_t>(seconds * rate);
  std::vector<std::int16_t> out(count);
  for (std::size_t i = 0; i < count; ++i) {
    out[i] =
        static_cast<std::int16_t>(amplitude * std::sin(2.0 * std::numbers::pi * hz * static_cast<double>(i) / rate));
  }
  return out;
}

Pcm pcm_of(std::vector<std::int16_t> samples, int rate) {
  Pcm pcm;
  pcm.samples = std::move(samples);
  pcm.sample_rate = rate;
  return pcm;
}

std::uint32_t u32(const std::string& bytes, std::size_t at) {
  std::uint32_t value = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    value |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at + i])) << (8U * i);
  }
  return value;
}

std::uint16_t u16(const std::string& bytes, std::size_t at) {
  return static_cast<std::uint16_t>(static_cast<unsigned char>(bytes[at]) |
                                    (static_cast<unsigned>(static_cast<unsigned char>(bytes[at + 1])) << 8U));
}

std::uint64_t u64(const std::string& bytes, std::size_t at) {
  return static_cast<std::uint64_t>(u32(bytes, at)) | (static_cast<std::uint64_t>(u32(bytes, at + 4)) << 32U);
}

/// The Ogg page checksum (CRC-32, polynomial 0x04C11DB7, no reflection, zero start), computed
/// here independently of libogg.
std::uint32_t ogg_crc(const std::string& page) {
  std::uint32_t crc = 0;
  for (const char c : page) {
    crc ^= static_cast<std::uint32_t>(static_cast<unsigned char>(c)) << 24U;
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 0x80000000U) != 0 ? (crc << 1U) ^ 0x04C11DB7U : crc << 1U;
    }
  }
  return crc;
}

struct OggPage {
  std::uint8_t flags = 0;
  std::int64_t granule = 0;
  std::uint32_t serial = 0;
  std::uint32_t sequence = 0;
  std::vector<std::string> packets;  ///< packets that end on this page
  bool continues = false;            ///< the last packet goes on on the next page
};

/// Parses a whole Ogg stream, checking every page's structure and checksum.
std::vector<OggPage> parse_ogg(const std::string& bytes) {
  std::vector<OggPage> pages;
  std::string partial;
  std::size_t at = 0;
  while (at < bytes.size()) {
    if (bytes.size() - at < 27 || bytes.compare(at, 4, "OggS") != 0) {
      throw std::runtime_error("no capture pattern at " + std::to_string(at));
    }
    if (bytes[at + 4] != 0) {
      throw std::runtime_error("unknown Ogg version");
    }
    OggPage page;
    page.flags = static_cast<std::uint8_t>(bytes[at + 5]);
    page.granule = static_cast<std::int64_t>(u64(bytes, at + 6));
    page.serial = u32(bytes, at + 14);
    page.sequence = u32(bytes, at + 18);
    const std::uint32_t stored_crc = u32(bytes, at + 22);
    const auto segments = static_cast<std::size_t>(static_cast<unsigned char>(bytes[at + 26]));
    std::size_t body = 0;
    for (std::size_t i = 0; i < segments; ++i) {
      body += static_cast<unsigned char>(bytes[at + 27 + i]);
    }
    const std::size_t header = 27 + segments;
    if (at + header + body > bytes.size()) {
      throw std::runtime_error("truncated page");
    }
    std::string whole = bytes.substr(at, header + body);
    whole.replace(22, 4, 4, '\0');
    if (ogg_crc(whole) != stored_crc) {
      throw std::runtime_error("bad checksum on page " + std::to_string(page.sequence));
    }
    if (!partial.empty() && (page.flags & 0x01U) == 0) {
      throw std::runtime_error("a packet continues but the page is not marked as a continuation");
    }
    std::size_t offset = at + header;
    for (std::size_t i = 0; i < segments; ++i) {
      const auto lacing = static_cast<std::size_t>(static_cast<unsigned char>(bytes[at + 27 + i]));
      partial.append(bytes, offset, lacing);
      offset += lacing;
      if (lacing < 255) {
        page.packets.push_back(std::move(partial));
        partial.clear();
      }
    }
    page.continues = segments > 0 && static_cast<unsigned char>(bytes[at + 27 + segments - 1]) == 255;
    pages.push_back(std::move(page));
    at += header + body;
  }
  return pages;
}

TEST(WavEncoding, HeaderDescribesSixteenBitMonoPcm) {
  const Pcm pcm = pcm_of({0, 1000, -1000, 32767, -32768}, 22050);
  const std::string wav = encode_wav(pcm);
  ASSERT_EQ(wav.size(), 44U + 10U);
  EXPECT_EQ(wav.substr(0, 4), "RIFF");
  EXPECT_EQ(u32(wav, 4), wav.size() - 8);
  EXPECT_EQ(wav.substr(8, 8), "WAVEfmt ");
  EXPECT_EQ(u32(wav, 16), 16U);
  EXPECT_EQ(u16(wav, 20), 1U);  // PCM
  EXPECT_EQ(u16(wav, 22), 1U);  // mono
  EXPECT_EQ(u32(wav, 24), 22050U);
  EXPECT_EQ(u32(wav, 28), 44100U);  // bytes per second
  EXPECT_EQ(u16(wav, 32), 2U);
  EXPECT_EQ(u16(wav, 34), 16U);
  EXPECT_EQ(wav.substr(36, 4), "data");
  EXPECT_EQ(u32(wav, 40), 10U);
  EXPECT_EQ(static_cast<std::int16_t>(u16(wav, 44 + 6)), 32767);
  EXPECT_EQ(static_cast<std::int16_t>(u16(wav, 44 + 8)), -32768);
}

TEST(WavEncoding, DecodingReadsBackWhatWasEncoded) {
  const Pcm pcm = pcm_of(sine(300, 16000, 0.1), 16000);
  const auto decoded = decode_wav(encode_wav(pcm));
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->sample_rate, 16000);
  EXPECT_EQ(decoded->samples, pcm.samples);
}

TEST(WavEncoding, DecodingMixesStereoDownAndSkipsUnknownChunks) {
  std::string wav = encode_wav(pcm_of({100, 300, -200, -400}, 8000));
  // Rewrite as stereo (two frames) and put a LIST chunk before the data.
  wav[22] = 2;
  wav.replace(28, 4, std::string("\x00\x7d\x00\x00", 4));  // 32000 bytes per second
  wav[32] = 4;
  const std::string list("LIST\x04\x00\x00\x00info", 12);
  wav.insert(36, list);
  const auto decoded = decode_wav(wav);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->samples, (std::vector<std::int16_t>{200, -300}));
}

TEST(WavEncoding, DecodingRefusesWhatIsNotSixteenBitPcm) {
  EXPECT_FALSE(decode_wav("not a wav file at all"));
  std::string eight_bit = encode_wav(pcm_of({1, 2}, 8000));
  eight_bit[34] = 8;
  EXPECT_FALSE(decode_wav(eight_bit));
  std::string no_fmt = encode_wav(pcm_of({1, 2}, 8000));
  no_fmt.replace(12, 4, "junk");
  EXPECT_FALSE(decode_wav(no_fmt));
  EXPECT_THROW((void)encode_wav(pcm_of({1}, 0)), std::invalid_argument);
}

/// Zero crossings per second of a signal: twice its frequency for a pure tone.
double crossing_rate(const std::vector<std::int16_t>& samples, int rate) {
  std::size_t crossings = 0;
  for (std::size_t i = 1; i < samples.size(); ++i) {
    if ((samples[i - 1] < 0) != (samples[i] < 0)) {
      ++crossings;
    }
  }
  return static_cast<double>(crossings) / (static_cast<double>(samples.size()) / rate);
}

double peak(const std::vector<std::int16_t>& samples, std::size_t skip) {
  double max = 0;
  for (std::size_t i = skip; i + skip < samples.size(); ++i) {
    max = std::max(max, std::abs(static_cast<double>(samples[i])));
  }
  return max;
}

TEST(Resampler, KeepsDurationPitchAndLoudnessWhenUpsampling) {
  const auto input = sine(440, 22050, 1.0);
  const auto output = resample(input, 22050, 48000);
  EXPECT_EQ(output.size(), 48000U);
  EXPECT_NEAR(crossing_rate(output, 48000), 880.0, 4.0);
  EXPECT_NEAR(peak(output, 100), 10000.0, 150.0);
}

TEST(Resampler, RemovesWhatTheLowerRateCannotHoldWhenDownsampling) {
  const auto audible = resample(sine(1000, 48000, 0.5), 48000, 16000);
  EXPECT_EQ(audible.size(), 8000U);
  EXPECT_NEAR(crossing_rate(audible, 16000), 2000.0, 8.0);
  EXPECT_NEAR(peak(audible, 100), 10000.0, 200.0);
  // 12 kHz is above the 8 kHz Nyquist limit of 16 kHz audio: it must not alias back in.
  const auto too_high = resample(sine(12000, 48000, 0.5), 48000, 16000);
  EXPECT_LT(peak(too_high, 100), 100.0);
}

TEST(Resampler, SameRateAndEmptyInputPassThrough) {
  const std::vector<std::int16_t> input{1, -2, 3};
  EXPECT_EQ(resample(input, 24000, 24000), input);
  EXPECT_TRUE(resample({}, 22050, 48000).empty());
  EXPECT_EQ(resample(input, 24000, 48000).size(), 6U);
  EXPECT_THROW((void)resample(input, 0, 48000), std::invalid_argument);
}

class OggOpus : public ::testing::Test {
 protected:
  /// The stream's pages, with what every stream must hold checked on the way.
  static std::vector<OggPage> checked_pages(const std::string& ogg) {
    auto pages = parse_ogg(ogg);
    EXPECT_GE(pages.size(), 3U);
    for (std::size_t i = 0; i < pages.size(); ++i) {
      EXPECT_EQ(pages[i].sequence, i);
      EXPECT_EQ(pages[i].serial, pages[0].serial);
      EXPECT_EQ((pages[i].flags & 0x02U) != 0, i == 0) << "beginning of stream only on the first page";
      EXPECT_EQ((pages[i].flags & 0x04U) != 0, i + 1 == pages.size()) << "end of stream only on the last page";
    }
    return pages;
  }
};

TEST_F(OggOpus, HeadAndTagsPagesComeFirstAndAlone) {
  const Pcm pcm = pcm_of(sine(220, 22050, 1.0), 22050);
  const auto pages = checked_pages(encode_ogg_opus(pcm));
  ASSERT_EQ(pages[0].packets.size(), 1U);
  const std::string& head = pages[0].packets[0];
  ASSERT_EQ(head.size(), 19U);
  EXPECT_EQ(head.substr(0, 8), "OpusHead");
  EXPECT_EQ(head[8], 1);         // version
  EXPECT_EQ(head[9], 1);         // mono
  EXPECT_GT(u16(head, 10), 0U);  // pre-skip: the encoder's lookahead
  EXPECT_EQ(u32(head, 12), 22050U);
  EXPECT_EQ(u16(head, 16), 0U);
  EXPECT_EQ(head[18], 0);
  EXPECT_EQ(pages[0].granule, 0);

  ASSERT_EQ(pages[1].packets.size(), 1U);
  const std::string& tags = pages[1].packets[0];
  EXPECT_EQ(tags.substr(0, 8), "OpusTags");
  const std::uint32_t vendor_length = u32(tags, 8);
  EXPECT_EQ(tags.substr(12, vendor_length), opus_get_version_string());
  EXPECT_EQ(u32(tags, 12 + vendor_length), 1U);
  EXPECT_EQ(pages[1].granule, 0);
  EXPECT_FALSE(pages[1].continues);
}

TEST_F(OggOpus, GranulePositionsCountDecodedSamplesAndTrimTheEnd) {
  const Pcm pcm = pcm_of(sine(330, 22050, 1.3), 22050);
  const std::string ogg = encode_ogg_opus(pcm);
  const auto pages = checked_pages(ogg);
  const int pre_skip = u16(pages[0].packets[0], 10);
  const auto samples48 = static_cast<std::int64_t>(resample(pcm.samples, 22050, 48000).size());

  int error = 0;
  OpusDecoder* decoder = opus_decoder_create(48000, 1, &error);
  ASSERT_EQ(error, OPUS_OK);
  std::vector<opus_int16> out(5760);
  std::int64_t decoded = 0;
  std::int64_t previous_granule = 0;
  for (std::size_t i = 2; i < pages.size(); ++i) {
    for (const auto& packet : pages[i].packets) {
      EXPECT_EQ(opus_packet_get_nb_samples(reinterpret_cast<const unsigned char*>(packet.data()),
                                           static_cast<opus_int32>(packet.size()), 48000),
                960)
          << "every packet is a 20 ms frame";
      const int n = opus_decode(decoder, reinterpret_cast<const unsigned char*>(packet.data()),
                                static_cast<opus_int32>(packet.size()), out.data(), static_cast<int>(out.size()), 0);
      ASSERT_GT(n, 0);
      decoded += n;
    }
    if (pages[i].packets.empty()) {
      EXPECT_EQ(pages[i].granule, -1) << "a page where no packet ends has no granule position";
      continue;
    }
    if (i + 1 < pages.size()) {
      EXPECT_EQ(pages[i].granule, decoded) << "page " << i;
    }
    EXPECT_GT(pages[i].granule, previous_granule);
    previous_granule = pages[i].granule;
  }
  opus_decoder_destroy(decoder);
  const std::int64_t final_granule = pages.back().granule;
  EXPECT_EQ(final_granule, pre_skip + samples48) << "the last page trims the final frame's padding";
  EXPECT_LE(final_granule, decoded);
  EXPECT_GT(final_granule, decoded - 960) << "no more than one frame of padding";
  EXPECT_NEAR(static_cast<double>(final_granule - pre_skip) / 48000.0, pcm.seconds(), 0.001);
}

TEST_F(OggOpus, EqualAudioGivesEqualBytesAndTheSerialCanBeChosen) {
  const Pcm pcm = pcm_of(sine(500, 16000, 0.4), 16000);
  EXPECT_EQ(encode_ogg_opus(pcm), encode_ogg_opus(pcm));
  OggOpusOptions options;
  options.serial = 0x12345678U;
  const auto pages = checked_pages(encode_ogg_opus(pcm, options));
  EXPECT_EQ(pages[0].serial, 0x12345678U);
}

TEST_F(OggOpus, EmptyAudioIsStillAWellFormedStream) {
  const auto pages = checked_pages(encode_ogg_opus(pcm_of({}, 22050)));
  EXPECT_EQ(pages.back().granule, u16(pages[0].packets[0], 10));
  EXPECT_THROW((void)encode_ogg_opus(pcm_of({1, 2}, -1)), std::invalid_argument);
}

TEST_F(OggOpus, AudioAlreadyAt48kHzIsNotResampled) {
  const Pcm pcm = pcm_of(sine(440, 48000, 0.5), 48000);
  const auto pages = checked_pages(encode_ogg_opus(pcm));
  EXPECT_EQ(pages.back().granule, u16(pages[0].packets[0], 10) + 24000);
  EXPECT_EQ(u32(pages[0].packets[0], 12), 48000U);
}

}  // namespace
}  // namespace evolveai::tts
