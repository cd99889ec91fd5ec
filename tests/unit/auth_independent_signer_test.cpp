// Cross-checks our Telegram verifiers against data signed by independent implementations:
// tests/tools/telegram-sign/sign.mjs signs with the npm packages @telegram-apps/init-data-node
// (Mini App init data) and node:crypto checked by @grammyjs/validator (Login Widget).
// `scripts/setup-test-tools` installs those packages (npm ci); `make test` runs it first.
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <boost/json.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "services/auth/telegram_init_data.hpp"
#include "services/auth/telegram_login_widget.hpp"

namespace evolveai::services::auth {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr std::string_view kBotToken = "7342037359:AAFakeTokenForTests_only-1234567890";
constexpr std::int64_t kSignedAt = 1'764'028'800;

fs::path tool_dir() {
  return fs::path(EVOLVEAI_SOURCE_DIR) / "tests" / "tools" / "telegram-sign";
}

std::string shell_quote(const std::string& text) {
  std::string quoted = "'";
  for (const char c : text) {
    quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  }
  return quoted + "'";
}

/// Runs sign.mjs on a request; returns its standard output, trailing newline removed.
std::string run_signer(const boost::json::object& request) {
  if (!fs::exists(tool_dir() / "node_modules" / "@telegram-apps" / "init-data-node")) {
    ADD_FAILURE() << "the signing tool's packages are missing: run scripts/setup-test-tools";
    return {};
  }
  const ::testing::TestInfo* test = ::testing::UnitTest::GetInstance()->current_test_info();
  const fs::path request_file = fs::path(::testing::TempDir()) / ("telegram-sign-" + std::string(test->name()) + "-" +
                                                                  std::to_string(::getpid()) + ".json");
  std::ofstream(request_file) << boost::json::serialize(request);
  const std::string command =
      "node " + shell_quote((tool_dir() / "sign.mjs").string()) + " " + shell_quote(request_file.string()) + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");  // NOLINT(cert-env33-c): a fixed test tool, quoted arguments
  if (pipe == nullptr) {
    ADD_FAILURE() << "cannot run: " << command;
    return {};
  }
  std::string output;
  std::array<char, 4096> buffer{};
  std::size_t read = 0;
  while ((read = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) {
    output.append(buffer.data(), read);
  }
  const int status = ::pclose(pipe);
  fs::remove(request_file);
  EXPECT_EQ(status, 0) << "sign.mjs failed (is node installed? run scripts/setup-test-tools):\n" << output;
  while (!output.empty() && output.back() == '\n') {
    output.pop_back();
  }
  return output;
}

Clock fixed_clock(Time now) {
  return [now] { return now; };
}

Time at(std::int64_t unix_seconds) {
  return Time(std::chrono::seconds(unix_seconds));
}

/// Init data as @telegram-apps/init-data-node signs it, with awkward text in every field.
std::string package_signed_init_data() {
  boost::json::object user{{"id", 279058397},
                           {"first_name", "Ann + Marie & Co = 100% 🌸"},
                           {"last_name", "O'Neil \"Jr\""},
                           {"username", "ann_oneil"},
                           {"language_code", "ru"},
                           {"is_premium", true},
                           {"allows_write_to_pm", true},
                           {"photo_url", "https://t.me/i/userpic/320/abc.svg"}};
  boost::json::object data{{"user", user},
                           {"query_id", "AAHdF6IQAAAAAN0XohDhrOrc"},
                           {"chat_type", "supergroup"},
                           {"chat_instance", "-8134722200314281151"},
                           {"start_param", "ref_42"},
                           {"can_send_after", 10}};
  return run_signer(
      {{"kind", "init_data"}, {"bot_token", std::string(kBotToken)}, {"auth_date", kSignedAt}, {"data", data}});
}

Outcome<VerifiedInitData, TelegramAuthFailure> verify_init_data(std::string_view raw) {
  const CryptoInit crypto;
  InitDataVerifierOptions options;
  options.bot_token = std::string(kBotToken);
  options.freshness = FreshnessPolicy{24h, 30s};
  const InitDataVerifier verifier(crypto, options, fixed_clock(at(kSignedAt) + 1min));
  return verifier.verify(raw);
}

TEST(IndependentSigner, InitDataSignedByTheNpmPackageIsAccepted) {
  const std::string raw = package_signed_init_data();
  ASSERT_FALSE(raw.empty());
  const auto outcome = verify_init_data(raw);
  ASSERT_TRUE(outcome.ok()) << outcome.reason() << "\n" << raw;
  const VerifiedInitData& data = outcome.value();
  EXPECT_EQ(data.user.id, 279058397);
  EXPECT_EQ(data.user.first_name, "Ann + Marie & Co = 100% 🌸");
  EXPECT_EQ(data.user.last_name, "O'Neil \"Jr\"");
  EXPECT_EQ(data.user.username, "ann_oneil");
  EXPECT_EQ(data.user.language_code, "ru");
  EXPECT_TRUE(data.user.is_premium);
  EXPECT_EQ(data.query_id, "AAHdF6IQAAAAAN0XohDhrOrc");
  EXPECT_EQ(data.chat_type, "supergroup");
  EXPECT_EQ(data.start_param, "ref_42");
  EXPECT_EQ(data.auth_date, at(kSignedAt));
}

TEST(IndependentSigner, MutatedCopyOfPackageSignedInitDataIsRejected) {
  const std::string raw = package_signed_init_data();
  ASSERT_FALSE(raw.empty());

  std::string changed_user = raw;
  const auto id = changed_user.find("279058397");
  ASSERT_NE(id, std::string::npos);
  changed_user.replace(id, 9, "279058396");
  EXPECT_EQ(verify_init_data(changed_user).reason(), TelegramAuthFailure::kBadHash);

  std::string changed_date = raw;
  const auto date = changed_date.find("auth_date=" + std::to_string(kSignedAt));
  ASSERT_NE(date, std::string::npos);
  changed_date.replace(date, 10 + 10, "auth_date=" + std::to_string(kSignedAt + 1));
  EXPECT_EQ(verify_init_data(changed_date).reason(), TelegramAuthFailure::kBadHash);

  std::string changed_hash = raw;
  char& last = changed_hash.back();
  last = last == 'f' ? 'e' : 'f';
  EXPECT_EQ(verify_init_data(changed_hash).reason(), TelegramAuthFailure::kBadHash);

  EXPECT_EQ(verify_init_data(raw + "&start_param=evil").reason(), TelegramAuthFailure::kDuplicateField);
}

TEST(IndependentSigner, PackageSignedInitDataGoesStaleAfterMaxAge) {
  const std::string raw = package_signed_init_data();
  const CryptoInit crypto;
  InitDataVerifierOptions options;
  options.bot_token = std::string(kBotToken);
  options.freshness = FreshnessPolicy{1h, 0s};
  const InitDataVerifier verifier(crypto, options, fixed_clock(at(kSignedAt) + 2h));
  EXPECT_EQ(verifier.verify(raw).reason(), TelegramAuthFailure::kStale);
}

LoginWidgetFields independently_signed_widget(const LoginWidgetFields& fields) {
  boost::json::object object;
  for (const auto& [key, value] : fields) {
    object[key] = value;
  }
  const std::string output =
      run_signer({{"kind", "login_widget"}, {"bot_token", std::string(kBotToken)}, {"fields", object}});
  LoginWidgetFields signed_fields;
  if (output.empty()) {
    return signed_fields;
  }
  const boost::json::value document = boost::json::parse(output);
  for (const auto& [key, value] : document.as_object()) {
    signed_fields[std::string(key)] = std::string(value.as_string());
  }
  return signed_fields;
}

Outcome<VerifiedLoginWidget, TelegramAuthFailure> verify_widget(const LoginWidgetFields& fields) {
  const LoginWidgetVerifier verifier(LoginWidgetVerifierOptions{std::string(kBotToken), FreshnessPolicy{24h, 30s}},
                                     fixed_clock(at(kSignedAt) + 1min));
  return verifier.verify(fields);
}

TEST(IndependentSigner, LoginWidgetDataSignedIndependentlyIsAcceptedAndMutationsRejected) {
  const LoginWidgetFields fields = independently_signed_widget({{"id", "424242424242"},
                                                                {"first_name", "Ann & Marie 🌸"},
                                                                {"last_name", "O'Neil"},
                                                                {"username", "ann"},
                                                                {"photo_url", "https://t.me/i/userpic/320/a.jpg"},
                                                                {"auth_date", std::to_string(kSignedAt)}});
  ASSERT_TRUE(fields.contains("hash"));
  const auto outcome = verify_widget(fields);
  ASSERT_TRUE(outcome.ok()) << outcome.reason();
  EXPECT_EQ(outcome.value().user.id, 424242424242);
  EXPECT_EQ(outcome.value().user.first_name, "Ann & Marie 🌸");

  auto changed = fields;
  changed["username"] = "admin";
  EXPECT_EQ(verify_widget(changed).reason(), TelegramAuthFailure::kBadHash);
  auto without_hash = fields;
  without_hash.erase("hash");
  EXPECT_EQ(verify_widget(without_hash).reason(), TelegramAuthFailure::kMissingHash);
}

}  // namespace
}  // namespace evolveai::services::auth
