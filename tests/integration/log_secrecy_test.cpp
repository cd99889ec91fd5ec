#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <csignal>
#include <fstream>
#include <sstream>
#include <thread>

#include "support/http_test_client.hpp"
#include "support/redis_process.hpp"
#include "support/telegram_signing.hpp"
#include "support/test_app.hpp"

namespace evolveai {
namespace {

using namespace std::chrono_literals;

TEST(LogSecrecy, AuthFlowLogsNeitherTokensNorSecretsNorPasswords) {
  testing::TempDir dir;
  const std::string bot_token = "424242:SECRET-bot-token-value";
  const std::string jwt_secret = "jwt-secret-value-that-is-long-enough-0123456789";
  const std::string password = "hunter2-password-value";
  const auto port = testing::free_port();
  const auto log_path = dir.path() / "server.log";

  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(fd, STDOUT_FILENO);
    ::dup2(fd, STDERR_FILENO);
    ::chdir(dir.path().c_str());
    const std::string env_port = "EVOLVEAI_SERVER__PORT=" + std::to_string(port);
    const std::string env_bot = "EVOLVEAI_TELEGRAM__BOT_TOKEN=" + bot_token;
    const std::string env_jwt = "EVOLVEAI_AUTH__JWT_SECRET=" + jwt_secret;
    const std::string env_level = "EVOLVEAI_LOG__LEVEL=debug";
    const char* const env[] = {env_port.c_str(), env_bot.c_str(), env_jwt.c_str(), env_level.c_str(), nullptr};
    const char* const argv[] = {EVOLVEAI_BINARY_PATH, "serve", nullptr};
    ::execve(EVOLVEAI_BINARY_PATH, const_cast<char* const*>(argv), const_cast<char* const*>(env));
    ::_exit(127);
  }

  std::optional<testing::HttpReply> health;
  for (int i = 0; i < 100 && !health; ++i) {
    std::this_thread::sleep_for(50ms);
    try {
      health = testing::http_request(port, "GET", "/healthz");
    } catch (const std::exception&) {
    }
  }
  ASSERT_TRUE(health) << "the server did not start";

  const auto now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  const auto init_data = testing::init_data_for(bot_token, 990001, "Sam", now);
  const auto signed_in = testing::http_request(port, "POST", "/api/v1/auth",
                                               boost::json::serialize(boost::json::object{{"init_data", init_data}}),
                                               {{"Content-Type", "application/json"}});
  ASSERT_TRUE(signed_in);
  ASSERT_EQ(signed_in->status, 200) << signed_in->body;
  const std::string token(boost::json::parse(signed_in->body).at("access_token").as_string());
  ASSERT_EQ(testing::http_request(port, "GET", "/api/v1/profile", {}, {{"Authorization", "Bearer " + token}})->status,
            200);
  ASSERT_EQ(
      testing::http_request(port, "GET", "/api/v1/profile", {}, {{"Authorization", "Bearer " + token + "x"}})->status,
      401);
  ASSERT_EQ(testing::http_request(port, "POST", "/api/v1/admin/login",
                                  R"({"username":"root","password":")" + password + "\"}",
                                  {{"Content-Type", "application/json"}})
                ->status,
            401);

  ::kill(child, SIGTERM);
  int status = 0;
  ::waitpid(child, &status, 0);
  std::ifstream in(log_path);
  std::stringstream text;
  text << in.rdbuf();
  const auto logs = text.str();
  EXPECT_NE(logs.find("user_signed_in"), std::string::npos) << "the flow was logged";
  EXPECT_EQ(logs.find(bot_token), std::string::npos);
  EXPECT_EQ(logs.find("SECRET-bot-token"), std::string::npos);
  EXPECT_EQ(logs.find(jwt_secret), std::string::npos);
  EXPECT_EQ(logs.find(token.substr(token.rfind('.') + 1)), std::string::npos) << "a token signature was logged";
  EXPECT_EQ(logs.find(token.substr(0, token.find('.'))), std::string::npos) << "a token header was logged";
  EXPECT_EQ(logs.find(password), std::string::npos);
  EXPECT_EQ(logs.find(init_data.substr(init_data.find("hash=") + 5, 20)), std::string::npos);
}

}  // namespace
}  // namespace evolveai
