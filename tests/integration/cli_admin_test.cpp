// `evolveai admin ...` as the operator runs it: the real binary against the database of a server;
// `admin create` reads the password on standard input, then the admin logs in through the API.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "app/cli_admin.hpp"
#include "storage/store.hpp"
#include "support/http_test_client.hpp"
#include "support/run_command.hpp"
#include "support/test_app.hpp"

namespace evolveai {
namespace {

using testing::run_evolveai;

/// The password every test creates its admin with.
std::string password() {
  return "correct horse battery staple";
}

std::string env_for(const testing::TempDir& dir) {
  return "EVOLVEAI_SERVER__DATA_DIR='" + dir.path().string() + "' EVOLVEAI_DATABASE__URL='sqlite://" +
         (dir.path() / "evolveai.db").string() + "'";
}

std::optional<testing::HttpReply> log_in(std::uint16_t port, const std::string& username, const std::string& password) {
  const auto body = boost::json::serialize(boost::json::object{{"username", username}, {"password", password}});
  return testing::http_request(port, "POST", "/api/v1/admin/login", body, {{"Content-Type", "application/json"}});
}

TEST(CliAdmin, CreatedAdminCanLogInWithThePasswordFromStandardInput) {
  const testing::TempDir dir;
  const auto created = run_evolveai(env_for(dir), "admin create --username ops", dir.path(), password() + "\n");
  ASSERT_EQ(created.exit_code, 0) << created.output;
  EXPECT_NE(created.output.find("created admin 'ops'"), std::string::npos) << created.output;
  EXPECT_EQ(created.output.find(password()), std::string::npos) << "the password is never echoed";

  testing::TestApp app(testing::test_config(dir.path()));
  const auto good = log_in(app.port(), "ops", password());
  ASSERT_TRUE(good);
  EXPECT_EQ(good->status, 200) << good->body;
  EXPECT_TRUE(boost::json::parse(good->body).as_object().contains("access_token"));
  const auto bad = log_in(app.port(), "ops", password() + "x");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 401);

  const auto audit = app.run(app.store().list_audit(std::nullopt, 10));
  ASSERT_EQ(audit.size(), 1U);
  EXPECT_EQ(audit[0].action, "admin.create");
}

TEST(CliAdmin, RefusesATakenUsername) {
  const testing::TempDir dir;
  ASSERT_EQ(run_evolveai(env_for(dir), "admin create --username ops", dir.path(), password() + "\n").exit_code, 0);
  const auto again = run_evolveai(env_for(dir), "admin create --username ops", dir.path(), "another password 1\n");
  EXPECT_EQ(again.exit_code, app::kExitBadInput) << again.output;
  EXPECT_NE(again.output.find("already exists"), std::string::npos) << again.output;
}

TEST(CliAdmin, RefusesUnusableInputWithoutCreatingAnything) {
  const testing::TempDir dir;
  struct Case {
    std::string args;
    std::string input;
    std::string says;
  };
  const std::vector<Case> cases = {
      {"admin create --username ops", "short\n", "at least 12"},
      {"admin create --username ops", "", "no password"},
      {"admin create --username 'o p'", password() + "\n", "may hold only"},
      {"admin create --username ab", password() + "\n", "3 to 64"},
  };
  for (const auto& c : cases) {
    const auto result = run_evolveai(env_for(dir), c.args, dir.path(), c.input);
    EXPECT_EQ(result.exit_code, app::kExitBadInput) << c.args << ": " << result.output;
    EXPECT_NE(result.output.find(c.says), std::string::npos) << c.args << ": " << result.output;
  }
  // The password cannot be passed as an argument at all.
  const auto in_argv = run_evolveai(env_for(dir), "admin create --username ops --password '" + password() + "'",
                                    dir.path(), password() + "\n");
  EXPECT_NE(in_argv.exit_code, 0) << in_argv.output;

  testing::TestApp app(testing::test_config(dir.path()));
  const auto reply = log_in(app.port(), "ops", password());
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 401) << "no admin was created by any refused command";
}

TEST(CliAdminRules, UsernameAndPasswordRules) {
  EXPECT_TRUE(app::admin_username_problem("ops.team_1-a").empty());
  EXPECT_FALSE(app::admin_username_problem("ops team").empty());
  EXPECT_FALSE(app::admin_username_problem("опс").empty());
  EXPECT_FALSE(app::admin_username_problem(std::string(65, 'a')).empty());
  EXPECT_TRUE(app::admin_password_problem("twelve chars").empty());
  EXPECT_FALSE(app::admin_password_problem("eleven char").empty());
  EXPECT_FALSE(app::admin_password_problem(std::string(2000, 'p')).empty());
}

}  // namespace
}  // namespace evolveai

namespace evolveai {
namespace {

/// The operators' commands against the database of a running server, as a headless operator runs them.
class CliOperators : public ::testing::Test {
 protected:
  void SetUp() override {
    app_ = std::make_unique<testing::TestApp>(testing::test_config(dir_.path()));
    user_ = app_->run(app_->store().upsert_user(storage::TelegramIdentity{424242, "Ann", "Lee", "annlee", "en"}));
  }

