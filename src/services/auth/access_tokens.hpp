#pragma once

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "services/auth/clock.hpp"
#include "services/auth/crypto_init.hpp"
#include "services/auth/outcome.hpp"

namespace evolveai::services::auth {

/// What a token lets its bearer do.
enum class Role {
  kUser,   ///< a Telegram user: the /api/v1 routes, own data only
  kAdmin,  ///< an admin account: /api/v1/admin/*
};

/// "user" or "admin": the `role` claim.
[[nodiscard]] std::string_view to_string(Role role) noexcept;

/// One HS256 key: tokens name it by id in their `kid` header.
struct TokenKey {
  std::string id;      ///< 1..64 characters of [A-Za-z0-9_.-]
  std::string secret;  ///< at least 32 bytes
};

/// How access tokens are signed and checked.
struct AccessTokenSettings {
  std::vector<TokenKey> keys;                             ///< every key whose tokens are still accepted (at least one)
  std::string signing_key_id;                             ///< the key that signs new tokens; empty: the first of `keys`
  std::chrono::milliseconds ttl = std::chrono::hours(1);  ///< config `auth.jwt_ttl`; >= 1 s
  std::chrono::milliseconds clock_skew = std::chrono::seconds(30);  ///< config `auth.clock_skew`; >= 0
  /// Tokens whose signature and claims were checked, remembered so that a client's next
  /// requests skip the HMAC and JSON work (the times are still checked on every use). Up to
  /// twice this many are held (two generations); 0: nothing is remembered.
  /// Config `auth.verified_token_cache`.
  std::size_t verified_cache = 2048;
};

/// What a verified access token says.
struct AccessClaims {
  std::int64_t subject = 0;  ///< `sub`: the user id (kUser) or admin id (kAdmin)
  Role role = Role::kUser;
  std::string token_id;  ///< `jti`
  Time issued_at;        ///< `iat`
  Time expires_at;       ///< `exp`
  std::string key_id;    ///< `kid` of the key that signed it
};

/// A freshly signed access token.
struct IssuedToken {
  std::string token;     ///< the compact JWT; a secret: never log it
  std::string token_id;  ///< `jti`, 128 random bits as 32 hex digits
  Time issued_at;
  Time expires_at;
};

/// Why an access token was refused. The HTTP layer answers kExpired with 401 `token_expired`
/// and everything else with 401 `unauthorized`.
enum class TokenFailure {
  kMalformed,             ///< not three base64url parts with a JSON header, or too long
  kUnsupportedAlgorithm,  ///< header `alg` is not exactly "HS256" (e.g. none, HS512, RS256), or `crit` is set
  kUnknownKey,            ///< no `kid`, or one that is not among the verification keys
  kBadSignature,          ///< the HMAC does not match
  kExpired,               ///< `exp` has passed (beyond the clock skew)
  kNotYetValid,           ///< `iat` lies in the future (beyond the clock skew)
  kInvalidClaims,         ///< signed, but `sub`, `role`, `jti`, `iat` or `exp` is missing or of the wrong shape
};

/// The stable snake_case name of a failure (e.g. "expired"), for logs and metrics.
[[nodiscard]] std::string_view to_string(TokenFailure failure) noexcept;
/// Writes to_string(failure).
std::ostream& operator<<(std::ostream& out, TokenFailure failure);

/// Issues and verifies the service's access tokens: JWT HS256 (libjwt) with `sub`, `role`,
/// `iat`, `exp`, `jti` claims and a `kid` header. Verification checks the header `alg` itself
/// (only "HS256"; never trusting the library's choice), picks the key by `kid` so the signing
/// key can rotate while tokens of older keys stay valid until they expire, compares the HMAC
/// in constant time, then lets libjwt decode, and checks the times with the clock skew.
/// Thread-safe.
class AccessTokens {
 public:
  /// Throws std::invalid_argument when there is no key, a key id is empty, malformed or
  /// repeated, a secret is shorter than 32 bytes, signing_key_id names no key, ttl < 1 s or
  /// clock_skew < 0. The messages never contain a secret.
  AccessTokens(const CryptoInit& crypto, AccessTokenSettings settings, Clock clock = system_clock());
  ~AccessTokens();
  AccessTokens(const AccessTokens&) = delete;
  AccessTokens& operator=(const AccessTokens&) = delete;
  AccessTokens(AccessTokens&&) = delete;
  AccessTokens& operator=(AccessTokens&&) = delete;

  /// Signs a token for `subject` (> 0) with the signing key; it expires after the ttl.
  [[nodiscard]] IssuedToken issue(std::int64_t subject, Role role) const;

  /// Checks a compact JWT (without the "Bearer " prefix).
  [[nodiscard]] Outcome<AccessClaims, TokenFailure> verify(std::string_view token) const;

  /// The lifetime of new tokens (`expires_in` of the auth response).
  [[nodiscard]] std::chrono::milliseconds ttl() const noexcept { return settings_.ttl; }
  /// The id of the key that signs new tokens.
  [[nodiscard]] const std::string& signing_key_id() const noexcept { return settings_.signing_key_id; }

  /// A stable key id for a secret that has none (the config holds one bare secret): 16 hex
  /// digits of HMAC_SHA256(secret, a fixed label). It reveals nothing usable about the secret.
  [[nodiscard]] static std::string derive_key_id(std::string_view secret);

 private:
  [[nodiscard]] const TokenKey* find_key(std::string_view id) const;
  /// Signature and claims, without the time checks.
  [[nodiscard]] Outcome<AccessClaims, TokenFailure> check_signed(std::string_view token) const;
  [[nodiscard]] std::optional<AccessClaims> remembered(std::string_view token) const;
  void remember(std::string_view token, const AccessClaims& claims) const;

  AccessTokenSettings settings_;
  const TokenKey* signing_key_ = nullptr;
  Clock clock_;
  /// Verified tokens: the newer generation takes new entries; when full, it becomes the older
  /// one and the older is dropped (roughly least-recently-used, for two lookups at most).
  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, AccessClaims> cache_new_;
  mutable std::unordered_map<std::string, AccessClaims> cache_old_;
};

}  // namespace evolveai::services::auth
