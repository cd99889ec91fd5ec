#include "services/auth/telegram_init_data.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <cctype>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "services/auth/primitives.hpp"

namespace evolveai::services::auth {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view kBotToken = "123456:TEST-bot-token";
constexpr std::int64_t kSignedAt = 1'764'028'800;  // 2025-11-25T00:00:00Z
/// When the fixture file was recorded: "now" for its vectors that test expiry.
constexpr std::int64_t kFixturesRecordedAt = 1'764'028'800;

Time at(std::int64_t unix_seconds) {
  return Time(std::chrono::seconds(unix_seconds));
}

Clock fixed_clock(Time now) {
  return [now] { return now; };
}

/// Percent-encodes everything but unreserved characters, as URLSearchParams would (spaces
/// become %20 here; the '+' form is tested separately).
std::string encode(std::string_view text) {
  static constexpr std::string_view kHex = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[byte >> 4U]);
      out.push_back(kHex[byte & 0x0FU]);
    }
  }
  return out;
}

/// Signs fields the way Telegram does, written independently of the code under test: OpenSSL's
/// HMAC directly, lines built here. Returns the query string with `hash` appended.
std::string sign(const std::vector<std::pair<std::string, std::string>>& fields, std::string_view token = kBotToken) {
  std::vector<std::string> lines;
  lines.reserve(fields.size());
  for (const auto& [key, value] : fields) {
    lines.push_back(key + "=" + value);
  }
  std::sort(lines.begin(), lines.end());
  std::string check;
  for (const auto& line : lines) {
    check += (check.empty() ? "" : "\n") + line;
  }
  std::array<unsigned char, 32> secret{};
  std::array<unsigned char, 32> tag{};
  unsigned int length = 0;
  constexpr std::string_view kWebAppData = "WebAppData";
  HMAC(EVP_sha256(), kWebAppData.data(), static_cast<int>(kWebAppData.size()),
       reinterpret_cast<const unsigned char*>(token.data()), token.size(), secret.data(), &length);
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(check.data()), check.size(), tag.data(), &length);
  std::string query;
  for (const auto& [key, value] : fields) {
    query += encode(key) + "=" + encode(value) + "&";
  }
  return query + "hash=" + to_hex(tag);
}

constexpr std::string_view kUserJson =
    R"({"id":279058397,"first_name":"Ann Marie","last_name":"Lee","username":"ann_lee","language_code":"ru",)"
    R"("is_premium":true,"allows_write_to_pm":true,"photo_url":"https:\/\/t.me\/i\/userpic\/320\/a.svg"})";

std::vector<std::pair<std::string, std::string>> typical_fields(std::int64_t auth_date = kSignedAt) {
  return {{"query_id", "AAHdF6IQAAAAAN0XohDhrOrc"},
          {"user", std::string(kUserJson)},
          {"chat_instance", "-8134722200314281151"},
          {"chat_type", "private"},
          {"start_param", "ref_42"},
          {"auth_date", std::to_string(auth_date)}};
}

struct VerifierSetup {
  CryptoInit crypto;
  InitDataVerifierOptions options;

  VerifierSetup() {
    options.bot_token = std::string(kBotToken);
    options.freshness = FreshnessPolicy{24h, 30s};
  }
  [[nodiscard]] Outcome<VerifiedInitData, TelegramAuthFailure> verify(std::string_view raw, Time now) const {
    const InitDataVerifier verifier(crypto, options, fixed_clock(now));
    return verifier.verify(raw);
  }
};

// ---- The recorded vectors ---------------------------------------------------------------

boost::json::value load_vectors() {
  const std::string path = std::string(EVOLVEAI_FIXTURES_DIR) + "/telegram-initdata/initdata-vectors.json";
  std::ifstream file(path);
  EXPECT_TRUE(file.good()) << "cannot open " << path;
  std::stringstream text;
  text << file.rdbuf();
  return boost::json::parse(text.str());
}

