#include "services/auth/access_tokens.hpp"

#include <jwt.h>
#include <sodium.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <memory>
#include <ostream>
#include <stdexcept>
#include <utility>

#include "services/auth/primitives.hpp"

namespace evolveai::services::auth {
namespace {

namespace json = boost::json;

constexpr std::size_t kMinSecretBytes = 32;
constexpr std::size_t kMaxTokenBytes = std::size_t{8} * 1024;
constexpr std::size_t kMaxKeyIdLength = 64;
constexpr std::size_t kMaxTokenIdLength = 64;
constexpr std::string_view kAlgorithm = "HS256";
// Bounds on `iat`/`exp` (Unix seconds, up to year 2255) keep nanosecond time points from overflowing.
constexpr long kLatestSeconds = 9'000'000'000L;

struct JwtDeleter {
  void operator()(jwt_t* jwt) const noexcept { jwt_free(jwt); }
};
using JwtPtr = std::unique_ptr<jwt_t, JwtDeleter>;

struct MallocDeleter {
  void operator()(char* text) const noexcept {
    std::free(text);  // NOLINT(cppcoreguidelines-no-malloc): libjwt 1.10 allocates with malloc
  }
};

bool valid_key_id(std::string_view id) {
  return !id.empty() && id.size() <= kMaxKeyIdLength && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
           c == '-';
  });
}

std::optional<std::int64_t> parse_subject(std::string_view text) {
  if (text.empty() || text.size() > 18 || text.front() == '0') {
    return std::nullopt;
  }
  std::int64_t value = 0;
  const auto* const end = text.data() + text.size();
  const auto [ptr, error] = std::from_chars(text.data(), end, value);
  if (error != std::errc{} || ptr != end || value <= 0) {
    return std::nullopt;
  }
  return value;
}

std::optional<Role> parse_role(const char* text) {
  if (text == nullptr)
    return std::nullopt;
  const std::string_view role(text);
  if (role == "user")
    return Role::kUser;
  if (role == "admin")
    return Role::kAdmin;
  return std::nullopt;
}

/// An integer claim as libjwt reads it; nullopt when absent, not an integer or out of range.
std::optional<long> time_claim(jwt_t* jwt, const char* name) {
  errno = 0;
  const long value = jwt_get_grant_int(jwt, name);
  if (errno != 0 || value < 0 || value > kLatestSeconds) {
    return std::nullopt;
  }
  return value;
}

void check(int rc, const char* what) {
  if (rc != 0) {
    throw std::runtime_error(std::string("libjwt: ") + what + " failed");
  }
}

std::string random_token_id() {
  std::array<unsigned char, 16> bytes{};
  randombytes_buf(bytes.data(), bytes.size());
  return to_hex(bytes);
}

}  // namespace

std::string_view to_string(Role role) noexcept {
  return role == Role::kAdmin ? "admin" : "user";
}

std::string_view to_string(TokenFailure failure) noexcept {
  switch (failure) {
    case TokenFailure::kMalformed: return "malformed";
    case TokenFailure::kUnsupportedAlgorithm: return "unsupported_algorithm";
    case TokenFailure::kUnknownKey: return "unknown_key";
    case TokenFailure::kBadSignature: return "bad_signature";
    case TokenFailure::kExpired: return "expired";
    case TokenFailure::kNotYetValid: return "not_yet_valid";
    case TokenFailure::kInvalidClaims: return "invalid_claims";
  }
  return "unknown";
}

std::ostream& operator<<(std::ostream& out, TokenFailure failure) {
  return out << to_string(failure);
}

AccessTokens::AccessTokens(const CryptoInit& /*crypto*/, AccessTokenSettings settings, Clock clock)
    : settings_(std::move(settings)), clock_(clock ? std::move(clock) : system_clock()) {
  if (settings_.keys.empty()) {
    throw std::invalid_argument("access tokens need at least one key");
  }
  for (std::size_t i = 0; i < settings_.keys.size(); ++i) {
    const TokenKey& key = settings_.keys[i];
    if (!valid_key_id(key.id)) {
      throw std::invalid_argument("access token key id must be 1..64 characters of [A-Za-z0-9_.-]");
    }
    if (key.secret.size() < kMinSecretBytes) {
      throw std::invalid_argument("access token secret of key '" + key.id + "' is shorter than 32 bytes");
    }
    for (std::size_t k = 0; k < i; ++k) {
      if (settings_.keys[k].id == key.id) {
        throw std::invalid_argument("access token key id '" + key.id + "' is given twice");
      }
    }
  }
  if (settings_.signing_key_id.empty()) {
    settings_.signing_key_id = settings_.keys.front().id;
  }
  signing_key_ = find_key(settings_.signing_key_id);
  if (signing_key_ == nullptr) {
    throw std::invalid_argument("access token signing key '" + settings_.signing_key_id + "' is not among the keys");
  }
  if (settings_.ttl < std::chrono::seconds(1)) {
    throw std::invalid_argument("access token ttl must be at least one second");
  }
  if (settings_.clock_skew < std::chrono::milliseconds::zero()) {
    throw std::invalid_argument("clock skew must not be negative");
  }
}

