#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "support/run_command.hpp"
#include "support/test_app.hpp"

namespace evolveai {
namespace {

using testing::run_evolveai;

TEST(Cli, VersionPrintsTheVersion) {
  testing::TempDir dir;
  const auto result = run_evolveai("", "version", dir.path());
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.output.rfind("evolveai ", 0), 0U) << result.output;
}

TEST(Cli, EverySubcommandHasHelp) {
  testing::TempDir dir;
  for (const std::string args : {"--help", "serve --help", "config check --help", "version --help"}) {
    const auto result = run_evolveai("", args, dir.path());
    EXPECT_EQ(result.exit_code, 0) << args;
    EXPECT_NE(result.output.find("Usage"), std::string::npos) << args << ": " << result.output;
  }
}

TEST(Cli, ConfigCheckMasksSecretsAndNamesBadKeys) {
  testing::TempDir dir;
  auto result = run_evolveai("EVOLVEAI_TELEGRAM__BOT_TOKEN=123:very-secret-token", "config check", dir.path());
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(result.output.find("very-secret-token"), std::string::npos);
  EXPECT_NE(result.output.find("[server]"), std::string::npos);

  result = run_evolveai("EVOLVEAI_SERVER__PORT=70000", "config check", dir.path());
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.output.find("server.port"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("70000"), std::string::npos) << result.output;

  std::ofstream(dir.path() / "bad.toml") << "[server]\nprot = 1\n";
  result = run_evolveai("", "config check --config bad.toml", dir.path());
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.output.find("server.prot"), std::string::npos) << result.output;
}

TEST(Cli, ServeRefusesAShortJwtSecret) {
  testing::TempDir dir;
  const auto result =
      run_evolveai("EVOLVEAI_AUTH__JWT_SECRET=tiny-secret-x EVOLVEAI_SERVER__PORT=1", "serve", dir.path());
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.output.find("auth.jwt_secret"), std::string::npos) << result.output;
  EXPECT_EQ(result.output.find("tiny-secret-x"), std::string::npos) << "the secret itself must not be printed";
}

TEST(Cli, ServeReportsAnAddressInUse) {
  testing::TempDir dir;
  testing::TestApp app(testing::test_config(dir.path()));
  const auto result = run_evolveai("EVOLVEAI_SERVER__PORT=" + std::to_string(app.port()), "serve", dir.path());
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.output.find("cannot listen"), std::string::npos) << result.output;
}

}  // namespace
}  // namespace evolveai
