// `evolveai doctor` as the operator runs it: the real binary, configured by environment, against
// fakes of the model provider, Telegram and cloud TTS, and the test PostgreSQL and Redis.
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <boost/json/parse.hpp>

#include <map>
#include <memory>
#include <string>

#include "fakes/fake_gemini.hpp"
#include "fakes/fake_google_tts.hpp"
#include "fakes/fake_upstream.hpp"
#include "support/redis_process.hpp"
#include "support/run_command.hpp"
#include "support/store_test_env.hpp"
#include "support/test_app.hpp"

namespace evolveai {
namespace {

namespace json = boost::json;
using testing::FakeReply;
using testing::run_evolveai;

/// What one run of `doctor --json` reported.
struct DoctorRun {
  int exit_code = -1;
  std::string output;
  bool ok = false;
  std::map<std::string, std::string> statuses;  ///< check name -> ok|warn|fail
  std::map<std::string, std::string> details;
  std::map<std::string, std::string> fixes;

  /// The check's status, or "missing" when the doctor did not report it.
  [[nodiscard]] std::string status(const std::string& name) const { return value(statuses, name, "missing"); }
  [[nodiscard]] std::string detail(const std::string& name) const { return value(details, name, ""); }
  [[nodiscard]] std::string fix(const std::string& name) const { return value(fixes, name, ""); }

 private:
  static std::string value(const std::map<std::string, std::string>& map, const std::string& name,
                           const std::string& otherwise) {
    const auto found = map.find(name);
    return found == map.end() ? otherwise : found->second;
  }
};

/// Data and database in `dir`, plus `env`.
std::string env_for(const testing::TempDir& dir, const std::string& env = {}) {
  return "EVOLVEAI_SERVER__DATA_DIR='" + dir.path().string() + "' " + env;
}

DoctorRun doctor(const testing::TempDir& dir, const std::string& env, const std::string& args = "--json") {
  DoctorRun run;
  const auto result = run_evolveai(env_for(dir, env), "doctor --timeout 5 " + args, dir.path());
  run.exit_code = result.exit_code;
  run.output = result.output;
  const auto start = result.output.rfind("\n{");
  const auto json_text = result.output.substr(start == std::string::npos ? 0 : start + 1);
  boost::system::error_code error;
  const auto value = json::parse(json_text, error);
  if (error || !value.is_object()) {
    return run;
  }
  run.ok = value.at("ok").as_bool();
  for (const auto& check : value.at("checks").as_array()) {
    const auto& object = check.as_object();
    const std::string name(object.at("name").as_string());
    run.statuses[name] = object.at("status").as_string();
    run.details[name] = object.at("detail").as_string();
    if (const auto* fix = object.if_contains("fix")) {
      run.fixes[name] = fix->as_string();
    }
  }
  return run;
}

TEST(CliDoctor, EmbeddedDefaultIsOkExceptTheUnconfiguredModelAndBot) {
  const testing::TempDir dir;
  const auto run = doctor(dir, "");
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_TRUE(run.ok) << run.output;
  for (const std::string name : {"config", "database", "migrations", "redis", "tts", "disk"}) {
    EXPECT_EQ(run.status(name), "ok") << name << ": " << run.output;
  }
  EXPECT_EQ(run.status("tts_cloud"), "missing") << "no cloud engine configured";
  EXPECT_EQ(run.status("model"), "warn");
  EXPECT_NE(run.detail("model").find("llm_not_configured"), std::string::npos) << run.detail("model");
  EXPECT_NE(run.fix("model").find("llm.provider"), std::string::npos) << run.fix("model");
  EXPECT_EQ(run.status("telegram"), "warn");
  EXPECT_NE(run.detail("telegram").find("bot is off"), std::string::npos) << run.detail("telegram");
  EXPECT_NE(run.fix("telegram").find("telegram.bot_token"), std::string::npos) << run.fix("telegram");
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "evolveai.db")) << "the doctor creates nothing";
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "jwt_secret")) << "the doctor creates nothing";
}