AccessTokens::~AccessTokens() {
  for (TokenKey& key : settings_.keys) {
    sodium_memzero(key.secret.data(), key.secret.size());
  }
}

const TokenKey* AccessTokens::find_key(std::string_view id) const {
  const auto it =
      std::find_if(settings_.keys.begin(), settings_.keys.end(), [&](const TokenKey& key) { return key.id == id; });
  return it != settings_.keys.end() ? &*it : nullptr;
}

std::string AccessTokens::derive_key_id(std::string_view secret) {
  const Digest tag = hmac_sha256(secret, "evolveai access token key id");
  return to_hex(std::span(tag).first(8));
}

IssuedToken AccessTokens::issue(std::int64_t subject, Role role) const {
  if (subject <= 0) {
    throw std::invalid_argument("token subject must be positive");
  }
  const auto now = std::chrono::floor<std::chrono::seconds>(clock_());
  const auto lifetime = std::chrono::duration_cast<std::chrono::seconds>(settings_.ttl);
  IssuedToken issued;
  issued.token_id = random_token_id();
  issued.issued_at = now;
  issued.expires_at = now + lifetime;

  jwt_t* raw = nullptr;
  check(jwt_new(&raw), "jwt_new");
  const JwtPtr jwt(raw);
  const auto& secret = signing_key_->secret;
  // jwt_set_alg copies the key.
  check(jwt_set_alg(jwt.get(), JWT_ALG_HS256, reinterpret_cast<const unsigned char*>(secret.data()),
                    static_cast<int>(secret.size())),
        "jwt_set_alg");
  check(jwt_add_header(jwt.get(), "kid", signing_key_->id.c_str()), "jwt_add_header(kid)");
  check(jwt_add_grant(jwt.get(), "sub", std::to_string(subject).c_str()), "jwt_add_grant(sub)");
  check(jwt_add_grant(jwt.get(), "role", std::string(to_string(role)).c_str()), "jwt_add_grant(role)");
  check(jwt_add_grant(jwt.get(), "jti", issued.token_id.c_str()), "jwt_add_grant(jti)");
  check(jwt_add_grant_int(jwt.get(), "iat", static_cast<long>(now.time_since_epoch().count())), "jwt_add_grant(iat)");
  check(jwt_add_grant_int(jwt.get(), "exp", static_cast<long>((now + lifetime).time_since_epoch().count())),
        "jwt_add_grant(exp)");
  const std::unique_ptr<char, MallocDeleter> encoded(jwt_encode_str(jwt.get()));
  if (!encoded) {
    throw std::runtime_error("libjwt: jwt_encode_str failed");
  }
  issued.token = encoded.get();
  return issued;
}

Outcome<AccessClaims, TokenFailure> AccessTokens::verify(std::string_view token) const {
  if (token.empty() || token.size() > kMaxTokenBytes) {
    return TokenFailure::kMalformed;
  }
  AccessClaims claims;
  if (auto known = remembered(token)) {
    claims = std::move(*known);
  } else {
    auto checked = check_signed(token);
    if (!checked) {
      return checked.reason();
    }
    claims = std::move(checked).value();
    remember(token, claims);
  }
  const Time now = clock_();
  if (now >= claims.expires_at + settings_.clock_skew) {
    return TokenFailure::kExpired;
  }
  if (claims.issued_at > now + settings_.clock_skew) {
    return TokenFailure::kNotYetValid;
  }
  return claims;
}

std::optional<AccessClaims> AccessTokens::remembered(std::string_view token) const {
  if (settings_.verified_cache == 0) {
    return std::nullopt;
  }
  const std::string key(token);
  const std::scoped_lock lock(cache_mutex_);
  if (const auto found = cache_new_.find(key); found != cache_new_.end()) {
    return found->second;
  }
  const auto found = cache_old_.find(key);
  if (found == cache_old_.end()) {
    return std::nullopt;
  }
  AccessClaims claims = std::move(found->second);
  cache_old_.erase(found);
  if (cache_new_.size() >= settings_.verified_cache) {
    cache_old_ = std::move(cache_new_);
    cache_new_.clear();
  }
  cache_new_.emplace(key, claims);
  return claims;
}