/// Our reason for each error the source tests name (errors not listed are only checked as refusals).
std::optional<TelegramAuthFailure> expected_reason(std::string_view recorded) {
  static const std::map<std::string_view, TelegramAuthFailure> reasons = {
      {"ErrExpired", TelegramAuthFailure::kStale},
      {"Init data expired", TelegramAuthFailure::kStale},
      {"ErrUnexpectedFormat", TelegramAuthFailure::kMalformed},
      {"ErrSignMissing", TelegramAuthFailure::kMissingHash},
      {"\"hash\" is empty or not found", TelegramAuthFailure::kMissingHash},
      {"ErrAuthDateMissing", TelegramAuthFailure::kMissingAuthDate},
      {"ErrAuthDateInvalid", TelegramAuthFailure::kMalformed},
      {"ErrSignInvalid", TelegramAuthFailure::kBadHash},
      {"Signature is invalid", TelegramAuthFailure::kBadHash},
  };
  const auto it = reasons.find(recorded);
  return it != reasons.end() ? std::optional(it->second) : std::nullopt;
}

TEST(TelegramInitDataVectors, EveryRecordedVectorIsAcceptedOrRejectedAsRecorded) {
  const boost::json::value fixtures = load_vectors();
  const CryptoInit crypto;
  int checked = 0;
  int index = 0;
  for (const boost::json::value& entry : fixtures.at("vectors").as_array()) {
    const boost::json::object& vector = entry.as_object();
    const std::string init_data(vector.at("init_data").as_string());
    SCOPED_TRACE("vector #" + std::to_string(index++) + ": " +
                 (vector.contains("note") ? std::string(vector.at("note").as_string()) : std::string()));

    if (vector.contains("expected_hash")) {
      // A signing vector: our data-check-string must give exactly the recorded hash.
      const auto parsed = TelegramInitData::parse(init_data);
      ASSERT_TRUE(parsed.ok());
      const std::string token(vector.at("bot_token").as_string());
      const Digest tag = hmac_sha256(hmac_sha256("WebAppData", token), parsed.value().data_check_string());
      EXPECT_EQ(to_hex(tag), std::string(vector.at("expected_hash").as_string()));
      ++checked;
      continue;
    }

    InitDataVerifierOptions options;
    const std::string_view method = vector.at("method").as_string();
    if (method.starts_with("ed25519")) {
      options.bot_id = vector.at("bot_id").to_number<std::int64_t>();
    } else {
      options.bot_token = std::string(vector.at("bot_token").as_string());
    }
    const std::int64_t max_age =
        vector.contains("max_age_seconds") ? vector.at("max_age_seconds").to_number<std::int64_t>() : 0;
    Time now = at(kFixturesRecordedAt);
    if (max_age > 0) {
      options.freshness = FreshnessPolicy{std::chrono::seconds(max_age), 0s};
    } else {
      // "No expiry check" in the source test: our check cannot be switched off, so the vector
      // is verified at the moment it was signed.
      options.freshness = FreshnessPolicy{24h, 0s};
      const auto parsed = TelegramInitData::parse(init_data);
      if (parsed.ok() && parsed.value().auth_date) {
        now = at(*parsed.value().auth_date);
      }
    }
    const InitDataVerifier verifier(crypto, options, fixed_clock(now));
    const auto outcome = verifier.verify(init_data);

    const bool expected_valid = vector.at("expected_valid").as_bool();
    ASSERT_EQ(outcome.ok(), expected_valid)
        << "init_data: " << init_data << (outcome.ok() ? "" : "\nreason: " + std::string(to_string(outcome.reason())));
    if (!expected_valid && vector.contains("expected_error")) {
      if (const auto reason = expected_reason(vector.at("expected_error").as_string())) {
        EXPECT_EQ(outcome.reason(), *reason);
      }
    }
    ++checked;
  }
  EXPECT_EQ(checked, 22) << "the fixture file changed: review the vectors";
}

