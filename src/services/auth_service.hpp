#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/task.hpp"
#include "services/auth/access_tokens.hpp"
#include "services/auth/password_hasher.hpp"
#include "services/auth/telegram_init_data.hpp"
#include "services/auth/telegram_login_widget.hpp"
#include "storage/records.hpp"

namespace evolveai::net {
class BlockingPool;
}

namespace evolveai::obs {
class Logger;
}

namespace evolveai::storage {
class Store;
}

namespace evolveai::services {

class FeatureFlags;

/// A signed-in user and their fresh access token.
struct SignIn {
  auth::IssuedToken token;
  std::chrono::seconds expires_in{};
  storage::User user;
};

/// Who a verified access token belongs to.
struct Principal {
  auth::Role role = auth::Role::kUser;
  std::int64_t id = 0;  ///< user id or admin id
};

/// Sign-in with Telegram data, admin log-in and the per-request token check. Refusals are
/// core::Error (401 `unauthorized` / `token_expired`, 403 `forbidden` for banned users).
class AuthService {
 public:
  /// `init_data` and `login_widget` may be null when no bot token (or bot id) is configured:
  /// that way of signing in is then refused.
  /// With `flags`, a person new to the service may only sign up while `new_user_signup` is on
  /// for their Telegram id (else 403 `signup_closed`); users who exist are never affected.
  AuthService(storage::Store& store, const auth::AccessTokens& tokens, const auth::InitDataVerifier* init_data,
              const auth::LoginWidgetVerifier* login_widget, const auth::PasswordHasher& passwords,
              net::BlockingPool& blocking, obs::Logger& logger, FeatureFlags* flags = nullptr);

  /// Verifies Mini App init data, creates or updates the user, and issues a token.
  Task<SignIn> sign_in_with_init_data(std::string_view raw);
  /// Verifies Login Widget fields, creates or updates the user, and issues a token.
  Task<SignIn> sign_in_with_login_widget(const auth::LoginWidgetFields& fields);
  /// Checks an admin's password (argon2id, off the I/O threads); the same refusal whether
  /// the name or the password is wrong.
  Task<auth::IssuedToken> admin_log_in(std::string_view username, std::string_view password);
  /// Verifies a bearer token; a user token's user must exist and not be banned.
  Task<Principal> authenticate(std::string_view bearer_token);
  /// Lifetime of issued tokens.
  [[nodiscard]] std::chrono::seconds token_lifetime() const;

 private:
  Task<SignIn> sign_in(const auth::TelegramUser& telegram_user, std::string_view method);

  storage::Store& store_;
  const auth::AccessTokens& tokens_;
  const auth::InitDataVerifier* init_data_;
  const auth::LoginWidgetVerifier* login_widget_;
  const auth::PasswordHasher& passwords_;
  net::BlockingPool& blocking_;
  obs::Logger& logger_;
  FeatureFlags* flags_;
};

}  // namespace evolveai::services
