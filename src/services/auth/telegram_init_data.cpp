#include "services/auth/telegram_init_data.hpp"

#include <sodium.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <stdexcept>
#include <utility>

namespace evolveai::services::auth {
namespace {

namespace json = boost::json;

static_assert(crypto_sign_PUBLICKEYBYTES == 32);

constexpr std::string_view kHashKey = "hash";
constexpr std::string_view kSignatureKey = "signature";

/// A string member; nullopt when absent or null, and `ok` cleared when of another type.
std::optional<std::string> optional_string(const json::object& object, std::string_view key, bool& ok) {
  const json::value* value = object.if_contains(key);
  if (value == nullptr || value->is_null()) {
    return std::nullopt;
  }
  if (!value->is_string()) {
    ok = false;
    return std::nullopt;
  }
  return std::string(value->get_string());
}

/// The user id: a JSON integer, or (as some clients send it) a string of digits.
std::optional<std::int64_t> user_id(const json::value* value) {
  if (value == nullptr) {
    return std::nullopt;
  }
  if (value->is_int64()) {
    return value->get_int64() > 0 ? std::optional(value->get_int64()) : std::nullopt;
  }
  if (value->is_uint64()) {
    return std::nullopt;  // beyond int64: no Telegram id is that large
  }
  if (value->is_string()) {
    return parse_telegram_id(value->get_string());
  }
  return std::nullopt;
}

/// A flag: a JSON bool or the strings "true"/"false"; absent is false.
std::optional<bool> flag(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  if (value == nullptr || value->is_null()) {
    return false;
  }
  if (value->is_bool()) {
    return value->get_bool();
  }
  if (value->is_string()) {
    const std::string_view text = value->get_string();
    if (text == "true")
      return true;
    if (text == "false")
      return false;
  }
  return std::nullopt;
}

/// Parses the `user` field: a JSON object with at least `id` and `first_name`.
std::optional<TelegramUser> parse_user(std::string_view text) {
  json::parse_options options;
  options.max_depth = 8;
  std::error_code error;
  const json::value document = json::parse(text, error, {}, options);
  if (error || !document.is_object()) {
    return std::nullopt;
  }
  const json::object& object = document.get_object();
  TelegramUser user;
  const auto id = user_id(object.if_contains("id"));
  const json::value* first_name = object.if_contains("first_name");
  const auto premium = flag(object, "is_premium");
  if (!id || first_name == nullptr || !first_name->is_string() || !premium) {
    return std::nullopt;
  }
  user.id = *id;
  user.first_name = std::string(first_name->get_string());
  user.is_premium = *premium;
  bool ok = true;
  user.last_name = optional_string(object, "last_name", ok);
  user.username = optional_string(object, "username", ok);
  user.language_code = optional_string(object, "language_code", ok);
  user.photo_url = optional_string(object, "photo_url", ok);
  if (!ok) {
    return std::nullopt;
  }
  return user;
}

/// The `key=value` lines of every field not in `skip`.
std::vector<std::string> lines_without(const std::vector<QueryField>& fields,
                                       std::initializer_list<std::string_view> skip) {
  std::vector<std::string> lines;
  lines.reserve(fields.size());
  for (const QueryField& field : fields) {
    if (std::find(skip.begin(), skip.end(), field.key) == skip.end()) {
      lines.push_back(field.key + "=" + field.value);
    }
  }
  return lines;
}

const QueryField* find_field(const std::vector<QueryField>& fields, std::string_view key) {
  const auto it = std::lower_bound(fields.begin(), fields.end(), key,
                                   [](const QueryField& field, std::string_view k) { return field.key < k; });
  return it != fields.end() && it->key == key ? &*it : nullptr;
}

std::optional<std::string> text_of(const std::vector<QueryField>& fields, std::string_view key) {
  const QueryField* field = find_field(fields, key);
  return field != nullptr ? std::optional(field->value) : std::nullopt;
}

}  // namespace

Outcome<TelegramInitData, TelegramAuthFailure> TelegramInitData::parse(std::string_view raw) {
  auto parsed = parse_query_string(raw);
  if (!parsed) {
    return parsed.reason() == QueryStringError::kDuplicateKey ? TelegramAuthFailure::kDuplicateField
                                                              : TelegramAuthFailure::kMalformed;
  }
  TelegramInitData data;
  data.fields = std::move(parsed).value();
  if (data.fields.empty()) {
    return TelegramAuthFailure::kMalformed;
  }
  // Sorted by key for lookups; the check strings sort their own lines.
  std::sort(data.fields.begin(), data.fields.end(),
            [](const QueryField& a, const QueryField& b) { return a.key < b.key; });

  data.hash = text_of(data.fields, kHashKey);
  data.signature = text_of(data.fields, kSignatureKey);
  if (const auto auth_date = text_of(data.fields, "auth_date")) {
    data.auth_date = parse_unix_seconds(*auth_date);
    if (!data.auth_date) {
      return TelegramAuthFailure::kMalformed;
    }
  }
  if (const auto user = text_of(data.fields, "user")) {
    data.user = parse_user(*user);
    if (!data.user) {
      return TelegramAuthFailure::kMalformed;
    }
  }
  data.query_id = text_of(data.fields, "query_id");
  data.chat_type = text_of(data.fields, "chat_type");
  data.chat_instance = text_of(data.fields, "chat_instance");
  data.start_param = text_of(data.fields, "start_param");
  return data;
}

std::string TelegramInitData::data_check_string() const {
  return join_sorted_lines(lines_without(fields, {kHashKey}));
}

std::string TelegramInitData::third_party_check_string(std::int64_t bot_id) const {
  return std::to_string(bot_id) + ":WebAppData\n" + join_sorted_lines(lines_without(fields, {kHashKey, kSignatureKey}));
}

InitDataVerifier::InitDataVerifier(const CryptoInit& /*crypto*/, const InitDataVerifierOptions& options, Clock clock)
    : method_(options.bot_token.empty() ? InitDataMethod::kEd25519 : InitDataMethod::kHmac),
      bot_id_(options.bot_id),
      freshness_(options.freshness),
      clock_(clock ? std::move(clock) : system_clock()) {
  validate_policy(freshness_);
  if (method_ == InitDataMethod::kHmac) {
    secret_key_ = hmac_sha256("WebAppData", options.bot_token);
    return;
  }
  if (bot_id_ <= 0) {
    throw std::invalid_argument("init data verification needs a bot token or a bot id");
  }
  const std::string_view key_hex =
      options.environment == TelegramEnvironment::kProduction ? kTelegramProductionPublicKey : kTelegramTestPublicKey;
  const auto key = from_hex(key_hex);
  if (!key || key->size() != public_key_.size()) {
    throw std::logic_error("Telegram public key constant is not 32 bytes of hex");
  }
  std::copy(key->begin(), key->end(), public_key_.begin());
}

InitDataVerifier::~InitDataVerifier() {
  sodium_memzero(secret_key_.data(), secret_key_.size());
}

Outcome<VerifiedInitData, TelegramAuthFailure> InitDataVerifier::verify(std::string_view raw) const {
  auto parsed = TelegramInitData::parse(raw);
  if (!parsed) {
    return parsed.reason();
  }
  TelegramInitData data = std::move(parsed).value();

  if (method_ == InitDataMethod::kHmac && (!data.hash || data.hash->empty())) {
    return TelegramAuthFailure::kMissingHash;
  }
  if (method_ == InitDataMethod::kEd25519 && (!data.signature || data.signature->empty())) {
    return TelegramAuthFailure::kMissingSignature;
  }
  if (!data.auth_date) {
    return TelegramAuthFailure::kMissingAuthDate;
  }
  if (const auto stale = check_freshness(*data.auth_date, clock_(), freshness_)) {
    return *stale;
  }
  const auto refused = method_ == InitDataMethod::kHmac ? check_hmac(data) : check_ed25519(data);
  if (refused) {
    return *refused;
  }
  if (!data.user) {
    return TelegramAuthFailure::kMissingUser;
  }
  VerifiedInitData verified;
  verified.user = std::move(*data.user);
  verified.auth_date = Time(std::chrono::seconds(*data.auth_date));
  verified.query_id = std::move(data.query_id);
  verified.chat_type = std::move(data.chat_type);
  verified.chat_instance = std::move(data.chat_instance);
  verified.start_param = std::move(data.start_param);
  verified.method = method_;
  return verified;
}

std::optional<TelegramAuthFailure> InitDataVerifier::check_hmac(const TelegramInitData& data) const {
  const auto given = from_hex(*data.hash);
  const Digest expected = hmac_sha256(secret_key_, data.data_check_string());
  if (!given || !equal_constant_time(*given, expected)) {
    return TelegramAuthFailure::kBadHash;
  }
  return std::nullopt;
}

std::optional<TelegramAuthFailure> InitDataVerifier::check_ed25519(const TelegramInitData& data) const {
  const auto signature = decode_base64url(*data.signature);
  if (!signature || signature->size() != crypto_sign_BYTES) {
    return TelegramAuthFailure::kBadSignature;
  }
  const std::string message = data.third_party_check_string(bot_id_);
  const auto bytes = as_bytes(message);
  if (crypto_sign_verify_detached(signature->data(), bytes.data(), bytes.size(), public_key_.data()) != 0) {
    return TelegramAuthFailure::kBadSignature;
  }
  return std::nullopt;
}

}  // namespace evolveai::services::auth
