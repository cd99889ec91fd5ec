#pragma once

#include "core/base64.hpp"

#include <gtest/gtest.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/config.hpp"
#include "fakes/fake_gemini.hpp"
#include "support/http_test_client.hpp"
#include "support/store_test_env.hpp"
#include "support/test_app.hpp"

namespace evolveai::testing {

/// The bot token chat tests sign users in with.
inline constexpr const char* kChatTestBotToken = "123456:TEST-bot-token-for-chat-tests";

/// An empty database for a whole application: a SQLite file under `dir`, or a fresh database
/// on the test PostgreSQL server (EVOLVEAI_TEST_PG_URL), dropped again when this object dies.
class AppDatabase {
 public:
  AppDatabase(Engine engine, const std::filesystem::path& dir);
  ~AppDatabase();
  AppDatabase(const AppDatabase&) = delete;
  AppDatabase& operator=(const AppDatabase&) = delete;

  /// The `database.url` to configure.
  [[nodiscard]] const std::string& url() const { return url_; }

 private:
  std::string admin_url_;
  std::string name_;
  std::string url_;
};

/// test_config() with Telegram sign-in, the given database and a Gemini model at `gemini_base_url`
/// (none when empty), retries without long waits in mind (max_retries 2).
app::Config chat_test_config(const std::filesystem::path& dir, const std::string& database_url,
                             const std::string& gemini_base_url);

/// Signs a Telegram user in through POST /api/v1/auth and returns the access token.
std::string sign_in_user(std::uint16_t port, std::int64_t telegram_id, const std::string& first_name = "Ann");

/// One request with a bearer token (and a JSON content type when there is a body).
std::optional<HttpReply> call_api(std::uint16_t port, const std::string& method, const std::string& target,
                                  const std::string& token, const std::string& body = {},
                                  std::map<std::string, std::string> headers = {});

/// POST /api/v1/chat with `body`.
std::optional<HttpReply> post_chat(std::uint16_t port, const std::string& token, const boost::json::object& body,
                                   std::map<std::string, std::string> headers = {});

/// The parsed JSON body of a reply (null when it is not JSON).
boost::json::value json_of(const HttpReply& reply);

/// The `error.code` of an error reply, or "".
std::string error_code_of(const HttpReply& reply);

/// One server-sent event.
struct SseEvent {
  std::string event;
  std::string data;
};

/// The whole body of a chunked reply, its chunks joined.
std::string joined_chunks(const HttpReply& reply);

/// The events in a `text/event-stream` body (comments skipped, multi-line data joined).
std::vector<SseEvent> parse_sse(const std::string& text);

/// Standard base64 with padding.
using core::base64_encode;

/// A small well-formed PNG (1x1).
std::string tiny_png();

/// A whole application on one storage engine (the test's parameter) with Telegram sign-in and a
/// fake Gemini server as its model. Tests adjust `config_` and then call start().
class ChatAppTest : public ::testing::TestWithParam<Engine> {
 protected:
  void SetUp() override;
  /// Builds and starts the application from `config_` (again after stop(): a restart).
  void start();
  /// Stops the application gracefully.
  void stop();
  [[nodiscard]] std::uint16_t port() const { return app_->port(); }
  /// Signs a Telegram user in and returns the access token.
  std::string sign_in(std::int64_t telegram_id, const std::string& first_name = "Ann");
  /// GET /api/v1/export of the token's user, parsed.
  boost::json::object export_of(const std::string& token);
  /// The exported messages of the token's user, oldest first.
  boost::json::array stored_messages(const std::string& token);
  /// Waits until the exported messages satisfy `done` (they are written after the answer
  /// went out); returns the last ones read.
  boost::json::array wait_for_messages(const std::string& token,
                                       const std::function<bool(const boost::json::array&)>& done,
                                       std::chrono::milliseconds timeout = std::chrono::seconds(10));

  TempDir dir_;
  FakeGemini gemini_;
  std::unique_ptr<AppDatabase> database_;
  app::Config config_;
  std::unique_ptr<TestApp> app_;
};

/// "sqlite" / "postgres" as the parameter's name.
std::string engine_param_name(const ::testing::TestParamInfo<Engine>& info);

}  // namespace evolveai::testing