TEST(TelegramInitDataVectors, RecordedUserIsParsedIntoTheIdentity) {
  const boost::json::value fixtures = load_vectors();
  const std::string init_data(fixtures.at("vectors").as_array().at(0).at("init_data").as_string());
  const CryptoInit crypto;
  InitDataVerifierOptions options;
  options.bot_token = "5768337691:AAH5YkoiEuPk8-FZa32hStHTqXiLPtAEhx8";
  const InitDataVerifier verifier(crypto, options, fixed_clock(at(1662771648)));
  const auto outcome = verifier.verify(init_data);
  ASSERT_TRUE(outcome.ok());
  const VerifiedInitData& data = outcome.value();
  EXPECT_EQ(data.user.id, 279058397);
  EXPECT_EQ(data.user.first_name, "Vladislav");
  EXPECT_EQ(data.user.last_name, "Kibenko");
  EXPECT_EQ(data.user.username, "vdkfrost");
  EXPECT_EQ(data.user.language_code, "ru");
  EXPECT_TRUE(data.user.is_premium);
  EXPECT_EQ(data.query_id, "AAHdF6IQAAAAAN0XohDhrOrc");
  EXPECT_EQ(data.auth_date, at(1662771648));
  EXPECT_EQ(data.method, InitDataMethod::kHmac);
}

/// The real Telegram-signed third-party vector (Ed25519, production key).
struct ThirdPartyVector {
  std::string init_data;
  std::int64_t bot_id = 0;
  std::int64_t auth_date = 0;
};

ThirdPartyVector third_party_vector() {
  const boost::json::value fixtures = load_vectors();
  for (const auto& entry : fixtures.at("vectors").as_array()) {
    if (entry.at("method").as_string().starts_with("ed25519")) {
      const std::string init_data(entry.at("init_data").as_string());
      return {init_data, entry.at("bot_id").to_number<std::int64_t>(), 1733584787};
    }
  }
  ADD_FAILURE() << "no Ed25519 vector in the fixtures";
  return {};
}

Outcome<VerifiedInitData, TelegramAuthFailure> verify_third_party(const ThirdPartyVector& vector, std::string_view raw,
                                                                  TelegramEnvironment environment, Time now,
                                                                  FreshnessPolicy freshness = {24h, 0s}) {
  const CryptoInit crypto;
  InitDataVerifierOptions options;
  options.bot_id = vector.bot_id;
  options.environment = environment;
  options.freshness = freshness;
  const InitDataVerifier verifier(crypto, options, fixed_clock(now));
  EXPECT_EQ(verifier.method(), InitDataMethod::kEd25519);
  return verifier.verify(raw);
}

TEST(TelegramInitDataThirdParty, RealTelegramSignatureVerifiesWithTheProductionKey) {
  const auto vector = third_party_vector();
  const auto outcome =
      verify_third_party(vector, vector.init_data, TelegramEnvironment::kProduction, at(vector.auth_date));
  ASSERT_TRUE(outcome.ok()) << outcome.reason();
  EXPECT_EQ(outcome.value().method, InitDataMethod::kEd25519);
  EXPECT_EQ(outcome.value().user.id, 279058397);
  EXPECT_EQ(outcome.value().user.first_name, "Vladislav + - ? /");
  EXPECT_EQ(outcome.value().user.photo_url,
            "https://t.me/i/userpic/320/4FPEE4tmP3ATHa57u6MqTDih13LTOiMoKoLDRG4PnSA.svg");
  EXPECT_EQ(outcome.value().chat_type, "private");
  EXPECT_EQ(outcome.value().chat_instance, "8134722200314281151");
}

TEST(TelegramInitDataThirdParty, TestEnvironmentKeyRejectsAProductionSignature) {
  const auto vector = third_party_vector();
  const auto outcome = verify_third_party(vector, vector.init_data, TelegramEnvironment::kTest, at(vector.auth_date));
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.reason(), TelegramAuthFailure::kBadSignature);
}

TEST(TelegramInitDataThirdParty, AnotherBotIdIsRejected) {
  auto vector = third_party_vector();
  vector.bot_id += 1;
  const auto outcome =
      verify_third_party(vector, vector.init_data, TelegramEnvironment::kProduction, at(vector.auth_date));
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.reason(), TelegramAuthFailure::kBadSignature);
}

TEST(TelegramInitDataThirdParty, AppendedSignatureCharacterIsRejected) {
  const auto vector = third_party_vector();
  const auto outcome =
      verify_third_party(vector, vector.init_data + "a", TelegramEnvironment::kProduction, at(vector.auth_date));
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.reason(), TelegramAuthFailure::kBadSignature);
}

