#include "support/store_test_env.hpp"

#include <sqlite3.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>

#include "storage/postgres/pg_store.hpp"
#include "storage/sqlite/sqlite_store.hpp"

namespace evolveai::testing {

TestClock::TestClock(storage::Time start)
    : micros_(std::chrono::duration_cast<std::chrono::microseconds>(start.time_since_epoch()).count()) {}

storage::Time TestClock::now() const {
  return storage::Time(std::chrono::duration_cast<storage::Time::duration>(std::chrono::microseconds(micros_.load())));
}

void TestClock::advance(std::chrono::microseconds by) {
  micros_ += by.count();
}

void TestClock::set(storage::Time t) {
  micros_ = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

storage::Clock TestClock::as_clock() {
  return [this] { return now(); };
}

std::string engine_name(Engine engine) {
  return engine == Engine::kSqlite ? "sqlite" : "postgres";
}

void StatementLog::record(std::string_view name) {
  std::lock_guard lock(mutex_);
  auto it = counts_.find(name);
  if (it == counts_.end())
    it = counts_.emplace(std::string(name), 0).first;
  ++it->second;
}

std::size_t StatementLog::count(std::string_view name) const {
  std::lock_guard lock(mutex_);
  auto it = counts_.find(name);
  return it == counts_.end() ? 0 : it->second;
}

std::optional<std::string> postgres_unavailable_reason() {
  const char* url = std::getenv("EVOLVEAI_TEST_PG_URL");  // NOLINT(concurrency-mt-unsafe): set before the test runs
  if (url == nullptr || *url == '\0') {
    return "EVOLVEAI_TEST_PG_URL is not set; run the tests under scripts/with-test-services to get a PostgreSQL "
           "15 server";
  }
  return std::nullopt;
}

bool postgres_required() {
  const char* v = std::getenv("EVOLVEAI_REQUIRE_PG");  // NOLINT(concurrency-mt-unsafe): set before the test runs
  return v != nullptr && std::string_view(v) == "1";
}

namespace {

/// Runs SQL text on the test server over a fresh connection of the engine's own client.
Task<void> pg_exec_task(boost::asio::any_io_executor executor, std::string url, std::string sql) {
  storage::postgres::ConnectSettings settings;
  settings.url = std::move(url);
  auto connection = co_await storage::postgres::Connection::connect(executor, settings);
  co_await connection->exec_simple("test.setup", sql);
}

std::atomic<int> schema_counter{0};

std::filesystem::path make_temp_dir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "evolveai-store-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr)
    throw std::runtime_error("mkdtemp failed");
  return pattern;
}

}  // namespace

StoreHarness::StoreHarness(Engine engine, std::size_t io_threads, bool migrate)
    : engine_(engine),
      clock_(storage::Time(std::chrono::sys_days(std::chrono::year(2024) / 5 / 10)) + std::chrono::hours(12)),
      work_(io_.get_executor()) {
  for (std::size_t i = 0; i < io_threads; ++i)
    threads_.emplace_back([this] { io_.run(); });
  try {
    if (engine_ == Engine::kSqlite) {
      temp_dir_ = make_temp_dir();
    } else {
      pg_url_ = std::getenv("EVOLVEAI_TEST_PG_URL");  // NOLINT(concurrency-mt-unsafe): set before the test runs
      pg_schema_ = "t_" + std::to_string(::getpid()) + "_" + std::to_string(schema_counter++);
      pg_exec("DROP SCHEMA IF EXISTS " + pg_schema_ + " CASCADE; CREATE SCHEMA " + pg_schema_);
    }
    store_ = make_store();
    if (migrate)
      run(store_->migrate_up());
  } catch (...) {
    store_.reset();
    if (!pg_schema_.empty()) {
      try {
        pg_exec("DROP SCHEMA IF EXISTS " + pg_schema_ + " CASCADE");
      } catch (const std::exception&) {  // the original failure matters more
      }
    }
    work_.reset();
    io_.stop();
    for (auto& t : threads_)
      t.join();
    if (!temp_dir_.empty())
      std::filesystem::remove_all(temp_dir_);
    throw;
  }
}

StoreHarness::~StoreHarness() {
  store_.reset();
  if (!pg_schema_.empty()) {
    try {
      pg_exec("DROP SCHEMA IF EXISTS " + pg_schema_ + " CASCADE");
    } catch (const std::exception&) {  // a leftover schema in a throwaway cluster is harmless
    }
  }
  work_.reset();
  for (auto& t : threads_)
    t.join();
  blocking_.stop();
  if (!temp_dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(temp_dir_, ec);
  }
}

std::unique_ptr<storage::Store> StoreHarness::make_store() {
  storage::StoreObserver observer;
  observer.on_statement = [this](std::string_view name, std::chrono::nanoseconds, bool) { statements_.record(name); };
  if (engine_ == Engine::kSqlite) {
    storage::sqlite::SqliteStoreOptions options;
    options.path = sqlite_path();
    options.readers = 3;
    options.clock = clock_.as_clock();
    options.observer = observer;
    return std::make_unique<storage::sqlite::SqliteStore>(std::move(options), blocking_);
  }
  storage::postgres::PgStoreOptions options;
  options.url = pg_url_;
  options.pool.size = 6;
  options.session_settings = {{"search_path", pg_schema_}};
  options.clock = clock_.as_clock();
  options.observer = observer;
  return std::make_unique<storage::postgres::PgStore>(std::move(options), io_.get_executor());
}

std::unique_ptr<storage::Store> StoreHarness::open_another() {
  return make_store();
}

void StoreHarness::execute_raw(const std::string& sql) {
  if (engine_ == Engine::kSqlite) {
    sqlite3* db = nullptr;
    const auto path = sqlite_path().string();
    if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
      sqlite3_close(db);
      throw std::runtime_error("cannot open " + path);
    }
    sqlite3_busy_timeout(db, 5000);
    char* error = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
    std::string message = error ? error : "";
    sqlite3_free(error);
    sqlite3_close(db);
    if (rc != SQLITE_OK)
      throw std::runtime_error("execute_raw: " + message);
    return;
  }
  pg_exec("SET search_path TO " + pg_schema_ + "; " + sql);
}

void StoreHarness::pg_exec(const std::string& sql) {
  run(pg_exec_task(io_.get_executor(), pg_url_, sql));
}

}  // namespace evolveai::testing
