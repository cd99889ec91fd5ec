#pragma once

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "services/auth/clock.hpp"

namespace evolveai::services::auth {

/// Why Telegram sign-in data (Mini App init data or Login Widget data) was refused. The HTTP
/// layer answers every one of them with 401 `unauthorized`; the reason is for logs and metrics.
enum class TelegramAuthFailure {
  kMalformed,         ///< not a well-formed query string / field set, or a field of the wrong shape
  kDuplicateField,    ///< a key given twice
  kMissingHash,       ///< no `hash` (HMAC check)
  kBadHash,           ///< `hash` is not the HMAC of the data
  kMissingSignature,  ///< no `signature` (Ed25519 third-party check)
  kBadSignature,      ///< `signature` is not Telegram's Ed25519 signature of the data
  kMissingAuthDate,   ///< no `auth_date`
  kStale,             ///< `auth_date` older than the allowed age
  kAuthDateInFuture,  ///< `auth_date` later than now by more than the allowed clock skew
  kMissingUser,       ///< signed data that names no user, so nobody can be signed in
};

/// The stable snake_case name of a failure (e.g. "bad_hash"), for logs and metrics.
[[nodiscard]] std::string_view to_string(TelegramAuthFailure failure) noexcept;
/// Writes to_string(failure); lets test assertions and log formatting print the name.
std::ostream& operator<<(std::ostream& out, TelegramAuthFailure failure);

/// A Telegram user as verified sign-in data describes them.
struct TelegramUser {
  std::int64_t id = 0;
  std::string first_name;
  std::optional<std::string> last_name;
  std::optional<std::string> username;
  std::optional<std::string> language_code;
  std::optional<std::string> photo_url;
  bool is_premium = false;  ///< Telegram Premium (not this service's premium)

  bool operator==(const TelegramUser&) const = default;
};

/// How old and how far ahead an `auth_date` may be.
struct FreshnessPolicy {
  std::chrono::milliseconds max_age = std::chrono::hours(24);       ///< config `auth.init_data_max_age`; > 0
  std::chrono::milliseconds clock_skew = std::chrono::seconds(30);  ///< config `auth.clock_skew`; >= 0
};

/// Throws std::invalid_argument unless max_age > 0 and clock_skew >= 0; there is no way to
/// switch the freshness check off.
void validate_policy(const FreshnessPolicy& policy);

/// Checks `auth_date` (Unix seconds) against `now`: refused as kStale when older than
/// max_age + clock_skew, as kAuthDateInFuture when later than now + clock_skew.
[[nodiscard]] std::optional<TelegramAuthFailure> check_freshness(std::int64_t auth_date, Time now,
                                                                 const FreshnessPolicy& policy);

/// Sorts `key=value` lines as whole strings (byte order, as Telegram's own examples do) and
/// joins them with '\n': the data-check-string of both sign-in checks.
[[nodiscard]] std::string join_sorted_lines(std::vector<std::string> lines);

/// Parses Unix seconds written as plain decimal digits (no sign, no spaces, at most 12 digits).
[[nodiscard]] std::optional<std::int64_t> parse_unix_seconds(std::string_view text) noexcept;

/// Parses a positive Telegram id written as plain decimal digits (at most 18 digits).
[[nodiscard]] std::optional<std::int64_t> parse_telegram_id(std::string_view text) noexcept;

}  // namespace evolveai::services::auth
