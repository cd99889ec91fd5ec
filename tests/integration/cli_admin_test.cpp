// `evolveai admin create` as the operator runs it: the real binary, the password on standard
// input, then a log-in through the API of a server on the same database.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "app/cli_admin.hpp"
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
