#pragma once

#include <map>
#include <string>

#include "services/auth/clock.hpp"
#include "services/auth/outcome.hpp"
#include "services/auth/primitives.hpp"
#include "services/auth/telegram_auth.hpp"

namespace evolveai::services::auth {

/// Telegram Login Widget fields as received: key → value text (numbers in decimal, as the
/// widget's redirect sends them; the HTTP layer converts a JSON object to this).
using LoginWidgetFields = std::map<std::string, std::string>;

/// Login Widget data whose hash and freshness were checked: safe to sign the user in.
struct VerifiedLoginWidget {
  TelegramUser user;  ///< language_code is never set by the widget; is_premium is false
  Time auth_date;
};

/// What LoginWidgetVerifier checks against.
struct LoginWidgetVerifierOptions {
  std::string bot_token;  ///< secret (config `telegram.bot_token`)
  FreshnessPolicy freshness;
};

/// Verifies Telegram Login Widget data as Telegram specifies: `hash` must be
/// HMAC_SHA256(SHA256(bot_token), data_check_string), where the data-check-string is every
/// received field but `hash` as sorted `key=value` lines joined by '\n'; compared in constant
/// time; then `auth_date` must be fresh. Checks run in this order, so a refusal names the first
/// problem: shape (at most 32 fields, keys of [A-Za-z0-9_], values UTF-8 without line breaks,
/// at most 4096 bytes), missing hash, missing auth_date, freshness, hash, user fields. Thread-safe.
class LoginWidgetVerifier {
 public:
  /// Throws std::invalid_argument when the bot token is empty or the freshness policy is
  /// invalid. Only SHA256(bot_token) is kept.
  explicit LoginWidgetVerifier(const LoginWidgetVerifierOptions& options, Clock clock = system_clock());
  ~LoginWidgetVerifier();
  LoginWidgetVerifier(const LoginWidgetVerifier&) = delete;
  LoginWidgetVerifier& operator=(const LoginWidgetVerifier&) = delete;
  LoginWidgetVerifier(LoginWidgetVerifier&&) = delete;
  LoginWidgetVerifier& operator=(LoginWidgetVerifier&&) = delete;

  /// Checks the widget's fields (including `hash`).
  [[nodiscard]] Outcome<VerifiedLoginWidget, TelegramAuthFailure> verify(const LoginWidgetFields& fields) const;

 private:
  Digest secret_key_{};  ///< SHA256(bot_token)
  FreshnessPolicy freshness_;
  Clock clock_;
};

}  // namespace evolveai::services::auth
