#include "services/auth/telegram_auth.hpp"

#include <algorithm>
#include <charconv>
#include <ostream>
#include <stdexcept>

namespace evolveai::services::auth {

std::string_view to_string(TelegramAuthFailure failure) noexcept {
  switch (failure) {
    case TelegramAuthFailure::kMalformed: return "malformed";
    case TelegramAuthFailure::kDuplicateField: return "duplicate_field";
    case TelegramAuthFailure::kMissingHash: return "missing_hash";
    case TelegramAuthFailure::kBadHash: return "bad_hash";
    case TelegramAuthFailure::kMissingSignature: return "missing_signature";
    case TelegramAuthFailure::kBadSignature: return "bad_signature";
    case TelegramAuthFailure::kMissingAuthDate: return "missing_auth_date";
    case TelegramAuthFailure::kStale: return "stale";
    case TelegramAuthFailure::kAuthDateInFuture: return "auth_date_in_future";
    case TelegramAuthFailure::kMissingUser: return "missing_user";
  }
  return "unknown";
}

std::ostream& operator<<(std::ostream& out, TelegramAuthFailure failure) {
  return out << to_string(failure);
}

void validate_policy(const FreshnessPolicy& policy) {
  if (policy.max_age <= std::chrono::milliseconds::zero()) {
    throw std::invalid_argument("auth_date max age must be positive");
  }
  if (policy.clock_skew < std::chrono::milliseconds::zero()) {
    throw std::invalid_argument("clock skew must not be negative");
  }
}

std::optional<TelegramAuthFailure> check_freshness(std::int64_t auth_date, Time now, const FreshnessPolicy& policy) {
  using std::chrono::milliseconds;
  constexpr std::int64_t kLatestSeconds = 999'999'999'999;  // what parse_unix_seconds can yield
  if (auth_date < 0) {
    return TelegramAuthFailure::kStale;
  }
  if (auth_date > kLatestSeconds) {
    return TelegramAuthFailure::kAuthDateInFuture;
  }
  // Whole milliseconds: auth_date is bounded by parse_unix_seconds, so nothing overflows.
  const milliseconds signed_at = std::chrono::seconds(auth_date);
  const auto current = std::chrono::duration_cast<milliseconds>(now.time_since_epoch());
  if (signed_at > current + policy.clock_skew) {
    return TelegramAuthFailure::kAuthDateInFuture;
  }
  if (current - signed_at > policy.max_age + policy.clock_skew) {
    return TelegramAuthFailure::kStale;
  }
  return std::nullopt;
}

std::string join_sorted_lines(std::vector<std::string> lines) {
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) {
      out.push_back('\n');
    }
    out.append(lines[i]);
  }
  return out;
}

namespace {

std::optional<std::int64_t> parse_digits(std::string_view text, std::size_t max_digits) noexcept {
  if (text.empty() || text.size() > max_digits) {
    return std::nullopt;
  }
  std::int64_t value = 0;
  const auto* const end = text.data() + text.size();
  const auto [ptr, error] = std::from_chars(text.data(), end, value);
  // from_chars accepts a leading '-'; digits only are wanted.
  if (error != std::errc{} || ptr != end || text.front() == '-') {
    return std::nullopt;
  }
  return value;
}

}  // namespace

std::optional<std::int64_t> parse_unix_seconds(std::string_view text) noexcept {
  return parse_digits(text, 12);
}

std::optional<std::int64_t> parse_telegram_id(std::string_view text) noexcept {
  auto id = parse_digits(text, 18);
  if (id && *id <= 0) {
    return std::nullopt;
  }
  return id;
}

}  // namespace evolveai::services::auth
