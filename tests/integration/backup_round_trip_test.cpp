// Backups on both engines against real databases: create while a writer keeps inserting,
// verify in a scratch database, restore into another database, refuse to overwrite data.
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <atomic>
#include <fstream>
#include <thread>

#include "net/blocking_pool.hpp"
#include "storage/backup.hpp"
#include "storage/open_store.hpp"
#include "storage/store.hpp"
#include "support/store_test_env.hpp"
#include "support/test_app.hpp"

namespace evolveai::storage {
namespace {

using namespace std::chrono_literals;
using testing::Engine;

/// Runs SQL on the test server; throws on failure.
void pg_admin(const std::string& url, const std::string& sql) {
  PGconn* conn = PQconnectdb(url.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    const std::string error = PQerrorMessage(conn);
    PQfinish(conn);
    throw std::runtime_error(error);
  }
  PGresult* result = PQexec(conn, sql.c_str());
  const bool ok = PQresultStatus(result) == PGRES_COMMAND_OK || PQresultStatus(result) == PGRES_TUPLES_OK;
  const std::string error = PQerrorMessage(conn);
  PQclear(result);
  PQfinish(conn);
  if (!ok)
    throw std::runtime_error(error);
}

/// `url` with its database name replaced.
std::string with_database(const std::string& url, const std::string& dbname) {
  return url.substr(0, url.rfind('/') + 1) + dbname;
}

/// An empty database of its own: a file in a temp dir, or a fresh database on the test server.
class TestDatabase {
 public:
  TestDatabase(Engine engine, const std::filesystem::path& dir) : engine_(engine) {
    static std::atomic<int> counter{0};
    if (engine_ == Engine::kSqlite) {
      url_ = "sqlite://" + (dir / ("db" + std::to_string(counter++) + ".db")).string();
    } else {
      base_url_ = std::getenv("EVOLVEAI_TEST_PG_URL");  // NOLINT(concurrency-mt-unsafe): set before the test runs
      name_ = "backup_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
      pg_admin(base_url_, "CREATE DATABASE " + name_);
      url_ = with_database(base_url_, name_);
    }
  }
  ~TestDatabase() {
    if (!name_.empty()) {
      try {
        pg_admin(base_url_, "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
      } catch (const std::exception&) {  // a leftover in a throwaway cluster is harmless
      }
    }
  }
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  [[nodiscard]] const std::string& url() const { return url_; }

 private:
  Engine engine_;
  std::string base_url_;
  std::string name_;
  std::string url_;
};

/// A store over a database URL with its own I/O threads.
class LiveStore {
 public:
  explicit LiveStore(const std::string& url) : work_(io_.get_executor()) {
    for (int i = 0; i < 2; ++i)
      threads_.emplace_back([this] { io_.run(); });
    StoreSettings settings;
    settings.url = url;
    settings.pool_size = 4;
    store_ = open_store(std::move(settings), blocking_, io_.get_executor());
  }
  ~LiveStore() {
    store_.reset();
    work_.reset();
    for (auto& t : threads_)
      t.join();
  }
  LiveStore(const LiveStore&) = delete;
  LiveStore& operator=(const LiveStore&) = delete;

  Store& store() { return *store_; }
  template <typename T>
  T run(Task<T> task) {
    return boost::asio::co_spawn(io_, std::move(task), boost::asio::use_future).get();
  }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::vector<std::thread> threads_;
  net::BlockingPool blocking_{4};
  std::unique_ptr<Store> store_;
};

/// The key of a table in the counts: PostgreSQL qualifies it with its schema.
std::string table_key(Engine engine, const std::string& table) {
  return engine == Engine::kPostgres ? "public." + table : table;
}

class BackupRoundTrip : public ::testing::TestWithParam<Engine> {
 protected:
  void SetUp() override {
    if (GetParam() == Engine::kPostgres) {
      if (auto reason = testing::postgres_unavailable_reason()) {
        if (testing::postgres_required())
          FAIL() << "EVOLVEAI_REQUIRE_PG=1 but " << *reason;
        GTEST_SKIP() << *reason;
      }
    }
    source_ = std::make_unique<TestDatabase>(GetParam(), dir_.path());
  }

  BackupSettings settings_for(const std::string& url) {
    BackupSettings settings;
    settings.database_url = url;
    settings.dir = dir_.path() / "backups";
    settings.sqlite_pages_per_step = 8;  // many small steps, so that writers interleave
    return settings;
  }

