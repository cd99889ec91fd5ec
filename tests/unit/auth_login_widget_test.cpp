#include "services/auth/telegram_login_widget.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <array>
#include <string>
#include <vector>

#include "services/auth/primitives.hpp"

namespace evolveai::services::auth {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view kBotToken = "123456:TEST-bot-token";
constexpr std::int64_t kSignedAt = 1'764'028'800;  // 2025-11-25T00:00:00Z

Time at(std::int64_t unix_seconds) {
  return Time(std::chrono::seconds(unix_seconds));
}

/// Adds `hash` as Telegram documents it, written independently of the code under test:
/// key = SHA256(token), HMAC-SHA256 over the sorted "key=value" lines, straight from OpenSSL.
LoginWidgetFields signed_fields(LoginWidgetFields fields, std::string_view token = kBotToken) {
  std::string check;
  for (const auto& [key, value] : fields) {  // std::map iterates in key order
    check += (check.empty() ? "" : "\n") + key + "=" + value;
  }
  std::array<unsigned char, 32> secret{};
  std::array<unsigned char, 32> tag{};
  unsigned int length = 0;
  EVP_Digest(token.data(), token.size(), secret.data(), &length, EVP_sha256(), nullptr);
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(check.data()), check.size(), tag.data(), &length);
  fields["hash"] = to_hex(tag);
  return fields;
}

LoginWidgetFields typical_fields() {
  return {{"id", "424242424242"},
          {"first_name", "John"},
          {"last_name", "Doe"},
          {"username", "username"},
          {"photo_url", "https://t.me/i/userpic/320/username.jpg"},
          {"auth_date", std::to_string(kSignedAt)}};
}

Outcome<VerifiedLoginWidget, TelegramAuthFailure> verify(const LoginWidgetFields& fields, Time now,
                                                         FreshnessPolicy freshness = {24h, 30s}) {
  const LoginWidgetVerifier verifier(LoginWidgetVerifierOptions{std::string(kBotToken), freshness},
                                     [now] { return now; });
  return verifier.verify(fields);
}

TEST(LoginWidget, SignedDataIsAcceptedWithTheUser) {
  const auto outcome = verify(signed_fields(typical_fields()), at(kSignedAt) + 1min);
  ASSERT_TRUE(outcome.ok()) << outcome.reason();
  const VerifiedLoginWidget& login = outcome.value();
  EXPECT_EQ(login.user.id, 424242424242);
  EXPECT_EQ(login.user.first_name, "John");
  EXPECT_EQ(login.user.last_name, "Doe");
  EXPECT_EQ(login.user.username, "username");
  EXPECT_EQ(login.user.photo_url, "https://t.me/i/userpic/320/username.jpg");
  EXPECT_FALSE(login.user.language_code.has_value());
  EXPECT_EQ(login.auth_date, at(kSignedAt));
}

TEST(LoginWidget, OnlyTheRequiredFieldsAreEnough) {
  const auto outcome = verify(
      signed_fields({{"id", "7"}, {"first_name", "Ann"}, {"auth_date", std::to_string(kSignedAt)}}), at(kSignedAt));
  ASSERT_TRUE(outcome.ok()) << outcome.reason();
  EXPECT_EQ(outcome.value().user.id, 7);
  EXPECT_FALSE(outcome.value().user.username.has_value());
}

TEST(LoginWidget, UnicodeNamesAreSignedAsUtf8) {
  auto fields = typical_fields();
  fields["first_name"] = "Анна 🌸";
  const auto outcome = verify(signed_fields(fields), at(kSignedAt));
  ASSERT_TRUE(outcome.ok()) << outcome.reason();
  EXPECT_EQ(outcome.value().user.first_name, "Анна 🌸");
}

TEST(LoginWidget, WrongHashIsRejected) {
  auto fields = signed_fields(typical_fields());
  fields["hash"][0] = fields["hash"][0] == 'a' ? 'b' : 'a';
  const auto outcome = verify(fields, at(kSignedAt));
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.reason(), TelegramAuthFailure::kBadHash);
}

TEST(LoginWidget, HashOfAnotherBotIsRejected) {
  const auto outcome = verify(signed_fields(typical_fields(), "999:OTHER"), at(kSignedAt));
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.reason(), TelegramAuthFailure::kBadHash);
}

TEST(LoginWidget, MiniAppStyleHashIsNotAccepted) {
  // The widget key is SHA256(token), not HMAC("WebAppData", token): the two schemes never mix.
  auto fields = typical_fields();
  std::string check;
  for (const auto& [key, value] : fields) {
    check += (check.empty() ? "" : "\n") + key + "=" + value;
  }
  fields["hash"] = to_hex(hmac_sha256(hmac_sha256("WebAppData", kBotToken), check));
  const auto outcome = verify(fields, at(kSignedAt));
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.reason(), TelegramAuthFailure::kBadHash);
}

TEST(LoginWidget, ChangedFieldIsRejected) {
  auto fields = signed_fields(typical_fields());
  fields["id"] = "424242424243";
  const auto outcome = verify(fields, at(kSignedAt));
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.reason(), TelegramAuthFailure::kBadHash);
}

