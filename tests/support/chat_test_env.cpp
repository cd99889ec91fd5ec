#include "support/chat_test_env.hpp"

#include <libpq-fe.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <thread>

#include "support/telegram_signing.hpp"
#include "support/test_app.hpp"

namespace evolveai::testing {
namespace {

/// Runs one SQL command on the test server; throws with the server's message on failure.
void pg_admin(const std::string& url, const std::string& sql) {
  PGconn* conn = PQconnectdb(url.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    const std::string error = PQerrorMessage(conn);
    PQfinish(conn);
    throw std::runtime_error(error);
  }
  PGresult* result = PQexec(conn, sql.c_str());
  const bool ok = PQresultStatus(result) == PGRES_COMMAND_OK;
  const std::string error = PQerrorMessage(conn);
  PQclear(result);
  PQfinish(conn);
  if (!ok) {
    throw std::runtime_error(error);
  }
}

}  // namespace

AppDatabase::AppDatabase(Engine engine, const std::filesystem::path& dir) {
  static std::atomic<int> counter{0};
  const int n = counter++;
  if (engine == Engine::kSqlite) {
    url_ = "sqlite://" + (dir / ("chat" + std::to_string(n) + ".db")).string();
    return;
  }
  const char* base = std::getenv("EVOLVEAI_TEST_PG_URL");  // NOLINT(concurrency-mt-unsafe): set before tests run
  if (base == nullptr) {
    throw std::runtime_error("EVOLVEAI_TEST_PG_URL is not set");
  }
  admin_url_ = base;
  name_ = "chat_" + std::to_string(::getpid()) + "_" + std::to_string(n);
  pg_admin(admin_url_, "CREATE DATABASE " + name_);
  url_ = admin_url_.substr(0, admin_url_.rfind('/') + 1) + name_;
}

AppDatabase::~AppDatabase() {
  if (name_.empty()) {
    return;
  }
  try {
    pg_admin(admin_url_, "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  } catch (const std::exception&) {  // a leftover database in a throwaway cluster is harmless
  }
}

app::Config chat_test_config(const std::filesystem::path& dir, const std::string& database_url,
                             const std::string& gemini_base_url) {
  auto config = test_config(dir);
  config.database.url = database_url;
  config.telegram.bot_token = kChatTestBotToken;
  if (!gemini_base_url.empty()) {
    config.llm.provider = "gemini";
    config.llm.model = "gemini-test";
    config.llm.api_key = "test-key";
    config.llm.base_url = gemini_base_url;
    config.llm.max_retries = 2;
  }
  return config;
}

std::string sign_in_user(std::uint16_t port, std::int64_t telegram_id, const std::string& first_name) {
  const auto now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  const auto init_data = init_data_for(kChatTestBotToken, telegram_id, first_name, now);
  const auto body = boost::json::serialize(boost::json::object{{"init_data", init_data}});
  const auto reply = http_request(port, "POST", "/api/v1/auth", body, {{"Content-Type", "application/json"}});
  if (!reply || reply->status != 200) {
    throw std::runtime_error("sign-in failed: " + (reply ? reply->body : std::string("no reply")));
  }
  return std::string(boost::json::parse(reply->body).at("access_token").as_string());
}

std::optional<HttpReply> call_api(std::uint16_t port, const std::string& method, const std::string& target,
                                  const std::string& token, const std::string& body,
                                  std::map<std::string, std::string> headers) {
  if (!token.empty()) {
    headers["Authorization"] = "Bearer " + token;
  }
  if (!body.empty()) {
    headers.emplace("Content-Type", "application/json");
  }
  return http_request(port, method, target, body, headers);
}

std::optional<HttpReply> post_chat(std::uint16_t port, const std::string& token, const boost::json::object& body,
                                   std::map<std::string, std::string> headers) {
  return call_api(port, "POST", "/api/v1/chat", token, boost::json::serialize(body), std::move(headers));
}

boost::json::value json_of(const HttpReply& reply) {
  boost::system::error_code ec;
  auto value = boost::json::parse(reply.body, ec);
  return ec ? boost::json::value(nullptr) : value;
}

std::string error_code_of(const HttpReply& reply) {
  const auto value = json_of(reply);
  if (!value.is_object()) {
    return {};
  }
  const auto* error = value.as_object().if_contains("error");
  if (error == nullptr || !error->is_object() || !error->as_object().contains("code")) {
    return {};
  }
  return std::string(error->as_object().at("code").as_string());
}

std::vector<SseEvent> parse_sse(const std::string& text) {
  std::vector<SseEvent> events;
  SseEvent current;
  bool has_data = false;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto end = text.find('\n', pos);
    if (end == std::string::npos) {
      end = text.size();
    }
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    if (line.empty()) {
      if (has_data || !current.event.empty()) {
        events.push_back(current);
      }
      current = {};
      has_data = false;
    } else if (line.starts_with("event:")) {
      current.event = line.substr(line.starts_with("event: ") ? 7 : 6);
    } else if (line.starts_with("data:")) {
      current.data += (has_data ? "\n" : "") + line.substr(line.starts_with("data: ") ? 6 : 5);
      has_data = true;
    }
  }
  return events;
}

std::string joined_chunks(const HttpReply& reply) {
  std::string text;
  for (const auto& chunk : reply.chunks) {
    text += chunk;
  }
  return text;
}

std::string tiny_png() {
  using namespace std::string_literals;
  return "\x89PNG\r\n\x1a\n"s
         "\x00\x00\x00\x0dIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"s
         "\x00\x00\x00\x0bIDATx\x9c\x63`\x00\x02\x00\x00\x05\x00\x01z^\xab?"s
         "\x00\x00\x00\x00IEND\xae\x42`\x82"s;
}

void ChatAppTest::SetUp() {
  if (GetParam() == Engine::kPostgres) {
    if (auto reason = postgres_unavailable_reason()) {
      if (postgres_required()) {
        FAIL() << "EVOLVEAI_REQUIRE_PG=1 but " << *reason;
      }
      GTEST_SKIP() << *reason;
    }
  }
  database_ = std::make_unique<AppDatabase>(GetParam(), dir_.path());
  config_ = chat_test_config(dir_.path(), database_->url(), gemini_.base_url());
}

void ChatAppTest::start() {
  app_.reset();
  app_ = std::make_unique<TestApp>(config_);
}

void ChatAppTest::stop() {
  if (app_) {
    app_->stop();
  }
}

std::string ChatAppTest::sign_in(std::int64_t telegram_id, const std::string& first_name) {
  return sign_in_user(port(), telegram_id, first_name);
}

boost::json::object ChatAppTest::export_of(const std::string& token) {
  const auto reply = call_api(port(), "GET", "/api/v1/export", token);
  if (!reply || reply->status != 200) {
    ADD_FAILURE() << "export failed: " << (reply ? reply->body : std::string("no reply"));
    return {};
  }
  return json_of(*reply).as_object();
}

boost::json::array ChatAppTest::stored_messages(const std::string& token) {
  auto data = export_of(token);
  const auto* messages = data.if_contains("messages");
  return messages != nullptr && messages->is_array() ? messages->as_array() : boost::json::array{};
}

boost::json::array ChatAppTest::wait_for_messages(const std::string& token,
                                                  const std::function<bool(const boost::json::array&)>& done,
                                                  std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto messages = stored_messages(token);
  while (!done(messages) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    messages = stored_messages(token);
  }
  return messages;
}

std::string engine_param_name(const ::testing::TestParamInfo<Engine>& info) {
  return engine_name(info.param);
}

}  // namespace evolveai::testing
