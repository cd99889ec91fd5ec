// Fuzzes Mini App sign-in: the input is raw init data (the `init_data` body field or the
// `Authorization: tma` header), checked by an HMAC verifier and by an Ed25519 verifier whose
// clocks sit at the recorded test vectors' auth_date, so the seeds reach the success path.
// Checks that the query-string reader round-trips what it accepts and that a refusal always
// names the first problem the parser found.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "services/auth/crypto_init.hpp"
#include "services/auth/query_string.hpp"
#include "services/auth/telegram_init_data.hpp"

namespace {

namespace auth = evolveai::services::auth;

/// A clock stopped one minute after `unix_seconds`.
auth::Clock clock_at(std::int64_t unix_seconds) {
  const auth::Time now{std::chrono::seconds(unix_seconds + 60)};
  return [now] { return now; };
}

/// The verifiers of the recorded vectors (fixtures/telegram-initdata), built once.
struct Verifiers {
  auth::CryptoInit crypto;
  auth::InitDataVerifier hmac{
      crypto,
      auth::InitDataVerifierOptions{
          "5768337691:AAH5YkoiEuPk8-FZa32hStHTqXiLPtAEhx8", 0, auth::TelegramEnvironment::kProduction, {}},
      clock_at(1662771648)};
  auth::InitDataVerifier short_token{
      crypto, auth::InitDataVerifierOptions{"42:TEST", 0, auth::TelegramEnvironment::kProduction, {}},
      clock_at(1650385342)};
  auth::InitDataVerifier ed25519{
      crypto, auth::InitDataVerifierOptions{"", 7342037359, auth::TelegramEnvironment::kProduction, {}},
      clock_at(1733584787)};
};

bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.' || c == '~';
}

/// Form-encodes `text` with every reserved byte as %XX.
void append_encoded(std::string& out, std::string_view text) {
  constexpr std::string_view kHex = "0123456789ABCDEF";
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (is_unreserved(byte)) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[byte >> 4U]);
      out.push_back(kHex[byte & 0x0FU]);
    }
  }
}

void check_query_string(std::string_view raw) {
  const auto fields = auth::parse_query_string(raw);
  if (!fields) {
    return;
  }
  std::string encoded;
  for (const auto& field : fields.value()) {
    if (field.key.empty()) {
      std::abort();
    }
    if (!encoded.empty()) {
      encoded.push_back('&');
    }
    append_encoded(encoded, field.key);
    encoded.push_back('=');
    append_encoded(encoded, field.value);
  }
  if (encoded.size() > auth::QueryStringLimits{}.max_length) {
    return;
  }
  const auto again = auth::parse_query_string(encoded);
  if (!again || again.value() != fields.value()) {
    std::abort();
  }
}

void check_verifier(const auth::InitDataVerifier& verifier, std::string_view raw,
                    const auth::Outcome<auth::TelegramInitData, auth::TelegramAuthFailure>& parsed) {
  const auto verified = verifier.verify(raw);
  if (!parsed) {
    // Shape is checked first: the verifier refuses for the parser's reason.
    if (verified || verified.reason() != parsed.reason()) {
      std::abort();
    }
    return;
  }
  if (verified &&
      (verified.value().user.id <= 0 || !parsed.value().user || parsed.value().user->id != verified.value().user.id)) {
    std::abort();
  }
}

}  // namespace

// NOLINTNEXTLINE(readability-identifier-naming): the entry point libFuzzer calls
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const Verifiers verifiers;
  // Reading the fuzzer's bytes as characters is allowed aliasing.
  const std::string_view raw(reinterpret_cast<const char*>(data), size);
  check_query_string(raw);
  const auto parsed = auth::TelegramInitData::parse(raw);
  if (parsed) {
    (void)parsed.value().data_check_string();
    (void)parsed.value().third_party_check_string(7342037359);
  }
  check_verifier(verifiers.hmac, raw, parsed);
  check_verifier(verifiers.short_token, raw, parsed);
  check_verifier(verifiers.ed25519, raw, parsed);
  return 0;
}
