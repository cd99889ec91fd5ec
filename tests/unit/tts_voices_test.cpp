#include "tts/voices.hpp"

#include <gtest/gtest.h>

namespace evolveai::tts {
namespace {

TEST(TtsVoices, LanguageFollowsTheScriptOfMostLetters) {
  EXPECT_EQ(detect_language("Hello, how are you?"), "en");
  EXPECT_EQ(detect_language("Привет, как дела?"), "ru");
  EXPECT_EQ(detect_language("Я слушаю jazz каждый день"), "ru");
  EXPECT_EQ(detect_language("I love борщ and pelmeni"), "en");
  EXPECT_EQ(detect_language("12345 !?"), "en");
  EXPECT_EQ(detect_language("Ёлка"), "ru");
}

TEST(TtsVoices, VoiceKindsParseAndPrint) {
  for (const auto* name : {"default", "female", "male"}) {
    const auto kind = parse_voice_kind(name);
    ASSERT_TRUE(kind) << name;
    EXPECT_EQ(voice_kind_name(*kind), name);
  }
  EXPECT_FALSE(parse_voice_kind("robot"));
  EXPECT_FALSE(parse_voice_kind(""));
  EXPECT_FALSE(parse_voice_kind("Female"));
}

TEST(TtsVoices, EspeakVoicesByLanguageKindAndConfiguration) {
  VoiceOptions options;
  EXPECT_EQ(espeak_voice_name(options, ""), "en-us");
  options.voice = VoiceKind::kFemale;
  EXPECT_EQ(espeak_voice_name(options, ""), "en-us+f3");
  options.language = "ru";
  options.voice = VoiceKind::kMale;
  EXPECT_EQ(espeak_voice_name(options, ""), "ru+m3");
  options.voice = VoiceKind::kDefault;
  EXPECT_EQ(espeak_voice_name(options, "en-gb"), "ru") << "a configured voice of another language is not used";
  options.language = "en";
  EXPECT_EQ(espeak_voice_name(options, "en-gb"), "en-gb");
}

TEST(TtsVoices, GoogleVoicesByLanguageKindAndConfiguration) {
  VoiceOptions options;
  auto voice = google_voice(options, "");
  EXPECT_EQ(voice.language_code, "en-US");
  EXPECT_EQ(voice.name, "en-US-Standard-C");
  options.voice = VoiceKind::kMale;
  EXPECT_EQ(google_voice(options, "").name, "en-US-Standard-D");
  options.language = "ru";
  voice = google_voice(options, "en-GB-Wavenet-B");
  EXPECT_EQ(voice.language_code, "ru-RU");
  EXPECT_EQ(voice.name, "ru-RU-Standard-B");
  options.language = "en";
  options.voice = VoiceKind::kDefault;
  voice = google_voice(options, "en-GB-Wavenet-B");
  EXPECT_EQ(voice.name, "en-GB-Wavenet-B");
  EXPECT_EQ(voice.language_code, "en-GB");
  EXPECT_EQ(voice_language("ru-RU-Wavenet-A"), "ru");
  EXPECT_EQ(voice_language("EN+f3"), "en");
}

}  // namespace
}  // namespace evolveai::tts
