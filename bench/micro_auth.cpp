// Sign-in and per-request auth with the product's verifiers (src/services/auth/): an HS256 access
// token checked by AccessTokens (two keys, as during a key rotation), and Mini App init data
// checked by InitDataVerifier with a bot token (HMAC-SHA256) and with Telegram's Ed25519 key.
#include <benchmark/benchmark.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "micro_fixtures.hpp"
#include "services/auth/access_tokens.hpp"
#include "services/auth/crypto_init.hpp"
#include "services/auth/primitives.hpp"
#include "services/auth/telegram_init_data.hpp"

namespace {

namespace auth = evolveai::services::auth;
namespace json = boost::json;

constexpr std::string_view kBotToken = "7342037359:AAHb9x_benchmark-token-0123456789abcdef";
constexpr std::int64_t kTelegramUserId = 279058397;

// An access token signed with the current key and verified as every /api/v1 request does.
void micro_auth_jwt_verify_hs256(benchmark::State& state) {
  const auth::CryptoInit crypto;
  auth::AccessTokenSettings settings;
  settings.keys = {{"2026-11", std::string(48, 'k')}, {"2026-08", std::string(48, 'p')}};
  settings.signing_key_id = "2026-11";
  const auth::AccessTokens tokens(crypto, settings);
  const auto issued = tokens.issue(kTelegramUserId, auth::Role::kUser);

  const auto checked = tokens.verify(issued.token);
  if (!checked || checked.value().subject != kTelegramUserId || checked.value().token_id != issued.token_id) {
    state.SkipWithError("a freshly issued token did not verify");
    return;
  }
  for ([[maybe_unused]] auto iteration : state) {
    auto claims = tokens.verify(issued.token);
    benchmark::DoNotOptimize(claims);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["token_bytes"] = static_cast<double>(issued.token.size());
}
BENCHMARK(micro_auth_jwt_verify_hs256);

// Signing a new access token (POST /api/v1/auth answers with one).
void micro_auth_jwt_issue_hs256(benchmark::State& state) {
  const auth::CryptoInit crypto;
  auth::AccessTokenSettings settings;
  settings.keys = {{"2026-11", std::string(48, 'k')}};
  const auth::AccessTokens tokens(crypto, settings);

  if (!tokens.verify(tokens.issue(kTelegramUserId, auth::Role::kUser).token)) {
    state.SkipWithError("an issued token did not verify");
    return;
  }
  for ([[maybe_unused]] auto iteration : state) {
    auto issued = tokens.issue(kTelegramUserId, auth::Role::kUser);
    benchmark::DoNotOptimize(issued);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(micro_auth_jwt_issue_hs256);

/// Percent-encodes a query-string value (everything but RFC 3986 unreserved characters).
std::string percent_encode(std::string_view text) {
  constexpr std::string_view kHex = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    const bool unreserved = (byte >= 'A' && byte <= 'Z') || (byte >= 'a' && byte <= 'z') ||
                            (byte >= '0' && byte <= '9') || c == '-' || c == '_' || c == '.' || c == '~';
    if (unreserved) {
      out += c;
    } else {
      out += '%';
      out += kHex[byte >> 4U];
      out += kHex[byte & 0x0FU];
    }
  }
  return out;
}

/// Mini App init data as a client sends it, hashed with `bot_token` as Telegram does (the
/// data-check-string from the product's parser, the HMAC from the product's primitives).
std::optional<std::string> signed_init_data(std::string_view bot_token, std::int64_t auth_date) {
  const std::string user =
      R"({"id":279058397,"first_name":"Анна","last_name":"Kibenko","username":"anna_k","language_code":"ru",)"
      R"("is_premium":true,"allows_write_to_pm":true,"photo_url":"https:\/\/t.me\/i\/userpic\/320\/4FPEE4tmP3.svg"})";
  const std::string unsigned_data =
      "query_id=AAHdF6IQAAAAAN0XohDhrOrc&user=" + percent_encode(user) + "&auth_date=" + std::to_string(auth_date) +
      "&signature=zL-ucjNyREiHDE8aihFwpfR9aggP2xiAo3NSpfe-p7IbCisNlDKlo7Kb6G4D0Ao2mBrSgEk4maLSdv6MLIlADQ";
  const auto parsed = auth::TelegramInitData::parse(unsigned_data);
  if (!parsed) {
    return std::nullopt;
  }
  const auto secret_key = auth::hmac_sha256("WebAppData", bot_token);
  const auto hash = auth::hmac_sha256(secret_key, parsed.value().data_check_string());
  return unsigned_data + "&hash=" + auth::to_hex(hash);
}

// Mini App init data (query_id, user, auth_date, signature, hash) checked with the bot token.
void micro_auth_init_data_verify_hmac(benchmark::State& state) {
  const auth::CryptoInit crypto;
  auth::InitDataVerifierOptions options;
  options.bot_token = std::string(kBotToken);
  const auth::InitDataVerifier verifier(crypto, options);
  const auto auth_date =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count() -
      60;
  const auto raw = signed_init_data(kBotToken, auth_date);
  if (!raw) {
    state.SkipWithError("cannot sign init data");
    return;
  }

  const auto checked = verifier.verify(*raw);
  if (!checked || checked.value().user.id != kTelegramUserId || checked.value().method != auth::InitDataMethod::kHmac) {
    state.SkipWithError("init data signed with the bot token did not verify");
    return;
  }
  for ([[maybe_unused]] auto iteration : state) {
    auto verified = verifier.verify(*raw);
    benchmark::DoNotOptimize(verified);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(raw->size()));
}
BENCHMARK(micro_auth_init_data_verify_hmac);

/// The recorded third-party (Ed25519) vector: real init data signed by Telegram's production key.
struct ThirdPartyVector {
  std::string init_data;
  std::int64_t bot_id = 0;
  std::int64_t auth_date = 0;
};

std::optional<ThirdPartyVector> third_party_vector() {
  const auto text = evolveai::bench::read_fixture("telegram-initdata/initdata-vectors.json");
  if (!text) {
    return std::nullopt;
  }
  const auto document = json::parse(*text);
  for (const auto& vector : document.at("vectors").as_array()) {
    const auto* bot_id = vector.as_object().if_contains("bot_id");
    if (bot_id != nullptr && bot_id->is_int64() && vector.at("expected_valid").as_bool()) {
      ThirdPartyVector out;
      out.init_data = std::string(vector.at("init_data").as_string());
      out.bot_id = bot_id->as_int64();
      const auto parsed = auth::TelegramInitData::parse(out.init_data);
      if (!parsed || !parsed.value().auth_date) {
        return std::nullopt;
      }
      out.auth_date = *parsed.value().auth_date;
      return out;
    }
  }
  return std::nullopt;
}

// Recorded Telegram-signed init data checked with Telegram's Ed25519 public key (no bot token).
void micro_auth_init_data_verify_ed25519(benchmark::State& state) {
  const auto vector = third_party_vector();
  if (!vector) {
    state.SkipWithError("cannot read the Ed25519 vector from the shared fixtures");
    return;
  }
  const auth::CryptoInit crypto;
  auth::InitDataVerifierOptions options;
  options.bot_id = vector->bot_id;
  options.environment = auth::TelegramEnvironment::kProduction;
  // The recording is old: the clock stands a minute after it was signed.
  const auto signed_at = auth::Time(std::chrono::seconds(vector->auth_date));
  const auth::InitDataVerifier verifier(crypto, options, [signed_at] { return signed_at + std::chrono::minutes(1); });

  const auto checked = verifier.verify(vector->init_data);
  if (!checked || checked.value().method != auth::InitDataMethod::kEd25519) {
    state.SkipWithError("the recorded Telegram-signed init data did not verify");
    return;
  }
  for ([[maybe_unused]] auto iteration : state) {
    auto verified = verifier.verify(vector->init_data);
    benchmark::DoNotOptimize(verified);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(vector->init_data.size()));
}
BENCHMARK(micro_auth_init_data_verify_ed25519);

}  // namespace
