// One chat turn's reads (Store::load_turn_context: user, memory, recent messages, relevant
// older ones): wall time on both engines, and server round trips on PostgreSQL (target: 1).
// PostgreSQL comes from EVOLVEAI_BENCH_PG_URL, else EVOLVEAI_TEST_PG_URL (as set by
// scripts/with-test-services); without either that benchmark is skipped.
#include <benchmark/benchmark.h>
#include <stdlib.h>  // mkdtemp
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "net/blocking_pool.hpp"
#include "storage/postgres/pg_connection.hpp"
#include "storage/postgres/pg_store.hpp"
#include "storage/sqlite/sqlite_store.hpp"
#include "storage/store.hpp"

namespace {

namespace asio = boost::asio;
using evolveai::Task;
namespace storage = evolveai::storage;

constexpr std::size_t kRecent = 20;
constexpr std::size_t kRelevant = 5;
constexpr int kHistory = 300;
constexpr std::string_view kNewMessage = "tell me more about the jazz saxophone records we talked about";

/// I/O threads and a blocking pool for one store, run until destroyed.
class Runtime {
 public:
  Runtime() : work_(io_.get_executor()), thread_([this] { io_.run(); }) {}
  ~Runtime() {
    work_.reset();
    thread_.join();
  }
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  template <typename T>
  T run(Task<T> task) {
    return asio::co_spawn(io_, std::move(task), asio::use_future).get();
  }
  asio::io_context& io() { return io_; }
  evolveai::net::BlockingPool& blocking() { return blocking_; }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;
  evolveai::net::BlockingPool blocking_{4};
};

/// A user with a history whose words overlap the new message's, and a memory.
storage::UserId seed(Runtime& rt, storage::Store& store) {
  const auto user = rt.run(store.upsert_user(storage::TelegramIdentity{1001, "Ann", {}, {}, {}}));
  static constexpr std::array<std::string_view, 6> kTopics = {
      "jazz records from the fifties", "my saxophone lessons",    "the weather in Lisbon",
      "a book about whales",           "cooking risotto tonight", "the jazz club downtown"};
  for (int i = 0; i < kHistory; ++i) {
    storage::NewMessage m;
    m.user_id = user.id;
    m.role = i % 2 == 0 ? storage::Role::kUser : storage::Role::kAssistant;
    m.content =
        "message " + std::to_string(i) + " about " + std::string(kTopics[static_cast<std::size_t>(i) % kTopics.size()]);
    rt.run(store.insert_message(m));
  }
  const storage::MemoryWrite memory{user.id,
                                    0,
                                    "Ann likes jazz and is learning the saxophone.",
                                    {{"f1", "plays the saxophone", false}, {"f2", "lives in Lisbon", true}},
                                    100};
  rt.run(store.write_memory(memory));
  return user.id;
}

std::optional<std::string> postgres_url() {
  for (const char* name : {"EVOLVEAI_BENCH_PG_URL", "EVOLVEAI_TEST_PG_URL"}) {
    // NOLINTNEXTLINE(concurrency-mt-unsafe): read before any thread is started
    if (const char* url = std::getenv(name); url != nullptr && *url != '\0')
      return std::string(url);
  }
  return std::nullopt;
}

Task<void> pg_exec(asio::any_io_executor executor, std::string url, std::string sql) {
  storage::postgres::ConnectSettings settings;
  settings.url = std::move(url);
  auto connection = co_await storage::postgres::Connection::connect(executor, settings);
  co_await connection->exec_simple("bench.setup", sql);
}

void turn_context_postgres(benchmark::State& state) {
  const auto url = postgres_url();
  if (!url) {
    state.SkipWithError("set EVOLVEAI_BENCH_PG_URL (or run under scripts/with-test-services)");
    return;
  }
  Runtime rt;
  const std::string schema = "bench_" + std::to_string(::getpid());
  const std::string reset_schema = "DROP SCHEMA IF EXISTS " + schema + " CASCADE; CREATE SCHEMA " + schema;
  rt.run(pg_exec(rt.io().get_executor(), *url, reset_schema));
  {
    storage::postgres::PgStoreOptions options;
    options.url = *url;
    options.pool.size = 2;
    options.session_settings = {{"search_path", schema}};
    storage::postgres::PgStore store(std::move(options), rt.io().get_executor());
    rt.run(store.migrate_up());
    const auto user_id = seed(rt, store);
    rt.run(store.load_turn_context(user_id, kRecent, kNewMessage, kRelevant));  // warm: connected and prepared

    std::size_t relevant = 0;
    const auto before = store.round_trips();
    while (state.KeepRunning()) {
      const auto context = rt.run(store.load_turn_context(user_id, kRecent, kNewMessage, kRelevant));
      relevant = context.relevant.size();
      benchmark::DoNotOptimize(context);
    }
    const auto trips = static_cast<double>(store.round_trips() - before);
    state.counters["round_trips"] = benchmark::Counter(trips, benchmark::Counter::kAvgIterations);
    state.counters["recent"] = static_cast<double>(kRecent);
    state.counters["relevant"] = static_cast<double>(relevant);
  }
  const std::string drop_schema = "DROP SCHEMA IF EXISTS " + schema + " CASCADE";
  rt.run(pg_exec(rt.io().get_executor(), *url, drop_schema));
}
BENCHMARK(turn_context_postgres)->UseRealTime()->Unit(benchmark::kMicrosecond);

void turn_context_sqlite(benchmark::State& state) {
  std::string pattern = (std::filesystem::temp_directory_path() / "evolveai-bench-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    state.SkipWithError("cannot create a temporary directory");
    return;
  }
  const std::filesystem::path dir(pattern);
  {
    Runtime rt;
    storage::sqlite::SqliteStoreOptions options;
    options.path = dir / "bench.db";
    storage::sqlite::SqliteStore store(std::move(options), rt.blocking());
    rt.run(store.migrate_up());
    const auto user_id = seed(rt, store);
    std::size_t relevant = 0;
    while (state.KeepRunning()) {
      const auto context = rt.run(store.load_turn_context(user_id, kRecent, kNewMessage, kRelevant));
      relevant = context.relevant.size();
      benchmark::DoNotOptimize(context);
    }
    state.counters["recent"] = static_cast<double>(kRecent);
    state.counters["relevant"] = static_cast<double>(relevant);
  }
  std::filesystem::remove_all(dir);
}
BENCHMARK(turn_context_sqlite)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace
