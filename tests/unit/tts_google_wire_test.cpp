#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "core/base64.hpp"
#include "tts/audio_encoding.hpp"
#include "tts/google_tts_engine.hpp"

namespace evolveai::tts {
namespace {

namespace json = boost::json;

GoogleTtsEngine engine(std::string voice = {}) {
  GoogleTtsOptions options;
  options.api_key = "key";
  options.voice = std::move(voice);
  return GoogleTtsEngine(std::move(options), std::make_shared<net::HttpClient>());
}

std::string audio_body(std::string_view bytes) {
  return json::serialize(json::object{{"audioContent", core::base64_encode(bytes)}});
}

TEST(GoogleTtsWire, RequestAsksForLinear16InTheTextsLanguage) {
  VoiceOptions options;
  options.language = "ru";
  options.voice = VoiceKind::kFemale;
  options.rate = 350;
  options.pitch = 75;
  const auto body = json::parse(engine().request_body("Привет", options)).as_object();
  EXPECT_EQ(body.at("input").at("text").as_string(), "Привет");
  EXPECT_EQ(body.at("voice").at("languageCode").as_string(), "ru-RU");
  EXPECT_EQ(body.at("voice").at("name").as_string(), "ru-RU-Standard-A");
  const auto& audio = body.at("audioConfig").as_object();
  EXPECT_EQ(audio.at("audioEncoding").as_string(), "LINEAR16");
  EXPECT_EQ(audio.at("sampleRateHertz").as_int64(), 24000);
  EXPECT_DOUBLE_EQ(audio.at("speakingRate").as_double(), 2.0);
  EXPECT_DOUBLE_EQ(audio.at("pitch").as_double(), 10.0);
}

TEST(GoogleTtsWire, ConfiguredVoiceIsUsedForItsLanguage) {
  const auto body = json::parse(engine("en-GB-Wavenet-B").request_body("Hi", VoiceOptions{})).as_object();
  EXPECT_EQ(body.at("voice").at("name").as_string(), "en-GB-Wavenet-B");
  EXPECT_EQ(body.at("voice").at("languageCode").as_string(), "en-GB");
}

TEST(GoogleTtsWire, ResponseWithAWavFileReadsAsItsPcm) {
  Pcm pcm;
  pcm.samples = {1, -2, 300, -400};
  pcm.sample_rate = 24000;
  const Pcm read = engine().read_response(audio_body(encode_wav(pcm)));
  EXPECT_EQ(read.samples, pcm.samples);
  EXPECT_EQ(read.sample_rate, 24000);
  EXPECT_EQ(read.engine, "google");
}

TEST(GoogleTtsWire, ResponseWithRawLinear16ReadsAtTheRequestedRate) {
  const std::string raw("\x01\x00\xff\xff\x00\x80", 6);
  const Pcm read = engine().read_response(audio_body(raw));
  EXPECT_EQ(read.samples, (std::vector<std::int16_t>{1, -1, -32768}));
  EXPECT_EQ(read.sample_rate, 24000);
}

TEST(GoogleTtsWire, UnusableResponsesAreBadResponseErrors) {
  const auto expect_bad = [](const std::string& body) {
    try {
      (void)engine().read_response(body);
      ADD_FAILURE() << "accepted " << body;
    } catch (const TtsError& error) {
      EXPECT_EQ(error.failure(), TtsFailure::kBadResponse) << body;
      EXPECT_FALSE(error.retryable());
    }
  };
  expect_bad("not json");
  expect_bad(R"({"audio":"AAAA"})");
  expect_bad(R"({"audioContent":"%%%%"})");
  expect_bad(R"({"audioContent":""})");
  std::string eight_bit = encode_wav(Pcm{{1, 2}, 8000, ""});
  eight_bit[34] = 8;
  expect_bad(audio_body(eight_bit));
}

TEST(GoogleTtsWire, Base64DecodesWithAndWithoutPadding) {
  EXPECT_EQ(decode_base64("aGVsbG8="), "hello");
  EXPECT_EQ(decode_base64("aGVsbG8"), "hello");
  EXPECT_EQ(decode_base64(""), "");
  EXPECT_EQ(decode_base64(core::base64_encode(std::string("\x00\xff\x10", 3))), std::string("\x00\xff\x10", 3));
  EXPECT_FALSE(decode_base64("a"));
  EXPECT_FALSE(decode_base64("aGVs bG8="));
}

}  // namespace
}  // namespace evolveai::tts
