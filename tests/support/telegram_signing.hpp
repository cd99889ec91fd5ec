#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace evolveai::testing {

/// Mini App init data signed as Telegram signs it (HMAC-SHA256 keyed by
/// HMAC_SHA256("WebAppData", bot_token)), written independently of the server's verifier.
std::string sign_init_data(const std::string& bot_token, std::map<std::string, std::string> fields);

/// Init data for one user, signed at `auth_date` (Unix seconds).
std::string init_data_for(const std::string& bot_token, std::int64_t telegram_id, const std::string& first_name,
                          std::int64_t auth_date);

/// Login Widget fields signed with key SHA256(bot_token); returns them with `hash` added.
std::map<std::string, std::string> sign_login_widget(const std::string& bot_token,
                                                     std::map<std::string, std::string> fields);

/// Percent-encodes a query-string component.
std::string url_encode(const std::string& text);

}  // namespace evolveai::testing
