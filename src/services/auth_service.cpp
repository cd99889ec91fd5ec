#include "services/auth_service.hpp"

#include "core/errors.hpp"
#include "net/blocking_pool.hpp"
#include "obs/logger.hpp"
#include "services/feature_flags.hpp"
#include "storage/store.hpp"

namespace evolveai::services {
namespace {

core::Error refused(std::string_view method, std::string_view reason) {
  return core::unauthorized("Telegram sign-in data could not be verified",
                            std::string(method) + " refused: " + std::string(reason));
}

}  // namespace

AuthService::AuthService(storage::Store& store, const auth::AccessTokens& tokens,
                         const auth::InitDataVerifier* init_data, const auth::LoginWidgetVerifier* login_widget,
                         const auth::PasswordHasher& passwords, net::BlockingPool& blocking, obs::Logger& logger,
                         FeatureFlags* flags)
    : store_(store),
      tokens_(tokens),
      init_data_(init_data),
      login_widget_(login_widget),
      passwords_(passwords),
      blocking_(blocking),
      logger_(logger),
      flags_(flags) {}

std::chrono::seconds AuthService::token_lifetime() const {
  return std::chrono::duration_cast<std::chrono::seconds>(tokens_.ttl());
}

Task<SignIn> AuthService::sign_in_with_init_data(std::string_view raw) {
  if (init_data_ == nullptr) {
    throw core::unauthorized("Telegram sign-in is not set up on this server",
                             "init data refused: telegram.bot_token and auth.bot_id are empty");
  }
  auto outcome = init_data_->verify(raw);
  if (!outcome) {
    throw refused("init_data", auth::to_string(outcome.reason()));
  }
  const auto user = std::move(outcome).value().user;
  co_return co_await sign_in(user, "init_data");
}

Task<SignIn> AuthService::sign_in_with_login_widget(const auth::LoginWidgetFields& fields) {
  if (login_widget_ == nullptr) {
    throw core::unauthorized("Telegram sign-in is not set up on this server",
                             "login widget refused: telegram.bot_token is empty");
  }
  auto outcome = login_widget_->verify(fields);
  if (!outcome) {
    throw refused("login_widget", auth::to_string(outcome.reason()));
  }
  const auto user = std::move(outcome).value().user;
  co_return co_await sign_in(user, "login_widget");
}

Task<SignIn> AuthService::sign_in(const auth::TelegramUser& telegram_user, std::string_view method) {
  // A banned user must not even be refreshed: look them up before writing anything.
  const auto existing = co_await store_.find_user_by_telegram_id(telegram_user.id);
  if (existing && existing->banned) {
    throw core::unauthorized("This account is blocked", "sign-in of banned user " + std::to_string(existing->id));
  }
  if (!existing && flags_ != nullptr && !co_await flags_->enabled(kFlagNewUserSignup, telegram_user.id)) {
    throw core::Error(core::ErrorKind::kForbidden, "signup_closed", "New sign-ups are closed right now");
  }
  storage::TelegramIdentity identity;
  identity.telegram_id = telegram_user.id;
  identity.first_name = telegram_user.first_name;
  identity.last_name = telegram_user.last_name;
  identity.username = telegram_user.username;
  identity.language_code = telegram_user.language_code;
  auto user = co_await store_.upsert_user(identity);
  SignIn result{tokens_.issue(user.id, auth::Role::kUser), token_lifetime(), std::move(user)};
  logger_.info("user_signed_in", {{"user_id", result.user.id}, {"method", method}});
  co_return result;
}

Task<auth::IssuedToken> AuthService::admin_log_in(std::string_view username, std::string_view password) {
  const auto admin = co_await store_.find_admin(username);
  std::optional<std::string> stored_hash;
  if (admin) {
    stored_hash = admin->password_hash;
  }
  const std::string attempt(password);
  // Named rather than a temporary inside co_await: GCC 12 may destroy such temporaries twice.
  auto verify = [this, stored_hash, attempt] { return passwords_.verify_or_dummy(stored_hash, attempt); };
  const bool ok = co_await blocking_.run(std::move(verify));
  if (!ok || !admin) {
    logger_.warn("admin_login_refused", {{"username_length", username.size()}});
    throw core::unauthorized("Wrong username or password");
  }
  logger_.info("admin_logged_in", {{"admin_id", admin->id}});
  co_return tokens_.issue(admin->id, auth::Role::kAdmin);
}

Task<Principal> AuthService::authenticate(std::string_view bearer_token) {
  auto outcome = tokens_.verify(bearer_token);
  if (!outcome) {
    if (outcome.reason() == auth::TokenFailure::kExpired) {
      throw core::token_expired();
    }
    throw core::unauthorized("The access token is not valid; sign in again",
                             "token refused: " + std::string(auth::to_string(outcome.reason())));
  }
  const auto& claims = outcome.value();
  Principal principal{claims.role, claims.subject};
  if (claims.role == auth::Role::kUser) {
    const auto user = co_await store_.find_user(claims.subject);
    if (!user) {
      throw core::unauthorized("The access token is not valid; sign in again",
                               "token of unknown user " + std::to_string(claims.subject));
    }
    if (user->banned) {
      throw core::forbidden("This account is blocked");
    }
  }
  co_return principal;
}

}  // namespace evolveai::services
