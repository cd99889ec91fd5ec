#include "tts/voices.hpp"

#include <cctype>

namespace evolveai::tts {
namespace {

/// Decodes the code point starting at `at` of valid UTF-8 and moves `at` past it.
char32_t next_code_point(std::string_view text, std::size_t& at) {
  const auto lead = static_cast<unsigned char>(text[at]);
  std::size_t length = 1;
  char32_t value = lead;
  if (lead >= 0xF0U) {
    length = 4;
    value = lead & 0x07U;
  } else if (lead >= 0xE0U) {
    length = 3;
    value = lead & 0x0FU;
  } else if (lead >= 0xC0U) {
    length = 2;
    value = lead & 0x1FU;
  }
  for (std::size_t i = 1; i < length && at + i < text.size(); ++i) {
    value = (value << 6U) | (static_cast<unsigned char>(text[at + i]) & 0x3FU);
  }
  at += length;
  return value;
}

bool is_cyrillic(char32_t c) {
  return c >= 0x0400 && c <= 0x04FF;
}

bool is_latin(char32_t c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= 0x00C0 && c <= 0x024F && c != 0x00D7 && c != 0x00F7);
}

bool is_russian(const VoiceOptions& options) {
  return options.language == "ru";
}

}  // namespace

std::optional<VoiceKind> parse_voice_kind(std::string_view name) noexcept {
  if (name == "default") {
    return VoiceKind::kDefault;
  }
  if (name == "female") {
    return VoiceKind::kFemale;
  }
  if (name == "male") {
    return VoiceKind::kMale;
  }
  return std::nullopt;
}

std::string_view voice_kind_name(VoiceKind kind) noexcept {
  switch (kind) {
    case VoiceKind::kFemale: return "female";
    case VoiceKind::kMale: return "male";
    case VoiceKind::kDefault: break;
  }
  return "default";
}

std::string detect_language(std::string_view text) {
  std::size_t cyrillic = 0;
  std::size_t latin = 0;
  for (std::size_t at = 0; at < text.size();) {
    const char32_t c = next_code_point(text, at);
    if (is_cyrillic(c)) {
      ++cyrillic;
    } else if (is_latin(c)) {
      ++latin;
    }
  }
  return cyrillic > latin ? "ru" : "en";
}

std::string voice_language(std::string_view voice_name) {
  std::string language;
  for (const char c : voice_name) {
    if (std::isalpha(static_cast<unsigned char>(c)) == 0) {
      break;
    }
    language.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return language;
}

std::string espeak_voice_name(const VoiceOptions& options, std::string_view configured) {
  const std::string base = is_russian(options) ? "ru" : "en";
  std::string name = !configured.empty() && voice_language(configured) == base ? std::string(configured)
                     : is_russian(options)                                     ? std::string("ru")
                                                                               : std::string("en-us");
  if (options.voice == VoiceKind::kFemale) {
    name += "+f3";
  } else if (options.voice == VoiceKind::kMale) {
    name += "+m3";
  }
  return name;
}

CloudVoice google_voice(const VoiceOptions& options, std::string_view configured) {
  const bool russian = is_russian(options);
  const std::string base = russian ? "ru" : "en";
  if (options.voice == VoiceKind::kDefault && !configured.empty() && voice_language(configured) == base) {
    // "en-GB-Wavenet-B" -> language code "en-GB".
    const auto second_dash = configured.find('-', configured.find('-') + 1);
    const std::string code(configured.substr(0, second_dash));
    return {std::string(configured),
            code.find('-') == std::string::npos ? std::string(russian ? "ru-RU" : "en-US") : code};
  }
  if (russian) {
    return {options.voice == VoiceKind::kMale ? "ru-RU-Standard-B" : "ru-RU-Standard-A", "ru-RU"};
  }
  return {options.voice == VoiceKind::kMale ? "en-US-Standard-D" : "en-US-Standard-C", "en-US"};
}

}  // namespace evolveai::tts