TEST(TelegramInitDataThirdParty, ChangedFieldIsRejected) {
  const auto vector = third_party_vector();
  std::string changed = vector.init_data;
  const auto pos = changed.find("chat_type=private");
  ASSERT_NE(pos, std::string::npos);
  changed.replace(pos, 17, "chat_type=group");
  const auto outcome = verify_third_party(vector, changed, TelegramEnvironment::kProduction, at(vector.auth_date));
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.reason(), TelegramAuthFailure::kBadSignature);
}

TEST(TelegramInitDataThirdParty, MissingSignatureIsRejected) {
  const auto vector = third_party_vector();
  const std::string without = vector.init_data.substr(0, vector.init_data.find("&signature="));
  const auto outcome = verify_third_party(vector, without, TelegramEnvironment::kProduction, at(vector.auth_date));
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.reason(), TelegramAuthFailure::kMissingSignature);
}

TEST(TelegramInitDataThirdParty, OldDataIsStale) {
  const auto vector = third_party_vector();
  const auto outcome = verify_third_party(vector, vector.init_data, TelegramEnvironment::kProduction,
                                          at(vector.auth_date) + 2s, FreshnessPolicy{1s, 0s});
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.reason(), TelegramAuthFailure::kStale);
}

// ---- Behaviour on data signed here ---------------------------------------------------------

TEST(TelegramInitData, FreshSignedDataIsAcceptedWithEveryField) {
  const VerifierSetup setup;
  const auto outcome = setup.verify(sign(typical_fields()), at(kSignedAt) + 5min);
  ASSERT_TRUE(outcome.ok()) << outcome.reason();
  const VerifiedInitData& data = outcome.value();
  EXPECT_EQ(data.user,
            (TelegramUser{279058397, "Ann Marie", "Lee", "ann_lee", "ru", "https://t.me/i/userpic/320/a.svg", true}));
  EXPECT_EQ(data.query_id, "AAHdF6IQAAAAAN0XohDhrOrc");
  EXPECT_EQ(data.chat_type, "private");
  EXPECT_EQ(data.chat_instance, "-8134722200314281151");
  EXPECT_EQ(data.start_param, "ref_42");
  EXPECT_EQ(data.auth_date, at(kSignedAt));
}

TEST(TelegramInitData, WrongHashIsRejectedAsBadHash) {
  const VerifierSetup setup;
  std::string raw = sign(typical_fields());
  char& last = raw.back();
  last = last == '0' ? '1' : '0';
  const auto outcome = setup.verify(raw, at(kSignedAt));
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.reason(), TelegramAuthFailure::kBadHash);
}

TEST(TelegramInitData, HashFromAnotherBotTokenIsRejected) {
  const VerifierSetup setup;
  const auto outcome = setup.verify(sign(typical_fields(), "999:OTHER"), at(kSignedAt));
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.reason(), TelegramAuthFailure::kBadHash);
}

TEST(TelegramInitData, ChangedFieldIsRejectedAsBadHash) {
  const VerifierSetup setup;
  std::string raw = sign(typical_fields());
  const auto pos = raw.find("279058397");
  ASSERT_NE(pos, std::string::npos);
  raw.replace(pos, 9, "279058398");
  const auto outcome = setup.verify(raw, at(kSignedAt));
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.reason(), TelegramAuthFailure::kBadHash);
}

TEST(TelegramInitData, AddedFieldIsRejectedAsBadHash) {
  const VerifierSetup setup;
  const auto outcome = setup.verify(sign(typical_fields()) + "&is_admin=true", at(kSignedAt));
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.reason(), TelegramAuthFailure::kBadHash);
}

TEST(TelegramInitData, RemovedFieldIsRejectedAsBadHash) {
  const VerifierSetup setup;
  std::string raw = sign(typical_fields());
  const auto start = raw.find("start_param=");
  raw.erase(start, raw.find('&', start) - start + 1);
  const auto outcome = setup.verify(raw, at(kSignedAt));
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.reason(), TelegramAuthFailure::kBadHash);
}

TEST(TelegramInitData, SignatureFieldIsCoveredByTheHmac) {
  const VerifierSetup setup;
  auto fields = typical_fields();
  fields.emplace_back("signature", "zL-ucjNyREiHDE8aihFwpfR9aggP2xiAo3NSpfe");
  const std::string raw = sign(fields);
  EXPECT_TRUE(setup.verify(raw, at(kSignedAt)).ok());

  std::string without = raw;
  const auto start = without.find("signature=");
  without.erase(start, without.find('&', start) - start + 1);
  const auto outcome = setup.verify(without, at(kSignedAt));
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.reason(), TelegramAuthFailure::kBadHash);
}