TEST(CliDoctor, PrintsOneLinePerCheckWithTheFixUnderEveryWarning) {
  const testing::TempDir dir;
  const auto result = run_evolveai(env_for(dir), "doctor --timeout 5", dir.path());
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("ok    database"), std::string::npos) << result.output;
  const auto model = result.output.find("warn  model");
  ASSERT_NE(model, std::string::npos) << result.output;
  const auto next_line = result.output.find('\n', model) + 1;
  EXPECT_NE(result.output.substr(next_line, result.output.find('\n', next_line) - next_line).find("fix: "),
            std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find(", 2 warn, 0 fail"), std::string::npos) << result.output;
}

TEST(CliDoctor, AnExistingSqliteDatabaseIsPingedAndItsMigrationsCounted) {
  const testing::TempDir dir;
  const auto migrated = run_evolveai(env_for(dir), "migrate up", dir.path());
  ASSERT_EQ(migrated.exit_code, 0) << migrated.output;
  const auto run = doctor(dir, "");
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(run.status("database"), "ok") << run.output;
  EXPECT_NE(run.detail("database").find("answers"), std::string::npos) << run.detail("database");
  EXPECT_EQ(run.status("migrations"), "ok") << run.output;
  EXPECT_NE(run.detail("migrations").find("applied"), std::string::npos) << run.detail("migrations");
  EXPECT_EQ(run.detail("migrations").find("pending"), std::string::npos) << run.detail("migrations");
}

TEST(CliDoctor, PendingMigrationsWarnWhenTheyAreNotAppliedOnStart) {
  const testing::TempDir dir;
  const auto run = doctor(dir, "EVOLVEAI_DATABASE__MIGRATE_ON_START=false");
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(run.status("migrations"), "warn") << run.output;
  EXPECT_NE(run.fix("migrations").find("evolveai migrate up"), std::string::npos) << run.output;
}

TEST(CliDoctor, AnUnreachableDatabaseFailsWithExitCodeOne) {
  const testing::TempDir dir;
  const auto port = testing::free_port();
  const auto run =
      doctor(dir, "EVOLVEAI_DATABASE__URL='postgresql://evolveai:hunter2-secret@127.0.0.1:" + std::to_string(port) +
                      "/evolveai'");
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_FALSE(run.ok);
  EXPECT_EQ(run.status("database"), "fail") << run.output;
  EXPECT_NE(run.fix("database").find("database.url"), std::string::npos) << run.output;
  EXPECT_EQ(run.status("migrations"), "warn") << "not checked without a connection: " << run.output;
  EXPECT_EQ(run.output.find("hunter2-secret"), std::string::npos) << "the password is never printed";
}

TEST(CliDoctor, ADatabaseUrlOfAnUnknownKindFails) {
  const testing::TempDir dir;
  const auto run = doctor(dir, "EVOLVEAI_DATABASE__URL='mysql://127.0.0.1/evolveai'");
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_EQ(run.status("database"), "fail") << run.output;
  EXPECT_NE(run.detail("database").find("sqlite://"), std::string::npos) << run.detail("database");
}

TEST(CliDoctor, ABadConfigurationFailsAndNamesTheKey) {
  const testing::TempDir dir;
  const auto run = doctor(dir, "EVOLVEAI_SERVER__PORT=70000");
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_EQ(run.status("config"), "fail") << run.output;
  EXPECT_NE(run.detail("config").find("server.port"), std::string::npos) << run.output;
  EXPECT_EQ(run.statuses.size(), 1U) << "nothing else is checked with an unusable configuration";
}

TEST(CliDoctor, AConfiguredGeminiModelIsLookedUpWithItsKey) {
  const testing::TempDir dir;
  testing::FakeGemini gemini;
  gemini.enqueue(FakeReply::json(200, R"({"name":"models/gemini-doctor","displayName":"Gemini for the doctor"})"));
  const std::string env =
      "EVOLVEAI_LLM__PROVIDER=gemini EVOLVEAI_LLM__MODEL=gemini-doctor "
      "EVOLVEAI_LLM__API_KEY=gemini-secret-key EVOLVEAI_LLM__BASE_URL=" +
      gemini.base_url();
  const auto run = doctor(dir, env);
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(run.status("model"), "ok") << run.output;
  const auto requests = gemini.requests();
  ASSERT_EQ(requests.size(), 1U);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[0].path, "/v1beta/models/gemini-doctor");
  EXPECT_EQ(requests[0].header("x-goog-api-key"), "gemini-secret-key");
  EXPECT_EQ(run.output.find("gemini-secret-key"), std::string::npos) << "the key is never printed";
}

