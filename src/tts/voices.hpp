#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "obs/trace_context.hpp"

namespace evolveai::tts {

/// Which kind of voice a client asks for (the user setting `voice`).
enum class VoiceKind { kDefault, kFemale, kMale };

/// "default", "female", "male" -> the kind; nullopt for anything else.
[[nodiscard]] std::optional<VoiceKind> parse_voice_kind(std::string_view name) noexcept;
/// The kind's name as clients write it.
[[nodiscard]] std::string_view voice_kind_name(VoiceKind kind) noexcept;

/// What one synthesis should sound like.
struct VoiceOptions {
  std::string language = "en";  ///< two-letter code; "en" and "ru" have their own voices, others speak English
  VoiceKind voice = VoiceKind::kDefault;
  int rate = 175;  ///< words per minute, 80..450
  int pitch = 50;  ///< base pitch 0..100, 50 is normal
  /// The caller's span: cloud engines send it as `traceparent` (not part of what is heard).
  obs::TraceContext trace;
};

/// "ru" when the text has more Cyrillic than Latin letters, else "en". `text` must be valid UTF-8.
[[nodiscard]] std::string detect_language(std::string_view text);

/// The language part of a voice name: "en-US-Standard-C" -> "en", "ru+f3" -> "ru" (lower case).
[[nodiscard]] std::string voice_language(std::string_view voice_name);

/// The espeak-ng voice for `options`: `configured` (an operator's choice, e.g. "en-gb") when it
/// speaks the options' language, else the language's own voice ("en-us", "ru"); female and male
/// add the variants "+f3" and "+m3".
[[nodiscard]] std::string espeak_voice_name(const VoiceOptions& options, std::string_view configured);

/// A Google Cloud voice: its name and BCP-47 language code.
struct CloudVoice {
  std::string name;
  std::string language_code;
};

/// The Google Cloud voice for `options`: `configured` (e.g. "en-US-Wavenet-D") for the default
/// voice when it speaks the options' language, else a Standard voice of the language and kind.
[[nodiscard]] CloudVoice google_voice(const VoiceOptions& options, std::string_view configured);

}  // namespace evolveai::tts
