#include "services/auth/telegram_login_widget.hpp"

#include <sodium.h>

#include <algorithm>
#include <stdexcept>
#include <utility>
#include <vector>

#include "core/utf8.hpp"

namespace evolveai::services::auth {
namespace {

constexpr std::size_t kMaxFields = 32;
constexpr std::size_t kMaxValueBytes = 4096;

bool is_key_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

bool well_formed(const LoginWidgetFields& fields) {
  if (fields.empty() || fields.size() > kMaxFields) {
    return false;
  }
  return std::all_of(fields.begin(), fields.end(), [](const auto& field) {
    const auto& [key, value] = field;
    return !key.empty() && key.size() <= 64 && std::all_of(key.begin(), key.end(), is_key_char) &&
           value.size() <= kMaxValueBytes && value.find('\n') == std::string::npos &&
           value.find('\r') == std::string::npos && core::is_valid_utf8(value);
  });
}

std::optional<std::string> optional_field(const LoginWidgetFields& fields, const std::string& key) {
  const auto it = fields.find(key);
  return it != fields.end() ? std::optional(it->second) : std::nullopt;
}

}  // namespace

LoginWidgetVerifier::LoginWidgetVerifier(const LoginWidgetVerifierOptions& options, Clock clock)
    : freshness_(options.freshness), clock_(clock ? std::move(clock) : system_clock()) {
  if (options.bot_token.empty()) {
    throw std::invalid_argument("Login Widget verification needs the bot token");
  }
  validate_policy(freshness_);
  secret_key_ = sha256(options.bot_token);
}

LoginWidgetVerifier::~LoginWidgetVerifier() {
  sodium_memzero(secret_key_.data(), secret_key_.size());
}

Outcome<VerifiedLoginWidget, TelegramAuthFailure> LoginWidgetVerifier::verify(const LoginWidgetFields& fields) const {
  if (!well_formed(fields)) {
    return TelegramAuthFailure::kMalformed;
  }
  const auto hash = fields.find("hash");
  if (hash == fields.end() || hash->second.empty()) {
    return TelegramAuthFailure::kMissingHash;
  }
  const auto auth_date_text = fields.find("auth_date");
  if (auth_date_text == fields.end()) {
    return TelegramAuthFailure::kMissingAuthDate;
  }
  const auto auth_date = parse_unix_seconds(auth_date_text->second);
  if (!auth_date) {
    return TelegramAuthFailure::kMalformed;
  }
  if (const auto stale = check_freshness(*auth_date, clock_(), freshness_)) {
    return *stale;
  }

  std::vector<std::string> lines;
  lines.reserve(fields.size());
  for (const auto& [key, value] : fields) {
    if (key != "hash") {
      lines.push_back(key + "=" + value);
    }
  }
  const Digest expected = hmac_sha256(secret_key_, join_sorted_lines(std::move(lines)));
  const auto given = from_hex(hash->second);
  if (!given || !equal_constant_time(*given, expected)) {
    return TelegramAuthFailure::kBadHash;
  }

  const auto id = fields.find("id");
  if (id == fields.end()) {
    return TelegramAuthFailure::kMissingUser;
  }
  const auto first_name = fields.find("first_name");
  const auto telegram_id = parse_telegram_id(id->second);
  if (!telegram_id || first_name == fields.end()) {
    return TelegramAuthFailure::kMalformed;
  }
  VerifiedLoginWidget verified;
  verified.user.id = *telegram_id;
  verified.user.first_name = first_name->second;
  verified.user.last_name = optional_field(fields, "last_name");
  verified.user.username = optional_field(fields, "username");
  verified.user.photo_url = optional_field(fields, "photo_url");
  verified.auth_date = Time(std::chrono::seconds(*auth_date));
  return verified;
}

}  // namespace evolveai::services::auth