TEST(CliDoctor, AModelTheProviderDoesNotKnowFails) {
  const testing::TempDir dir;
  testing::FakeGemini gemini;  // unscripted lookups answer 404 NOT_FOUND
  const auto run = doctor(dir,
                          "EVOLVEAI_LLM__PROVIDER=gemini EVOLVEAI_LLM__MODEL=no-such-model "
                          "EVOLVEAI_LLM__API_KEY=k EVOLVEAI_LLM__BASE_URL=" +
                              gemini.base_url());
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_EQ(run.status("model"), "fail") << run.output;
  EXPECT_NE(run.fix("model").find("llm.model"), std::string::npos) << run.output;
}

TEST(CliDoctor, AnOpenAiCompatibleProviderMustListTheModel) {
  const testing::TempDir dir;
  testing::FakeUpstream openai;
  openai.set_responder([](const testing::RecordedRequest&) {
    return FakeReply::json(200, R"({"object":"list","data":[{"id":"llama3","object":"model"},{"id":"qwen2"}]})");
  });
  const std::string env =
      "EVOLVEAI_LLM__PROVIDER=openai EVOLVEAI_LLM__API_KEY=sk-doctor EVOLVEAI_LLM__BASE_URL=" + openai.origin() +
      "/v1 EVOLVEAI_LLM__MODEL=";
  auto run = doctor(dir, env + "llama3");
  EXPECT_EQ(run.status("model"), "ok") << run.output;
  ASSERT_GE(openai.request_count(), 1U);
  EXPECT_EQ(openai.requests()[0].path, "/v1/models");
  EXPECT_EQ(openai.requests()[0].header("authorization"), "Bearer sk-doctor");

  run = doctor(dir, env + "mistral");
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(run.status("model"), "warn") << run.output;
  EXPECT_NE(run.fix("model").find("llama3, qwen2"), std::string::npos) << run.output;
}

TEST(CliDoctor, ATelegramTokenThatGetMeAcceptsIsOk) {
  const testing::TempDir dir;
  testing::FakeUpstream telegram;
  telegram.enqueue(FakeReply::json(
      200, R"({"ok":true,"result":{"id":4242,"is_bot":true,"first_name":"Evolve","username":"evolve_doctor_bot"}})"));
  const auto run =
      doctor(dir, "EVOLVEAI_TELEGRAM__BOT_TOKEN=4242:doctor-secret-token EVOLVEAI_TELEGRAM__API_BASE_URL=" +
                      telegram.origin());
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(run.status("telegram"), "ok") << run.output;
  EXPECT_NE(run.detail("telegram").find("@evolve_doctor_bot"), std::string::npos) << run.output;
  ASSERT_EQ(telegram.request_count(), 1U);
  EXPECT_EQ(telegram.requests()[0].path, "/bot4242:doctor-secret-token/getMe");
  EXPECT_EQ(run.output.find("doctor-secret-token"), std::string::npos) << "the token is never printed";
}

TEST(CliDoctor, ATelegramTokenThatGetMeRefusesFails) {
  const testing::TempDir dir;
  testing::FakeUpstream telegram;
  telegram.enqueue(FakeReply::json(401, R"({"ok":false,"error_code":401,"description":"Unauthorized"})"));
  const auto run =
      doctor(dir, "EVOLVEAI_TELEGRAM__BOT_TOKEN=4242:revoked-secret-token EVOLVEAI_TELEGRAM__API_BASE_URL=" +
                      telegram.origin());
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_EQ(run.status("telegram"), "fail") << run.output;
  EXPECT_NE(run.detail("telegram").find("Unauthorized"), std::string::npos) << run.output;
  EXPECT_NE(run.fix("telegram").find("telegram.bot_token"), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find("revoked-secret-token"), std::string::npos) << "the token is never printed";
}

