// Fuzzes Login Widget sign-in: the input is the widget's fields, one `key=value` per line (the
// HTTP layer turns the JSON object into this map). Each field set is verified as sent, and again
// with the `hash` the bot token really gives, so the checks after the hash are reached too: a
// correctly signed set must never be refused as a bad hash, and an accepted one names a user.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "services/auth/primitives.hpp"
#include "services/auth/telegram_auth.hpp"
#include "services/auth/telegram_login_widget.hpp"

namespace {

namespace auth = evolveai::services::auth;

constexpr std::string_view kBotToken = "42:TEST";
constexpr std::int64_t kNow = 1700000000;  // the seeds' auth_date is a minute earlier

/// One widget field per line, split at the first '='; the first of repeated keys wins.
auth::LoginWidgetFields fields_of(std::string_view text) {
  auth::LoginWidgetFields fields;
  while (!text.empty()) {
    const auto end = std::min(text.find('\n'), text.size());
    const auto line = text.substr(0, end);
    const auto equals = line.find('=');
    if (equals != std::string_view::npos) {
      fields.emplace(std::string(line.substr(0, equals)), std::string(line.substr(equals + 1)));
    }
    text.remove_prefix(std::min(end + 1, text.size()));
  }
  return fields;
}

/// The hash Telegram would send for `fields` (every field but `hash`, sorted, under SHA256(token)).
std::string true_hash(const auth::LoginWidgetFields& fields) {
  std::vector<std::string> lines;
  for (const auto& [key, value] : fields) {
    if (key != "hash") {
      lines.push_back(key + "=" + value);
    }
  }
  const auto secret = auth::sha256(kBotToken);
  return auth::to_hex(auth::hmac_sha256(secret, auth::join_sorted_lines(std::move(lines))));
}

void check_accepted(const auth::Outcome<auth::VerifiedLoginWidget, auth::TelegramAuthFailure>& outcome,
                    const auth::LoginWidgetFields& fields) {
  if (!outcome) {
    return;
  }
  const auto& user = outcome.value().user;
  if (user.id <= 0 || !fields.contains("first_name") || user.first_name != fields.at("first_name") || user.is_premium ||
      user.language_code) {
    std::abort();
  }
}

}  // namespace

// NOLINTNEXTLINE(readability-identifier-naming): the entry point libFuzzer calls
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auth::LoginWidgetVerifier verifier(auth::LoginWidgetVerifierOptions{std::string(kBotToken), {}},
                                                  [] { return auth::Time{std::chrono::seconds(kNow)}; });
  // Reading the fuzzer's bytes as characters is allowed aliasing.
  auto fields = fields_of(std::string_view(reinterpret_cast<const char*>(data), size));

  const auto as_sent = verifier.verify(fields);
  check_accepted(as_sent, fields);

  fields["hash"] = true_hash(fields);
  const auto signed_fields = verifier.verify(fields);
  check_accepted(signed_fields, fields);
  if (!signed_fields && (signed_fields.reason() == auth::TelegramAuthFailure::kBadHash ||
                         signed_fields.reason() == auth::TelegramAuthFailure::kMissingHash)) {
    std::abort();
  }
  return 0;
}