void AccessTokens::remember(std::string_view token, const AccessClaims& claims) const {
  if (settings_.verified_cache == 0) {
    return;
  }
  const std::scoped_lock lock(cache_mutex_);
  if (cache_new_.size() >= settings_.verified_cache) {
    cache_old_ = std::move(cache_new_);
    cache_new_.clear();
  }
  cache_new_.emplace(std::string(token), claims);
}

Outcome<AccessClaims, TokenFailure> AccessTokens::check_signed(std::string_view token) const {
  if (token.empty() || token.size() > kMaxTokenBytes) {
    return TokenFailure::kMalformed;
  }
  const std::size_t first_dot = token.find('.');
  const std::size_t second_dot = first_dot == std::string_view::npos ? first_dot : token.find('.', first_dot + 1);
  if (second_dot == std::string_view::npos || token.find('.', second_dot + 1) != std::string_view::npos ||
      first_dot == 0 || second_dot == first_dot + 1) {
    return TokenFailure::kMalformed;
  }
  const std::string_view header_part = token.substr(0, first_dot);
  const std::string_view signed_part = token.substr(0, second_dot);
  const std::string_view signature_part = token.substr(second_dot + 1);

  // The header is read here, before any library sees the token, so that only HS256 is used.
  const auto header_bytes = decode_base64url(header_part);
  if (!header_bytes) {
    return TokenFailure::kMalformed;
  }
  json::parse_options options;
  options.max_depth = 4;
  std::error_code error;
  const json::value header = json::parse(
      std::string_view(reinterpret_cast<const char*>(header_bytes->data()), header_bytes->size()), error, {}, options);
  if (error || !header.is_object()) {
    return TokenFailure::kMalformed;
  }
  const json::object& fields = header.get_object();
  const json::value* alg = fields.if_contains("alg");
  if (alg == nullptr || !alg->is_string() || alg->get_string() != kAlgorithm || fields.contains("crit")) {
    return TokenFailure::kUnsupportedAlgorithm;
  }
  const json::value* kid = fields.if_contains("kid");
  const TokenKey* key = kid != nullptr && kid->is_string() ? find_key(kid->get_string()) : nullptr;
  if (key == nullptr) {
    return TokenFailure::kUnknownKey;
  }

  // Our own constant-time check first; libjwt then decodes what is known to be ours.
  const auto signature = decode_base64url(signature_part);
  const Digest expected = hmac_sha256(key->secret, signed_part);
  if (!signature || !equal_constant_time(*signature, expected)) {
    return TokenFailure::kBadSignature;
  }
  jwt_t* raw = nullptr;
  const std::string terminated(token);
  const int rc = jwt_decode(&raw, terminated.c_str(), reinterpret_cast<const unsigned char*>(key->secret.data()),
                            static_cast<int>(key->secret.size()));
  const JwtPtr jwt(raw);
  if (rc != 0 || !jwt) {
    return TokenFailure::kMalformed;
  }
  if (jwt_get_alg(jwt.get()) != JWT_ALG_HS256) {
    return TokenFailure::kUnsupportedAlgorithm;
  }

  const auto subject =
      jwt_get_grant(jwt.get(), "sub") != nullptr ? parse_subject(jwt_get_grant(jwt.get(), "sub")) : std::nullopt;
  const auto role = parse_role(jwt_get_grant(jwt.get(), "role"));
  const char* token_id = jwt_get_grant(jwt.get(), "jti");
  const auto issued_at = time_claim(jwt.get(), "iat");
  const auto expires_at = time_claim(jwt.get(), "exp");
  if (!subject || !role || token_id == nullptr || *token_id == '\0' ||
      std::string_view(token_id).size() > kMaxTokenIdLength || !issued_at || !expires_at || *expires_at <= *issued_at) {
    return TokenFailure::kInvalidClaims;
  }

  AccessClaims claims;
  claims.subject = *subject;
  claims.role = *role;
  claims.token_id = token_id;
  claims.issued_at = Time(std::chrono::seconds(*issued_at));
  claims.expires_at = Time(std::chrono::seconds(*expires_at));
  claims.key_id = key->id;
  return claims;
}

}  // namespace evolveai::services::auth
