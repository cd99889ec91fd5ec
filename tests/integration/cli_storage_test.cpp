// `evolveai migrate …` and `evolveai backup …` run as the operator runs them: the real
// binary, configured by environment, against SQLite and PostgreSQL.
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <atomic>
#include <fstream>
#include <regex>
#include <thread>

#include "net/blocking_pool.hpp"
#include "storage/backup.hpp"
#include "storage/migrations.hpp"
#include "storage/open_store.hpp"
#include "support/run_command.hpp"
#include "support/store_test_env.hpp"
#include "support/test_app.hpp"

namespace evolveai {
namespace {

using testing::run_evolveai;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// A store on a URL with its own I/O threads, to put data in before a backup.
class LiveStore {
 public:
  explicit LiveStore(const std::string& url) : work_(io_.get_executor()), thread_([this] { io_.run(); }) {
    storage::StoreSettings settings;
    settings.url = url;
    settings.pool_size = 2;
    store_ = storage::open_store(std::move(settings), blocking_, io_.get_executor());
  }
  ~LiveStore() {
    store_.reset();
    work_.reset();
    thread_.join();
  }
  LiveStore(const LiveStore&) = delete;
  LiveStore& operator=(const LiveStore&) = delete;

  template <typename T>
  T run(Task<T> task) {
    return boost::asio::co_spawn(io_, std::move(task), boost::asio::use_future).get();
  }
  /// A user with `count` messages.
  void seed(int count) {
    const auto user = run(store_->upsert_user(storage::TelegramIdentity{7, "Ann", {}, {}, {}}));
    for (int i = 0; i < count; ++i) {
      storage::NewMessage m;
      m.user_id = user.id;
      m.content = "message " + std::to_string(i);
      run(store_->insert_message(m));
    }
  }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread thread_;
  net::BlockingPool blocking_{2};
  std::unique_ptr<storage::Store> store_;
};

/// The backup file name a command printed.
std::string backup_name_in(const std::string& output) {
  std::smatch match;
  const std::regex name_pattern(R"(evolveai-(sqlite|postgres)-\d{8}T\d{6}\.\d{3}Z\.(db|dump))");
  return std::regex_search(output, match, name_pattern) ? match.str(0) : std::string();
}

TEST(CliStorage, MigrateStatusShowsPendingThenAppliedWithChecksums) {
  testing::TempDir dir;
  const std::string env = "EVOLVEAI_SERVER__DATA_DIR=" + (dir.path() / "data").string();
  const auto checksum = storage::migrations_for("sqlite").front().checksum;

  auto result = run_evolveai(env, "migrate status", dir.path());
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_TRUE(contains(result.output, "CHECKSUM")) << result.output;
  EXPECT_TRUE(contains(result.output, "APPLIED_AT"));
  EXPECT_TRUE(std::regex_search(result.output, std::regex("0001 +0001_initial.sql +pending +" + checksum + " +-")))
      << result.output;

  result = run_evolveai(env, "migrate up", dir.path());
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_TRUE(contains(result.output, "applied 0001_initial.sql")) << result.output;
  result = run_evolveai(env, "migrate up", dir.path());
  EXPECT_TRUE(contains(result.output, "up to date")) << result.output;

  result = run_evolveai(env, "migrate status", dir.path());
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_TRUE(std::regex_search(
      result.output, std::regex("0001 +0001_initial.sql +applied +" + checksum + R"( +\d{4}-\d\d-\d\dT[0-9:.]+Z)")))
      << result.output;
  EXPECT_TRUE(contains(result.output, "0 pending"));

  // An applied migration whose recorded checksum differs: status says so and fails; up refuses.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir.path() / "data" / "evolveai.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE schema_migrations SET checksum = 'tampered'", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  result = run_evolveai(env, "migrate status", dir.path());
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_TRUE(contains(result.output, "changed")) << result.output;
  result = run_evolveai(env, "migrate up", dir.path());
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_TRUE(contains(result.output, "0001_initial.sql")) << result.output;
}

TEST(CliStorage, SqliteBackupCreateListVerifyRestore) {
  testing::TempDir dir;
  const auto data = dir.path() / "data";
  const std::string env = "EVOLVEAI_SERVER__DATA_DIR=" + data.string();
  ASSERT_EQ(run_evolveai(env, "migrate up", dir.path()).exit_code, 0);
  {
    LiveStore live("sqlite://" + (data / "evolveai.db").string());
    live.seed(25);
  }

  auto result = run_evolveai(env, "backup create", dir.path());
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const auto name = backup_name_in(result.output);
  ASSERT_FALSE(name.empty()) << result.output;
  EXPECT_TRUE(std::filesystem::exists(data / "backups" / name)) << "backup.dir defaults to <data_dir>/backups";
  EXPECT_FALSE(contains(result.output, "\r")) << "no progress drawing without a terminal";
  EXPECT_FALSE(contains(result.output, "copying pages"));

  result = run_evolveai(env, "backup list", dir.path());
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_TRUE(
      std::regex_search(result.output, std::regex(name + R"( +[0-9.]+ (KiB|MiB|B) +\d{4}-\d\d-\d\dT[0-9:.]+Z +\d+)")))
      << result.output;

  result = run_evolveai(env, "backup verify " + name, dir.path());
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_TRUE(contains(result.output, "OK")) << result.output;
  EXPECT_TRUE(std::regex_search(result.output, std::regex(R"(messages +25 +25)"))) << result.output;

  // A manifest that disagrees with the backup: verify fails with exit code 3.
  const auto manifest_file = data / "backups" / (name + ".json");
  std::string manifest;
  {
    std::ifstream in(manifest_file);
    manifest.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  const auto original = manifest;
  manifest = std::regex_replace(manifest, std::regex(R"("messages":25)"), R"("messages":26)");
  ASSERT_NE(manifest, original);
  std::ofstream(manifest_file, std::ios::trunc) << manifest;
  result = run_evolveai(env, "backup verify latest", dir.path());
  EXPECT_EQ(result.exit_code, 3) << result.output;
  EXPECT_TRUE(contains(result.output, "FAILED")) << result.output;
  std::ofstream(manifest_file, std::ios::trunc) << original;

  // Restoring over a database with data needs --force.
  result = run_evolveai(env, "backup restore " + name, dir.path());
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_TRUE(contains(result.output, "--force")) << result.output;
  result = run_evolveai(env, "backup restore --force " + name, dir.path());
  EXPECT_EQ(result.exit_code, 0) << result.output;

  // Into a new, empty data directory, from the first one's backups.
  const std::string fresh_env = "EVOLVEAI_SERVER__DATA_DIR=" + (dir.path() / "fresh").string() +
                                " EVOLVEAI_BACKUP__DIR=" + (data / "backups").string();
  result = run_evolveai(fresh_env, "backup restore latest", dir.path());
  EXPECT_EQ(result.exit_code, 0) << result.output;
  result = run_evolveai(fresh_env, "migrate status", dir.path());
  EXPECT_TRUE(contains(result.output, "applied")) << result.output;

  result = run_evolveai(env, "backup verify no-such-backup", dir.path());
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_TRUE(contains(result.output, "backup list")) << result.output;
  result = run_evolveai(env, "backup prune", dir.path());
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_TRUE(std::filesystem::exists(data / "backups" / name)) << "a fresh backup survives pruning";
}

TEST(CliStorage, EveryStorageSubcommandHasHelp) {
  testing::TempDir dir;
  for (const std::string args :
       {"migrate --help", "migrate up --help", "migrate status --help", "backup --help", "backup create --help",
        "backup list --help", "backup verify --help", "backup restore --help", "backup prune --help"}) {
    const auto result = run_evolveai("", args, dir.path());
    EXPECT_EQ(result.exit_code, 0) << args;
    EXPECT_TRUE(contains(result.output, "Usage")) << args << ": " << result.output;
  }
}

/// Runs SQL on the test server.
void pg_admin(const std::string& url, const std::string& sql) {
  PGconn* conn = PQconnectdb(url.c_str());
  PGresult* result = PQexec(conn, sql.c_str());
  const bool ok = PQresultStatus(result) == PGRES_COMMAND_OK;
  const std::string error = PQerrorMessage(conn);
  PQclear(result);
  PQfinish(conn);
  if (!ok)
    throw std::runtime_error(error);
}

TEST(CliStorage, PostgresBackupNeverShowsThePassword) {
  if (auto reason = testing::postgres_unavailable_reason()) {
    if (testing::postgres_required())
      FAIL() << "EVOLVEAI_REQUIRE_PG=1 but " << *reason;
    GTEST_SKIP() << *reason;
  }
  static std::atomic<int> counter{0};
  const char* server = std::getenv("EVOLVEAI_TEST_PG_URL");  // NOLINT(concurrency-mt-unsafe): set before the test runs
  ASSERT_NE(server, nullptr);
  const std::string base = server;
  const std::string dbname = "cli_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
  pg_admin(base, "CREATE DATABASE " + dbname);
  // The test server trusts every local connection, so any password works; it must never
  // reach the output (nor pg_dump's command line, see PgTarget tests).
  std::string url = base.substr(0, base.rfind('/') + 1) + dbname;
  const std::string secret = "hunter2-very-secret";
  url.replace(url.find('@'), 1, ":" + secret + "@");

  testing::TempDir dir;
  const std::string env =
      "EVOLVEAI_SERVER__DATA_DIR=" + (dir.path() / "data").string() + " EVOLVEAI_DATABASE__URL='" + url + "'";
  std::string all_output;
  auto result = run_evolveai(env, "migrate up", dir.path());
  all_output += result.output;
  ASSERT_EQ(result.exit_code, 0) << result.output;
  {
    LiveStore live(url);
    live.seed(12);
  }
  result = run_evolveai(env, "backup create", dir.path());
  all_output += result.output;
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const auto name = backup_name_in(result.output);
  EXPECT_TRUE(name.ends_with(".dump")) << result.output;
  result = run_evolveai(env, "backup list", dir.path());
  all_output += result.output;
  EXPECT_TRUE(contains(result.output, name)) << result.output;
  result = run_evolveai(env, "backup verify latest", dir.path());
  all_output += result.output;
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_TRUE(std::regex_search(result.output, std::regex(R"(public\.messages +12 +12)"))) << result.output;
  result = run_evolveai(env, "backup restore latest", dir.path());
  all_output += result.output;
  EXPECT_EQ(result.exit_code, 1) << result.output;
  result = run_evolveai(env, "backup restore latest --force", dir.path());
  all_output += result.output;
  EXPECT_EQ(result.exit_code, 0) << result.output;
  result = run_evolveai(env, "migrate status", dir.path());
  all_output += result.output;
  EXPECT_TRUE(contains(result.output, "applied")) << result.output;
  EXPECT_FALSE(contains(all_output, secret)) << all_output;
  pg_admin(base, "DROP DATABASE IF EXISTS " + dbname + " WITH (FORCE)");
}

}  // namespace
}  // namespace evolveai
