#include "services/user_settings.hpp"

#include <boost/json/parse.hpp>

#include <algorithm>
#include <array>

#include "core/errors.hpp"

namespace evolveai::services {
namespace {

constexpr std::array<std::string_view, 5> kPersonas = {"friend", "mentor", "coach", "playful", "calm"};
constexpr std::array<std::string_view, 3> kVoices = {"default", "female", "male"};

template <std::size_t N>
bool one_of(const std::array<std::string_view, N>& allowed, std::string_view value) {
  return std::find(allowed.begin(), allowed.end(), value) != allowed.end();
}

bool is_language(std::string_view value) {
  return value == "auto" ||
         (value.size() == 2 && std::all_of(value.begin(), value.end(), [](char c) { return c >= 'a' && c <= 'z'; }));
}

template <std::size_t N>
std::string joined(const std::array<std::string_view, N>& allowed) {
  std::string out;
  for (const auto value : allowed) {
    out += out.empty() ? "" : ", ";
    out += value;
  }
  return out;
}

std::string string_setting(const boost::json::value& value, std::string_view key) {
  if (!value.is_string()) {
    throw core::validation_failed("settings." + std::string(key), "'" + std::string(key) + "' must be a string");
  }
  return std::string(value.as_string());
}

}  // namespace

UserSettings parse_stored_settings(std::string_view settings_json) {
  UserSettings settings;
  boost::system::error_code ec;
  const auto value = boost::json::parse(settings_json, ec);
  if (ec || !value.is_object()) {
    return settings;
  }
  const auto& object = value.as_object();
  if (const auto* persona = object.if_contains("persona");
      persona && persona->is_string() && one_of(kPersonas, persona->as_string())) {
    settings.persona = std::string(persona->as_string());
  }
  if (const auto* language = object.if_contains("reply_language");
      language && language->is_string() && is_language(language->as_string())) {
    settings.reply_language = std::string(language->as_string());
  }
  if (const auto* voice = object.if_contains("voice");
      voice && voice->is_string() && one_of(kVoices, voice->as_string())) {
    settings.voice = std::string(voice->as_string());
  }
  if (const auto* replies = object.if_contains("voice_replies"); replies && replies->is_bool()) {
    settings.voice_replies = replies->as_bool();
  }
  return settings;
}

UserSettings apply_settings_patch(UserSettings current, const boost::json::object& patch) {
  for (const auto& [key, value] : patch) {
    if (key == "persona") {
      auto persona = string_setting(value, key);
      if (!one_of(kPersonas, persona)) {
        throw core::validation_failed("settings.persona", "persona must be one of " + joined(kPersonas));
      }
      current.persona = std::move(persona);
    } else if (key == "reply_language") {
      auto language = string_setting(value, key);
      if (!is_language(language)) {
        throw core::validation_failed("settings.reply_language",
                                      "reply_language must be \"auto\" or a two-letter language code");
      }
      current.reply_language = std::move(language);
    } else if (key == "voice") {
      auto voice = string_setting(value, key);
      if (!one_of(kVoices, voice)) {
        throw core::validation_failed("settings.voice", "voice must be one of " + joined(kVoices));
      }
      current.voice = std::move(voice);
    } else if (key == "voice_replies") {
      if (!value.is_bool()) {
        throw core::validation_failed("settings.voice_replies", "voice_replies must be true or false");
      }
      current.voice_replies = value.as_bool();
    } else {
      throw core::validation_failed(
          "settings." + std::string(key),
          "unknown setting '" + std::string(key) + "'; known: persona, reply_language, voice, voice_replies");
    }
  }
  return current;
}

boost::json::object to_json(const UserSettings& settings) {
  boost::json::object object;
  object["persona"] = settings.persona;
  object["reply_language"] = settings.reply_language;
  object["voice"] = settings.voice;
  object["voice_replies"] = settings.voice_replies;
  return object;
}

}  // namespace evolveai::services
