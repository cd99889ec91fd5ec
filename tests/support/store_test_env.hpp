#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/task.hpp"
#include "net/blocking_pool.hpp"
#include "storage/store.hpp"
#include "storage/store_observer.hpp"

namespace evolveai::testing {

/// A clock that tests move by hand; thread-safe.
class TestClock {
 public:
  explicit TestClock(storage::Time start);
  /// The current test time.
  [[nodiscard]] storage::Time now() const;
  /// Moves time forward.
  void advance(std::chrono::microseconds by);
  /// Sets the time.
  void set(storage::Time t);
  /// A storage::Clock reading this clock; the TestClock must outlive it.
  [[nodiscard]] storage::Clock as_clock();

 private:
  std::atomic<std::int64_t> micros_;
};

/// Which Store implementation a test runs against.
enum class Engine { kSqlite, kPostgres };

/// "sqlite" / "postgres", for test names.
[[nodiscard]] std::string engine_name(Engine engine);

/// Counts the statements a store reported to its observer, by name.
class StatementLog {
 public:
  /// Records one statement.
  void record(std::string_view name);
  /// How often `name` was reported.
  [[nodiscard]] std::size_t count(std::string_view name) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::size_t, std::less<>> counts_;
};

/// Why the PostgreSQL engine cannot be tested here, or nullopt when it can:
/// EVOLVEAI_TEST_PG_URL names the server.
[[nodiscard]] std::optional<std::string> postgres_unavailable_reason();
/// True when EVOLVEAI_REQUIRE_PG=1: a missing server is then a failure, not a skip.
[[nodiscard]] bool postgres_required();

/// One engine over its own empty database (a temp dir for SQLite, a fresh schema on the
/// test server for PostgreSQL), migrated, with I/O threads to drive it and a test clock.
class StoreHarness {
 public:
  /// Builds the engine (migrated unless `migrate` is false); throws when it cannot (e.g.
  /// the server is unreachable).
  explicit StoreHarness(Engine engine, std::size_t io_threads = 2, bool migrate = true);
  StoreHarness(const StoreHarness&) = delete;
  StoreHarness& operator=(const StoreHarness&) = delete;
  ~StoreHarness();

  [[nodiscard]] storage::Store& store() { return *store_; }
  [[nodiscard]] TestClock& clock() { return clock_; }
  [[nodiscard]] StatementLog& statements() { return statements_; }
  [[nodiscard]] Engine engine() const { return engine_; }
  [[nodiscard]] boost::asio::io_context& io() { return io_; }

  /// Runs `task` on the I/O threads and waits for its result (or exception).
  template <typename T>
  T run(Task<T> task) {
    return boost::asio::co_spawn(io_, std::move(task), boost::asio::use_future).get();
  }

  /// Runs SQL text directly against the test database (test setup, tampering).
  void execute_raw(const std::string& sql);

  /// The SQLite file (SQLite only).
  [[nodiscard]] std::filesystem::path sqlite_path() const { return temp_dir_ / "evolveai.db"; }
  /// The PostgreSQL URL and schema (PostgreSQL only).
  [[nodiscard]] const std::string& pg_url() const { return pg_url_; }
  [[nodiscard]] const std::string& pg_schema() const { return pg_schema_; }

  /// Builds a second store on the same database (another "node").
  [[nodiscard]] std::unique_ptr<storage::Store> open_another();

 private:
  std::unique_ptr<storage::Store> make_store();
  void pg_exec(const std::string& sql);

  Engine engine_;
  TestClock clock_;
  StatementLog statements_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::vector<std::thread> threads_;
  net::BlockingPool blocking_{4};
  std::filesystem::path temp_dir_;
  std::string pg_url_;
  std::string pg_schema_;
  std::unique_ptr<storage::Store> store_;
};

}  // namespace evolveai::testing