TEST(TelegramInitData, UnknownFieldsAreSignedAndKept) {
  const VerifierSetup setup;
  auto fields = typical_fields();
  fields.emplace_back("can_send_after", "10000");
  fields.emplace_back("receiver", R"({"id":991,"first_name":"Bob"})");
  const auto parsed = TelegramInitData::parse(sign(fields));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed.value().fields.size(), fields.size() + 1);
  EXPECT_TRUE(setup.verify(sign(fields), at(kSignedAt)).ok());
}

TEST(TelegramInitData, HashInUpperCaseHexIsAccepted) {
  const VerifierSetup setup;
  std::string raw = sign(typical_fields());
  const auto pos = raw.find("hash=") + 5;
  std::transform(raw.begin() + static_cast<std::ptrdiff_t>(pos), raw.end(),
                 raw.begin() + static_cast<std::ptrdiff_t>(pos),
                 [](char c) { return static_cast<char>(std::toupper(static_cast<unsigned char>(c))); });
  EXPECT_TRUE(setup.verify(raw, at(kSignedAt)).ok());
}

TEST(TelegramInitData, NonHexOrShortHashIsBadHash) {
  const VerifierSetup setup;
  for (const std::string& hash :
       std::vector<std::string>{"test", "%C3%A9%C3%A9%C3%A9", std::string(64, 'z'), std::string(62, '0')}) {
    SCOPED_TRACE(hash);
    const auto outcome =
        setup.verify("auth_date=" + std::to_string(kSignedAt) + "&query_id=q&hash=" + hash, at(kSignedAt));
    ASSERT_FALSE(outcome.ok());
    EXPECT_EQ(outcome.reason(), TelegramAuthFailure::kBadHash);
  }
}

TEST(TelegramInitData, MissingHashIsRejected) {
  const VerifierSetup setup;
  std::string raw = sign(typical_fields());
  raw.erase(raw.find("&hash="));
  const auto outcome = setup.verify(raw, at(kSignedAt));
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.reason(), TelegramAuthFailure::kMissingHash);
}

TEST(TelegramInitData, EmptyHashCountsAsMissing) {
  const VerifierSetup setup;
  std::string raw = sign(typical_fields());
  raw.erase(raw.find("&hash=") + 6);
  const auto outcome = setup.verify(raw, at(kSignedAt));
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.reason(), TelegramAuthFailure::kMissingHash);
}

TEST(TelegramInitData, MissingAuthDateIsRejected) {
  const VerifierSetup setup;
  auto fields = typical_fields();
  fields.pop_back();
  const auto outcome = setup.verify(sign(fields), at(kSignedAt));
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.reason(), TelegramAuthFailure::kMissingAuthDate);
}

TEST(TelegramInitData, NonNumericAuthDateIsMalformed) {
  const VerifierSetup setup;
  for (const std::string bad : {"test", "-1", "+1764028800", "1764028800.5", " 1764028800", "1e9", "9999999999999"}) {
    SCOPED_TRACE(bad);
    auto fields = typical_fields();
    fields.back().second = bad;
    const auto outcome = setup.verify(sign(fields), at(kSignedAt));
    ASSERT_FALSE(outcome.ok());
    EXPECT_EQ(outcome.reason(), TelegramAuthFailure::kMalformed);
  }
}

TEST(TelegramInitData, AuthDateOlderThanMaxAgePlusSkewIsStale) {
  const VerifierSetup setup;  // max age 24 h, skew 30 s
  const std::string raw = sign(typical_fields());
  EXPECT_TRUE(setup.verify(raw, at(kSignedAt) + 24h + 30s).ok());
  const auto outcome = setup.verify(raw, at(kSignedAt) + 24h + 31s);
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.reason(), TelegramAuthFailure::kStale);
}

TEST(TelegramInitData, StaleIsReportedEvenWithABadHash) {
  const VerifierSetup setup;
  const auto outcome = setup.verify("auth_date=1000&hash=abc", at(kSignedAt));
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.reason(), TelegramAuthFailure::kStale);
}

