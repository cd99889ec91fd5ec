// Fuzzes access-token checks (the `Authorization: Bearer` of every signed-in route): the input
// is verified as a compact JWT, and its first two lines are also taken as the JSON header and
// claims of a token we sign with a real key, so that what happens after the signature check
// (libjwt's decoding, the claim checks) is reached as well. Tokens we issue must verify.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "services/auth/access_tokens.hpp"
#include "services/auth/crypto_init.hpp"
#include "services/auth/primitives.hpp"

namespace {

namespace auth = evolveai::services::auth;

constexpr std::string_view kSecretA = "fuzz-secret-a-0123456789abcdefghijklmnop";
constexpr std::string_view kSecretB = "fuzz-secret-b-0123456789abcdefghijklmnop";
constexpr std::int64_t kNow = 1700000000;  // the seed tokens are valid at this moment

/// The token checker, built once with two keys ("a" signs, "b" still verifies).
struct Tokens {
  auth::CryptoInit crypto;
  auth::AccessTokens tokens{crypto, settings(), [] { return auth::Time{std::chrono::seconds(kNow)}; }};

  static auth::AccessTokenSettings settings() {
    auth::AccessTokenSettings settings;
    settings.keys = {{"a", std::string(kSecretA)}, {"b", std::string(kSecretB)}};
    settings.signing_key_id = "a";
    return settings;
  }
};

void check_claims(const auth::Outcome<auth::AccessClaims, auth::TokenFailure>& outcome) {
  if (!outcome) {
    return;
  }
  const auto& claims = outcome.value();
  if (claims.subject <= 0 || claims.token_id.empty() || claims.expires_at <= claims.issued_at ||
      (claims.key_id != "a" && claims.key_id != "b")) {
    std::abort();
  }
}

/// `header_json` and `claims_json` as a token signed with key "a".
std::string sign(std::string_view header_json, std::string_view claims_json) {
  const std::string signed_part =
      auth::encode_base64url(auth::as_bytes(header_json)) + "." + auth::encode_base64url(auth::as_bytes(claims_json));
  return signed_part + "." + auth::encode_base64url(auth::hmac_sha256(kSecretA, signed_part));
}

}  // namespace

// NOLINTNEXTLINE(readability-identifier-naming): the entry point libFuzzer calls
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const Tokens tokens;
  // Reading the fuzzer's bytes as characters is allowed aliasing.
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  check_claims(tokens.tokens.verify(input));

  const auto newline = input.find('\n');
  if (newline != std::string_view::npos) {
    check_claims(tokens.tokens.verify(sign(input.substr(0, newline), input.substr(newline + 1))));
  }

  // Whatever the subject, a token we issue verifies as that subject.
  std::int64_t subject = 1;
  for (const char c : input.substr(0, 8)) {
    subject = subject * 131 + static_cast<unsigned char>(c);
  }
  const auto role = size % 2 == 0 ? auth::Role::kUser : auth::Role::kAdmin;
  const auto issued = tokens.tokens.issue(subject, role);
  const auto verified = tokens.tokens.verify(issued.token);
  if (!verified || verified.value().subject != subject || verified.value().role != role ||
      verified.value().token_id != issued.token_id) {
    std::abort();
  }
  return 0;
}