TEST(CliDoctor, TheCloudTtsEngineSpeaksWhenConfigured) {
  const testing::TempDir dir;
  testing::FakeGoogleTts google("doctor-tts-key");
  const std::string env =
      "EVOLVEAI_TTS__ENGINE=google EVOLVEAI_TTS__BASE_URL=" + google.base_url() + " EVOLVEAI_TTS__API_KEY=";
  auto run = doctor(dir, env + "doctor-tts-key");
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(run.status("tts"), "ok") << run.output;
  EXPECT_EQ(run.status("tts_cloud"), "ok") << run.output;
  EXPECT_EQ(google.audio_replies(), 1U);

  run = doctor(dir, env + "wrong-key");
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_EQ(run.status("tts_cloud"), "fail") << run.output;
  EXPECT_EQ(run.output.find("wrong-key"), std::string::npos) << "the key is never printed";
}

TEST(CliDoctor, ConfiguredRedisAnswersPingAndAnUnreachableOneFails) {
  if (auto reason = testing::redis_server_unavailable_reason()) {
    if (testing::services_required()) {
      FAIL() << *reason;
    }
    GTEST_SKIP() << *reason;
  }
  const testing::TempDir dir;
  testing::RedisProcess redis;
  auto run = doctor(dir, "EVOLVEAI_REDIS__URL=" + redis.url(3));
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(run.status("redis"), "ok") << run.output;
  EXPECT_NE(run.detail("redis").find("PONG"), std::string::npos) << run.output;

  redis.kill();
  run = doctor(dir, "EVOLVEAI_REDIS__URL=" + redis.url(3));
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_EQ(run.status("redis"), "fail") << run.output;
  EXPECT_NE(run.fix("redis").find("redis.url"), std::string::npos) << run.output;
}

/// A database of its own on the test PostgreSQL server, dropped again at the end.
class ScratchPgDatabase {
 public:
  explicit ScratchPgDatabase(const std::string& server_url) {
    const auto slash = server_url.rfind('/');
    name_ = "evolveai_doctor_" + std::to_string(::getpid());
    url_ = server_url.substr(0, slash + 1) + name_;
    admin_url_ = server_url;
    exec("DROP DATABASE IF EXISTS " + name_);
    exec("CREATE DATABASE " + name_);
  }
  ~ScratchPgDatabase() { exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)"); }
  ScratchPgDatabase(const ScratchPgDatabase&) = delete;
  ScratchPgDatabase& operator=(const ScratchPgDatabase&) = delete;

  [[nodiscard]] const std::string& url() const { return url_; }

 private:
  void exec(const std::string& sql) const {
    const std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(admin_url_.c_str()), &PQfinish);
    ASSERT_EQ(PQstatus(conn.get()), CONNECTION_OK) << PQerrorMessage(conn.get());
    const std::unique_ptr<PGresult, decltype(&PQclear)> result(PQexec(conn.get(), sql.c_str()), &PQclear);
    ASSERT_EQ(PQresultStatus(result.get()), PGRES_COMMAND_OK) << PQerrorMessage(conn.get());
  }

  std::string name_;
  std::string url_;
  std::string admin_url_;
};

TEST(CliDoctor, PostgresIsPingedAndItsMigrationsAndSizeRead) {
  if (auto reason = testing::postgres_unavailable_reason()) {
    if (testing::postgres_required()) {
      FAIL() << *reason;
    }
    GTEST_SKIP() << *reason;
  }
  const char* server_url = std::getenv("EVOLVEAI_TEST_PG_URL");  // NOLINT(concurrency-mt-unsafe): read-only
  ASSERT_NE(server_url, nullptr);
  const ScratchPgDatabase database(server_url);
  const testing::TempDir dir;
  const auto env = "EVOLVEAI_DATABASE__URL='" + database.url() + "'";
  auto run = doctor(dir, env);
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(run.status("database"), "ok") << run.output;
  EXPECT_NE(run.detail("database").find("postgres"), std::string::npos) << run.output;
  EXPECT_EQ(run.status("migrations"), "ok") << run.output;
  EXPECT_NE(run.detail("migrations").find("pending"), std::string::npos) << run.output;
  EXPECT_EQ(run.status("disk"), "ok") << run.output;

  const auto migrated = run_evolveai(env_for(dir, env), "migrate up", dir.path());
  ASSERT_EQ(migrated.exit_code, 0) << migrated.output;
  run = doctor(dir, env);
  EXPECT_EQ(run.status("migrations"), "ok") << run.output;
  EXPECT_EQ(run.detail("migrations").find("pending"), std::string::npos) << run.output;
}

}  // namespace
}  // namespace evolveai