TEST(TelegramInitData, AuthDateInTheFutureBeyondSkewIsRejected) {
  const VerifierSetup setup;
  const std::string raw = sign(typical_fields());
  EXPECT_TRUE(setup.verify(raw, at(kSignedAt) - 30s).ok()) << "within the skew";
  const auto outcome = setup.verify(raw, at(kSignedAt) - 31s);
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.reason(), TelegramAuthFailure::kAuthDateInFuture);
}

TEST(TelegramInitData, DuplicateKeysAreRejected) {
  const VerifierSetup setup;
  const std::string raw = sign(typical_fields());
  for (const std::string& extra : std::vector<std::string>{"&user=%7B%22id%22%3A1%2C%22first_name%22%3A%22Eve%22%7D",
                                                           "&hash=00", "&auth_date=" + std::to_string(kSignedAt)}) {
    SCOPED_TRACE(extra);
    const auto outcome = setup.verify(raw + extra, at(kSignedAt));
    ASSERT_FALSE(outcome.ok());
    EXPECT_EQ(outcome.reason(), TelegramAuthFailure::kDuplicateField);
  }
  // Also when the repeated key is written with an escape.
  const auto outcome = setup.verify(raw + "&%75ser=x", at(kSignedAt));
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.reason(), TelegramAuthFailure::kDuplicateField);
}

TEST(TelegramInitData, MalformedPercentEncodingIsRejected) {
  const VerifierSetup setup;
  const std::string raw = sign(typical_fields());
  for (const std::string extra : {"&x=%zz", "&x=%4", "&x=%", "&x=%%41", "&x=%G0", "&%=1"}) {
    SCOPED_TRACE(extra);
    const auto outcome = setup.verify(raw + extra, at(kSignedAt));
    ASSERT_FALSE(outcome.ok());
    EXPECT_EQ(outcome.reason(), TelegramAuthFailure::kMalformed);
  }
}

TEST(TelegramInitData, TextThatIsNotAQueryStringIsMalformed) {
  const VerifierSetup setup;
  for (const std::string raw :
       {"", "&&&", "here comes something wrong;", "test&foo=bar=baz", "=value&hash=00", "a=1 2&hash=00",
        "a=\x01&hash=00", "a=\xC3\xA9&hash=00", "a=%FF&hash=00", "a=%C0%AF&hash=00",
        "user=not-json&auth_date=1764028800&hash=00", "user=%5B1%5D&auth_date=1764028800&hash=00"}) {
    SCOPED_TRACE(raw);
    const auto outcome = setup.verify(raw, at(kSignedAt));
    ASSERT_FALSE(outcome.ok());
    EXPECT_EQ(outcome.reason(), TelegramAuthFailure::kMalformed);
  }
}

TEST(TelegramInitData, OverlongInputIsMalformed) {
  const VerifierSetup setup;
  const std::string raw = sign(typical_fields()) + "&pad=" + std::string(std::size_t{20} * 1024, 'a');
  const auto outcome = setup.verify(raw, at(kSignedAt));
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.reason(), TelegramAuthFailure::kMalformed);
}

TEST(TelegramInitData, PlusDecodesToASpace) {
  const VerifierSetup setup;
  std::string raw = sign(typical_fields());  // "Ann Marie" is encoded as Ann%20Marie
  const auto pos = raw.find("Ann%20Marie");
  ASSERT_NE(pos, std::string::npos);
  raw.replace(pos, 11, "Ann+Marie");
  const auto outcome = setup.verify(raw, at(kSignedAt));
  ASSERT_TRUE(outcome.ok()) << outcome.reason();
  EXPECT_EQ(outcome.value().user.first_name, "Ann Marie");
}

TEST(TelegramInitData, EscapedPlusStaysAPlus) {
  const VerifierSetup setup;
  auto fields = typical_fields();
  fields[4] = {"start_param", "a+b"};
  const auto outcome = setup.verify(sign(fields), at(kSignedAt));  // encodes '+' as %2B
  ASSERT_TRUE(outcome.ok()) << outcome.reason();
  EXPECT_EQ(outcome.value().start_param, "a+b");
}