TEST(LoginWidget, AddedOrRemovedFieldIsRejected) {
  auto added = signed_fields(typical_fields());
  added["is_admin"] = "true";
  EXPECT_EQ(verify(added, at(kSignedAt)).reason(), TelegramAuthFailure::kBadHash);
  auto removed = signed_fields(typical_fields());
  removed.erase("username");
  EXPECT_EQ(verify(removed, at(kSignedAt)).reason(), TelegramAuthFailure::kBadHash);
}

TEST(LoginWidget, MissingOrEmptyHashIsRejected) {
  auto fields = signed_fields(typical_fields());
  fields["hash"] = "";
  EXPECT_EQ(verify(fields, at(kSignedAt)).reason(), TelegramAuthFailure::kMissingHash);
  fields.erase("hash");
  EXPECT_EQ(verify(fields, at(kSignedAt)).reason(), TelegramAuthFailure::kMissingHash);
}

TEST(LoginWidget, MissingAuthDateIsRejected) {
  auto fields = typical_fields();
  fields.erase("auth_date");
  EXPECT_EQ(verify(signed_fields(fields), at(kSignedAt)).reason(), TelegramAuthFailure::kMissingAuthDate);
}

TEST(LoginWidget, StaleAuthDateIsRejected) {
  const auto fields = signed_fields(typical_fields());
  EXPECT_TRUE(verify(fields, at(kSignedAt) + 1h, FreshnessPolicy{1h, 0s}).ok());
  EXPECT_EQ(verify(fields, at(kSignedAt) + 1h + 1s, FreshnessPolicy{1h, 0s}).reason(), TelegramAuthFailure::kStale);
}

TEST(LoginWidget, AuthDateInTheFutureBeyondSkewIsRejected) {
  const auto fields = signed_fields(typical_fields());
  EXPECT_TRUE(verify(fields, at(kSignedAt) - 30s).ok());
  EXPECT_EQ(verify(fields, at(kSignedAt) - 31s).reason(), TelegramAuthFailure::kAuthDateInFuture);
}

TEST(LoginWidget, FieldsOfTheWrongShapeAreMalformed) {
  const std::vector<LoginWidgetFields> cases = {
      {},
      {{"id", "1"}, {"first_name", "A\nauth_date=1"}, {"auth_date", std::to_string(kSignedAt)}, {"hash", "00"}},
      {{"id", "1"}, {"first name", "A"}, {"auth_date", std::to_string(kSignedAt)}, {"hash", "00"}},
      {{"id", "1"}, {"", "A"}, {"auth_date", std::to_string(kSignedAt)}, {"hash", "00"}},
      {{"id", "1"}, {"first_name", "\xC3"}, {"auth_date", std::to_string(kSignedAt)}, {"hash", "00"}},
      {{"id", "1"}, {"first_name", std::string(5000, 'a')}, {"auth_date", std::to_string(kSignedAt)}, {"hash", "00"}},
      {{"id", "1"}, {"first_name", "A"}, {"auth_date", "yesterday"}, {"hash", "00"}},
  };
  for (const auto& fields : cases) {
    const auto outcome = verify(fields, at(kSignedAt));
    ASSERT_FALSE(outcome.ok());
    EXPECT_EQ(outcome.reason(), TelegramAuthFailure::kMalformed);
  }
}

TEST(LoginWidget, TooManyFieldsAreMalformed) {
  auto fields = typical_fields();
  for (int i = 0; i < 40; ++i) {
    fields["extra_" + std::to_string(i)] = "x";
  }
  EXPECT_EQ(verify(signed_fields(fields), at(kSignedAt)).reason(), TelegramAuthFailure::kMalformed);
}

TEST(LoginWidget, SignedDataWithoutAnIdNamesNoUser) {
  EXPECT_EQ(
      verify(signed_fields({{"first_name", "A"}, {"auth_date", std::to_string(kSignedAt)}}), at(kSignedAt)).reason(),
      TelegramAuthFailure::kMissingUser);
}

TEST(LoginWidget, SignedDataWithABadIdIsMalformed) {
  for (const std::string id : {"abc", "-5", "0", "1.5"}) {
    SCOPED_TRACE(id);
    const auto outcome = verify(
        signed_fields({{"id", id}, {"first_name", "A"}, {"auth_date", std::to_string(kSignedAt)}}), at(kSignedAt));
    EXPECT_EQ(outcome.reason(), TelegramAuthFailure::kMalformed);
  }
}

TEST(LoginWidgetVerifier, NeedsTheBotToken) {
  EXPECT_THROW(LoginWidgetVerifier(LoginWidgetVerifierOptions{}), std::invalid_argument);
  EXPECT_THROW(LoginWidgetVerifier(LoginWidgetVerifierOptions{"1:x", FreshnessPolicy{0s, 0s}}), std::invalid_argument);
}

}  // namespace
}  // namespace evolveai::services::auth