  testing::CommandResult admin(const std::string& args) {
    return testing::run_evolveai(env_for(dir_), "admin " + args, dir_.path(), "");
  }

  /// The user as stored now (read past the server's user cache).
  storage::User stored_user() { return *app_->run(app_->store().find_user_by_telegram_id(424242)); }

  testing::TempDir dir_;
  std::unique_ptr<testing::TestApp> app_;
  storage::User user_;
};

TEST_F(CliOperators, PremiumAndBansChangeTheUserAndAreAuditedAsCli) {
  const auto id = std::to_string(user_.id);
  const auto granted = admin("grant-premium --user " + id + " --days 30 --reason 'support case'");
  ASSERT_EQ(granted.exit_code, 0) << granted.output;
  EXPECT_NE(granted.output.find("premium until"), std::string::npos) << granted.output;
  EXPECT_TRUE(stored_user().premium_at(std::chrono::system_clock::now()));

  ASSERT_EQ(admin("ban --user " + id + " --reason spam").exit_code, 0);
  EXPECT_TRUE(stored_user().banned);
  const auto banned = admin("users --banned true");
  ASSERT_EQ(banned.exit_code, 0) << banned.output;
  EXPECT_NE(banned.output.find("annlee"), std::string::npos) << banned.output;
  ASSERT_EQ(admin("unban --user " + id).exit_code, 0);
  EXPECT_FALSE(stored_user().banned);
  ASSERT_EQ(admin("revoke-premium --user " + id).exit_code, 0);
  EXPECT_FALSE(stored_user().premium_until);

  const auto audit = app_->run(app_->store().list_audit(std::nullopt, 10));
  ASSERT_EQ(audit.size(), 4U);
  EXPECT_EQ(audit[3].action, "user.premium.grant");
  EXPECT_EQ(audit[0].action, "user.premium.revoke");
  EXPECT_FALSE(audit[3].admin_id);
  const auto details = boost::json::parse(audit[3].details_json);
  EXPECT_EQ(details.at("via").as_string(), "cli");
  EXPECT_EQ(details.at("reason").as_string(), "support case");
}

TEST_F(CliOperators, UsersAreListedAndSearched) {
  const auto all = admin("users");
  ASSERT_EQ(all.exit_code, 0) << all.output;
  EXPECT_NE(all.output.find("424242"), std::string::npos) << all.output;
  EXPECT_NE(all.output.find("Ann Lee"), std::string::npos) << all.output;
  const auto none = admin("users --query nobody-like-this");
  ASSERT_EQ(none.exit_code, 0) << none.output;
  EXPECT_EQ(none.output.find("424242"), std::string::npos) << none.output;
}

TEST_F(CliOperators, CleanupAndFlags) {
  storage::NewMessage message;
  message.user_id = user_.id;
  message.content = "new enough to stay";
  app_->run(app_->store().insert_message(message));
  const auto cleaned = admin("cleanup --older-than-days 30");
  ASSERT_EQ(cleaned.exit_code, 0) << cleaned.output;
  EXPECT_NE(cleaned.output.find("deleted 0 messages"), std::string::npos) << cleaned.output;
  EXPECT_EQ(app_->run(app_->store().count_messages(user_.id, 0)), 1);

  const auto set = admin("flags --set voice_replies=30 --set relevant_past=off --reason rollout");
  ASSERT_EQ(set.exit_code, 0) << set.output;
  EXPECT_NE(set.output.find("voice_replies"), std::string::npos) << set.output;
  const auto shown = admin("flags");
  ASSERT_EQ(shown.exit_code, 0) << shown.output;
  EXPECT_NE(shown.output.find("30%"), std::string::npos) << shown.output;
  EXPECT_NE(shown.output.find("off"), std::string::npos) << shown.output;
  EXPECT_EQ(app_->run(app_->store().list_audit(std::nullopt, 10)).size(), 2U) << "cleanup and flags";
}

TEST_F(CliOperators, RefusesUnknownUsersAndBadValues) {
  const auto unknown = admin("ban --user 999999");
  EXPECT_EQ(unknown.exit_code, app::kExitBadInput) << unknown.output;
  EXPECT_NE(unknown.output.find("No such user"), std::string::npos) << unknown.output;
  const auto zero = admin("grant-premium --user " + std::to_string(user_.id) + " --days 0");
  EXPECT_EQ(zero.exit_code, app::kExitBadInput) << zero.output;
  const auto flag = admin("flags --set no_such_flag=on");
  EXPECT_EQ(flag.exit_code, app::kExitBadInput) << flag.output;
  const auto malformed = admin("flags --set voice_replies=lots");
  EXPECT_EQ(malformed.exit_code, app::kExitBadInput) << malformed.output;
  EXPECT_TRUE(app_->run(app_->store().list_audit(std::nullopt, 10)).empty());
}

}  // namespace
}  // namespace evolveai
