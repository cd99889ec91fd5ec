#pragma once

#include <string>
#include <string_view>

#include <boost/json/object.hpp>

namespace evolveai::services {

/// A user's preferences, kept as a JSON object in the user row; unknown keys are never stored.
struct UserSettings {
  std::string persona = "friend";       ///< friend, mentor, coach, playful, calm
  std::string reply_language = "auto";  ///< auto or a two-letter language code
  std::string voice = "default";        ///< default, female, male
  bool voice_replies = false;

  bool operator==(const UserSettings&) const = default;
};

/// Reads stored settings; missing or invalid stored values fall back to the defaults.
UserSettings parse_stored_settings(std::string_view settings_json);

/// Applies a client's `{"settings": {...}}` patch: only known keys, each validated; throws
/// core::Error `validation_failed` naming `settings.<key>` otherwise.
UserSettings apply_settings_patch(UserSettings current, const boost::json::object& patch);

/// The JSON object stored in the user row and returned by the API.
boost::json::object to_json(const UserSettings& settings);

}  // namespace evolveai::services
