#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "services/auth/clock.hpp"
#include "services/auth/crypto_init.hpp"
#include "services/auth/outcome.hpp"
#include "services/auth/primitives.hpp"
#include "services/auth/query_string.hpp"
#include "services/auth/telegram_auth.hpp"

namespace evolveai::services::auth {

/// Which of Telegram's environments signed third-party (Ed25519) init data.
enum class TelegramEnvironment { kProduction, kTest };

/// Telegram's Ed25519 public key (hex) for init data of the production environment.
inline constexpr std::string_view kTelegramProductionPublicKey =
    "e7bf03a2fa4602af4580703d88dda5bb59f32ed8b02a56c187fe7d34caed242d";
/// Telegram's Ed25519 public key (hex) for init data of the test environment.
inline constexpr std::string_view kTelegramTestPublicKey =
    "40055058a4ee38156a06562e52eece92a771bcd8346a8c4615cb7376eddf72ec";

/// Mini App init data (`Telegram.WebApp.initData`) parsed from its query string. Nothing in
/// it is trusted until InitDataVerifier has checked the hash or signature.
struct TelegramInitData {
  std::vector<QueryField> fields;  ///< every decoded pair, sorted by key; hash and signature included
  std::optional<std::string> hash;
  std::optional<std::string> signature;
  std::optional<std::int64_t> auth_date;  ///< Unix seconds
  std::optional<TelegramUser> user;
  std::optional<std::string> query_id;
  std::optional<std::string> chat_type;
  std::optional<std::string> chat_instance;
  std::optional<std::string> start_param;

  /// Parses the raw query string: kMalformed for a bad query string, a non-numeric auth_date
  /// or a `user` that is not a JSON object with an `id` and a `first_name`; kDuplicateField
  /// when a key repeats. Unknown keys are kept in `fields` (they are signed too).
  [[nodiscard]] static Outcome<TelegramInitData, TelegramAuthFailure> parse(std::string_view raw);

  /// The text the HMAC covers: every field but `hash`, as `key=value` lines sorted by key
  /// and joined by '\n' (a `signature` field is included, as Telegram signs it).
  [[nodiscard]] std::string data_check_string() const;

  /// The text Telegram's Ed25519 signature covers: "<bot_id>:WebAppData\n" followed by every
  /// field but `hash` and `signature`, as sorted `key=value` lines joined by '\n'.
  [[nodiscard]] std::string third_party_check_string(std::int64_t bot_id) const;
};

/// How init data was proven to come from Telegram.
enum class InitDataMethod {
  kHmac,     ///< HMAC-SHA256 keyed from our bot token
  kEd25519,  ///< Telegram's third-party signature, checked with its public key and our bot id
};

/// Init data whose signature and freshness were checked: safe to sign the user in.
struct VerifiedInitData {
  TelegramUser user;
  Time auth_date;
  std::optional<std::string> query_id;
  std::optional<std::string> chat_type;
  std::optional<std::string> chat_instance;
  std::optional<std::string> start_param;
  InitDataMethod method = InitDataMethod::kHmac;
};

/// What InitDataVerifier checks against.
struct InitDataVerifierOptions {
  std::string bot_token;    ///< secret (config `telegram.bot_token`); when set, the HMAC check is used
  std::int64_t bot_id = 0;  ///< config `auth.bot_id`; used for the Ed25519 check when bot_token is empty
  TelegramEnvironment environment = TelegramEnvironment::kProduction;  ///< whose public key (Ed25519 only)
  FreshnessPolicy freshness;
};

/// Verifies Mini App init data as Telegram specifies: with a bot token, `hash` must be
/// HMAC_SHA256(HMAC_SHA256("WebAppData", bot_token), data_check_string) (compared in constant
/// time); with only a bot id, `signature` must be Telegram's Ed25519 signature of the
/// third-party check string. Then `auth_date` must be fresh and a `user` present.
/// Checks run in this order, so a refusal names the first problem: shape, missing
/// hash/signature, missing auth_date, freshness, hash/signature, user. Thread-safe.
class InitDataVerifier {
 public:
  /// Throws std::invalid_argument when neither a bot token nor a positive bot id is given,
  /// or the freshness policy is invalid. Only a key derived from the token is kept.
  InitDataVerifier(const CryptoInit& crypto, const InitDataVerifierOptions& options, Clock clock = system_clock());
  ~InitDataVerifier();
  InitDataVerifier(const InitDataVerifier&) = delete;
  InitDataVerifier& operator=(const InitDataVerifier&) = delete;
  InitDataVerifier(InitDataVerifier&&) = delete;
  InitDataVerifier& operator=(InitDataVerifier&&) = delete;

  /// Checks raw init data (the query string exactly as the Mini App received it).
  [[nodiscard]] Outcome<VerifiedInitData, TelegramAuthFailure> verify(std::string_view raw) const;

  /// Which check this verifier applies.
  [[nodiscard]] InitDataMethod method() const noexcept { return method_; }

 private:
  [[nodiscard]] std::optional<TelegramAuthFailure> check_hmac(const TelegramInitData& data) const;
  [[nodiscard]] std::optional<TelegramAuthFailure> check_ed25519(const TelegramInitData& data) const;

  InitDataMethod method_;
  Digest secret_key_{};                         ///< HMAC_SHA256("WebAppData", bot_token), HMAC only
  std::array<unsigned char, 32> public_key_{};  ///< Telegram's Ed25519 key, Ed25519 only
  std::int64_t bot_id_ = 0;
  FreshnessPolicy freshness_;
  Clock clock_;
};

}  // namespace evolveai::services::auth