  /// A user with `count` messages of about 1 KB each.
  User seed(LiveStore& live, std::int64_t telegram_id, int count) {
    User user = live.run(live.store().upsert_user(TelegramIdentity{telegram_id, "Ann", {}, {}, {}}));
    const std::string filler(1000, 'x');
    for (int i = 0; i < count; ++i) {
      NewMessage m;
      m.user_id = user.id;
      m.content = "saxophone lesson " + std::to_string(i) + " " + filler;
      live.run(live.store().insert_message(m));
    }
    const MemoryWrite memory{user.id, 0, "likes jazz", {{"f1", "plays the saxophone", true}}, 1};
    live.run(live.store().write_memory(memory));
    return user;
  }

  testing::TempDir dir_;
  std::unique_ptr<TestDatabase> source_;
};

TEST_P(BackupRoundTrip, BackupRestoreVerifyWhileWritesContinue) {
  constexpr int kSeeded = 400;
  LiveStore live(source_->url());
  live.run(live.store().migrate_up());
  const User ann = seed(live, 1, kSeeded);
  const User writer_user = live.run(live.store().upsert_user(TelegramIdentity{2, "Bob", {}, {}, {}}));

  // A writer inserting messages for the whole backup.
  std::atomic<bool> stop_writing{false};
  std::atomic<int> written{0};
  std::thread writer([&] {
    while (!stop_writing) {
      NewMessage m;
      m.user_id = writer_user.id;
      m.content = "written during the backup " + std::to_string(written.load());
      live.run(live.store().insert_message(m));
      ++written;
    }
  });

  // During the first progress reports the backup waits until the writer has committed
  // more rows: writes provably happen while the backup is under way.
  int waits = 0;
  int progress_calls = 0;
  int written_during = 0;
  const auto progress = [&](const BackupProgress&) {
    ++progress_calls;
    if (waits >= 3)
      return;
    ++waits;
    const int before = written.load();
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (written.load() < before + 3 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(1ms);
    written_during += written.load() - before;
  };
  Backups backups(settings_for(source_->url()));
  const BackupInfo info = backups.create(progress);
  stop_writing = true;
  writer.join();

  // SQLite waits during three copy steps; PostgreSQL once its snapshot is taken (before
  // pg_dump reads it) and maybe while pg_dump runs.
  EXPECT_GE(written_during, GetParam() == Engine::kSqlite ? 9 : 3) << "the writer must write while the backup runs";
  EXPECT_GT(progress_calls, 1);
  EXPECT_EQ(info.dialect, engine_name(GetParam()));
  EXPECT_TRUE(std::filesystem::exists(info.path));
  EXPECT_TRUE(std::filesystem::exists(info.path.string() + ".json"));
  ASSERT_TRUE(info.tables.contains(table_key(GetParam(), "messages")));
  const auto backed_up_messages = info.tables.at(table_key(GetParam(), "messages"));
  const auto live_messages =
      live.run(live.store().count_messages(ann.id)) + live.run(live.store().count_messages(writer_user.id));
  EXPECT_GE(backed_up_messages, kSeeded);
  EXPECT_LT(backed_up_messages, live_messages) << "rows written after the snapshot are not in the backup";
  EXPECT_EQ(info.tables.at(table_key(GetParam(), "users")), 2);

  // The listing shows it; verify restores it into a scratch database and compares counts.
  const auto listed = backups.list();
  ASSERT_EQ(listed.size(), 1U);
  EXPECT_EQ(listed[0].name, info.name);
  EXPECT_EQ(listed[0].bytes, info.bytes);
  EXPECT_TRUE(listed[0].has_manifest);
  const VerifyReport report = backups.verify(info.name);
  EXPECT_TRUE(report.ok()) << report.problem;
  EXPECT_TRUE(report.checksum_ok);
  EXPECT_EQ(report.restored, info.tables);

  // Restore into another, empty database: every row of the snapshot is there and usable.
  TestDatabase target(GetParam(), dir_.path());
  Backups into_target(settings_for(target.url()));
  const RestoreReport restored = into_target.restore(info.name, false);
  EXPECT_TRUE(restored.mismatches.empty());
  EXPECT_EQ(restored.restored, info.tables);
  {
    LiveStore copy(target.url());
    const auto status = copy.run(copy.store().migration_status());
    ASSERT_FALSE(status.empty());
    for (const auto& m : status)
      EXPECT_EQ(m.state, MigrationState::kApplied) << m.name;
    EXPECT_EQ(copy.run(copy.store().count_messages(ann.id)), kSeeded);
    const auto memory = copy.run(copy.store().get_memory(ann.id));
    EXPECT_EQ(memory.summary, "likes jazz");
    EXPECT_EQ(memory.facts, (std::vector<Fact>{{"f1", "plays the saxophone", true}}));
    const auto hits = copy.run(copy.store().search_messages(ann.id, "saxophone", 5));
    EXPECT_EQ(hits.size(), 5U) << "the search index is restored too";
    // The restored database takes writes (sequences / autoincrement continue).
    NewMessage m;
    m.user_id = ann.id;
    m.content = "after the restore";
    EXPECT_TRUE(copy.run(copy.store().insert_message(m)).created);
  }

  // Now the target holds data: a second restore is refused unless forced.
  try {
    into_target.restore(info.name, false);
    ADD_FAILURE() << "restoring over data must be refused without force";
  } catch (const BackupError& error) {
    EXPECT_NE(std::string(error.what()).find("--force"), std::string::npos) << error.what();
  }
  const RestoreReport forced = into_target.restore("latest", true);
  EXPECT_TRUE(forced.mismatches.empty());
  EXPECT_EQ(forced.restored, info.tables);
}

TEST_P(BackupRoundTrip, VerifyFailsWhenCountsOrBytesDiffer) {
  LiveStore live(source_->url());
  live.run(live.store().migrate_up());
  seed(live, 1, 20);
  Backups backups(settings_for(source_->url()));
  const BackupInfo info = backups.create();
  ASSERT_TRUE(backups.verify(info.name).ok());

  // A manifest recording one more message than the backup holds.
  const auto manifest_file = info.path.string() + ".json";
  BackupInfo tampered = info;
  tampered.tables[table_key(GetParam(), "messages")] += 1;
  std::ofstream(manifest_file, std::ios::trunc) << manifest_to_json(tampered);
  VerifyReport report = backups.verify(info.name);
  EXPECT_FALSE(report.ok());
  EXPECT_TRUE(report.checksum_ok);
  ASSERT_EQ(report.mismatches.size(), 1U);
  EXPECT_EQ(report.mismatches[0].table, table_key(GetParam(), "messages"));
  EXPECT_EQ(report.mismatches[0].recorded, 21);
  EXPECT_EQ(report.mismatches[0].restored, 20);

  // A damaged file fails on its checksum, and is never restored.
  std::ofstream(manifest_file, std::ios::trunc) << manifest_to_json(info);
  {
    std::fstream file(info.path, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(static_cast<std::streamoff>(info.bytes / 2));
    file.put('\x5a');
    file.put('\xa5');
  }
  report = backups.verify(info.name);
  EXPECT_FALSE(report.ok());
  EXPECT_FALSE(report.checksum_ok);
  TestDatabase target(GetParam(), dir_.path());
  Backups into_target(settings_for(target.url()));
  EXPECT_THROW(into_target.restore(info.name, true), BackupError);
}

TEST_P(BackupRoundTrip, RestoreRefusesABackupOfTheOtherEngine) {
  LiveStore live(source_->url());
  live.run(live.store().migrate_up());
  Backups backups(settings_for(source_->url()));
  const BackupInfo info = backups.create();
  const auto other_dialect = GetParam() == Engine::kSqlite ? "postgres" : "sqlite";
  const auto other_ext = GetParam() == Engine::kSqlite ? ".dump" : ".db";
  const auto other_name = backup_file_name(other_dialect, info.created_at, other_ext);
  std::filesystem::copy_file(info.path, info.path.parent_path() / other_name);
  EXPECT_THROW(backups.restore(other_name, true), BackupError);
  EXPECT_THROW(backups.verify(other_name), BackupError);
}

INSTANTIATE_TEST_SUITE_P(Engines, BackupRoundTrip, ::testing::Values(Engine::kSqlite, Engine::kPostgres),
                         [](const auto& param_info) { return testing::engine_name(param_info.param); });

}  // namespace
}  // namespace evolveai::storage