TEST(TelegramInitData, SignedDataWithoutAUserIsRejected) {
  const VerifierSetup setup;
  const auto outcome = setup.verify(sign({{"query_id", "q"}, {"auth_date", std::to_string(kSignedAt)}}), at(kSignedAt));
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.reason(), TelegramAuthFailure::kMissingUser);
}

TEST(TelegramInitData, UserOfTheWrongShapeIsMalformed) {
  const VerifierSetup setup;
  for (const std::string user :
       {R"({"first_name":"NoId"})", R"({"id":42})", R"({"id":-5,"first_name":"A"})", R"({"id":1.5,"first_name":"A"})",
        R"({"id":42,"first_name":7})", R"({"id":42,"first_name":"A","username":5})",
        R"({"id":42,"first_name":"A","is_premium":"yes"})", R"({"id":18446744073709551615,"first_name":"A"})",
        R"({"id":42,"first_name":"A","x":[[[[[[[[[[1]]]]]]]]]]})"}) {
    SCOPED_TRACE(user);
    const auto outcome = setup.verify(sign({{"user", user}, {"auth_date", std::to_string(kSignedAt)}}), at(kSignedAt));
    ASSERT_FALSE(outcome.ok());
    EXPECT_EQ(outcome.reason(), TelegramAuthFailure::kMalformed);
  }
}

TEST(TelegramInitData, UserIdAndFlagsGivenAsStringsAreAccepted) {
  const VerifierSetup setup;
  const auto outcome =
      setup.verify(sign({{"user", R"({"id":"123456789","first_name":"A","is_premium":"true","last_name":null})"},
                         {"auth_date", std::to_string(kSignedAt)}}),
                   at(kSignedAt));
  ASSERT_TRUE(outcome.ok()) << outcome.reason();
  EXPECT_EQ(outcome.value().user.id, 123456789);
  EXPECT_TRUE(outcome.value().user.is_premium);
  EXPECT_FALSE(outcome.value().user.last_name.has_value());
}

TEST(TelegramInitData, DataCheckStringSortsWholeLinesAndLeavesOutOnlyTheHash) {
  // Whole "key=value" lines are sorted, as in Telegram's examples: "a1=" sorts before "a=".
  const auto parsed = TelegramInitData::parse("query_id=q&hash=h&auth_date=1&signature=s&a=x%3Dy&a1=z");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed.value().data_check_string(), "a1=z\na=x=y\nauth_date=1\nquery_id=q\nsignature=s");
  EXPECT_EQ(parsed.value().third_party_check_string(42), "42:WebAppData\na1=z\na=x=y\nauth_date=1\nquery_id=q");
}

TEST(InitDataVerifier, NeedsABotTokenOrABotId) {
  const CryptoInit crypto;
  InitDataVerifierOptions options;
  EXPECT_THROW(InitDataVerifier(crypto, options), std::invalid_argument);
  options.bot_id = 7342037359;
  EXPECT_EQ(InitDataVerifier(crypto, options).method(), InitDataMethod::kEd25519);
  options.bot_token = std::string(kBotToken);
  EXPECT_EQ(InitDataVerifier(crypto, options).method(), InitDataMethod::kHmac);
}

TEST(InitDataVerifier, FreshnessCannotBeSwitchedOff) {
  const CryptoInit crypto;
  InitDataVerifierOptions options;
  options.bot_token = std::string(kBotToken);
  options.freshness.max_age = 0s;
  EXPECT_THROW(InitDataVerifier(crypto, options), std::invalid_argument);
  options.freshness = FreshnessPolicy{1h, -1s};
  EXPECT_THROW(InitDataVerifier(crypto, options), std::invalid_argument);
}

TEST(TelegramAuthFailure, NamesAreStable) {
  EXPECT_EQ(to_string(TelegramAuthFailure::kBadHash), "bad_hash");
  EXPECT_EQ(to_string(TelegramAuthFailure::kStale), "stale");
  EXPECT_EQ(to_string(TelegramAuthFailure::kAuthDateInFuture), "auth_date_in_future");
  EXPECT_EQ(to_string(TelegramAuthFailure::kDuplicateField), "duplicate_field");
}

}  // namespace
}  // namespace evolveai::services::auth
