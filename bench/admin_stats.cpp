// The operators' statistics (GET /api/v1/admin/stats) over a seeded PostgreSQL database of
// 1,000,000 messages spread over 90 days (10,000 users, 500,000 model calls, 5,000 payments).
// Reports the time of one stats(90) call as the API makes it (finished days from the daily
// rollup, today live), and as counters the first call (which fills the rollup from the live
// tables) and a purely live aggregate over all 90 days. Target: under 200 ms per call.
// PostgreSQL comes from EVOLVEAI_BENCH_PG_URL, else EVOLVEAI_TEST_PG_URL (as set by
// scripts/with-test-services); without either the benchmark is skipped.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <chrono>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>

#include "cache/local_cache.hpp"
#include "obs/logger.hpp"
#include "obs/metrics.hpp"
#include "services/admin_service.hpp"
#include "services/feature_flags.hpp"
#include "storage/postgres/pg_connection.hpp"
#include "storage/postgres/pg_store.hpp"

namespace {

namespace asio = boost::asio;
using evolveai::Task;
namespace storage = evolveai::storage;
namespace services = evolveai::services;

/// I/O thread for one store, run until destroyed.
class StatsRuntime {
 public:
  StatsRuntime() : work_(io_.get_executor()), thread_([this] { io_.run(); }) {}
  ~StatsRuntime() {
    work_.reset();
    thread_.join();
  }
  StatsRuntime(const StatsRuntime&) = delete;
  StatsRuntime& operator=(const StatsRuntime&) = delete;

  template <typename T>
  T run(Task<T> task) {
    return asio::co_spawn(io_, std::move(task), asio::use_future).get();
  }
  asio::io_context& io() { return io_; }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;
};

std::optional<std::string> stats_postgres_url() {
  for (const char* name : {"EVOLVEAI_BENCH_PG_URL", "EVOLVEAI_TEST_PG_URL"}) {
    // NOLINTNEXTLINE(concurrency-mt-unsafe): read before any thread is started
    if (const char* url = std::getenv(name); url != nullptr && *url != '\0')
      return std::string(url);
  }
  return std::nullopt;
}

Task<void> stats_pg_exec(asio::any_io_executor executor, std::string url, std::string sql) {
  storage::postgres::ConnectSettings settings;
  settings.url = std::move(url);
  settings.statement_timeout = std::chrono::milliseconds(0);  // none
  auto connection = co_await storage::postgres::Connection::connect(executor, settings);
  connection->set_call_timeout(std::chrono::minutes(30));  // seeding a million rows takes a while
  co_await connection->exec_simple("bench.setup", sql);
}

/// 10,000 users, 1,000,000 messages, 500,000 model calls and 5,000 payments over the last 90 days.
std::string seed_sql(const std::string& schema) {
  return "SET search_path TO " + schema +
         ";"
         "INSERT INTO users (telegram_id, first_name, created_at, updated_at) "
         "SELECT g, 'user ' || g, now() - (g % 90) * interval '1 day', now() FROM generate_series(1, 10000) g;"
         "INSERT INTO messages (user_id, role, content, status, created_at) "
         "SELECT (g % 10000) + 1, CASE WHEN g % 2 = 0 THEN 'user' ELSE 'assistant' END, 'message number ' || g, "
         "'complete', now() - (g % 7776000) * interval '1 second' FROM generate_series(1, 1000000) g;"
         "INSERT INTO model_calls (user_id, ok, input_tokens, output_tokens, latency_ms, created_at) "
         "SELECT (g % 10000) + 1, g % 50 <> 0, 300 + g % 200, 100 + g % 150, (g::bigint * 7919) % 5000, "
         "now() - ((g * 13) % 7776000) * interval '1 second' FROM generate_series(1, 500000) g;"
         "INSERT INTO payments (charge_id, user_id, currency, amount, plan, days, status, created_at) "
         "SELECT 'bench-' || g, (g % 10000) + 1, 'XTR', 250, 'month', 30, 'paid', "
         "now() - (g % 90) * interval '1 day' FROM generate_series(1, 5000) g;"
         "ANALYZE;";
}

double millis_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

void admin_stats_postgres(benchmark::State& state) {
  const auto url = stats_postgres_url();
  if (!url) {
    state.SkipWithError("set EVOLVEAI_BENCH_PG_URL (or run under scripts/with-test-services)");
    return;
  }
  StatsRuntime rt;
  const std::string schema = "bench_stats_" + std::to_string(::getpid());
  rt.run(stats_pg_exec(rt.io().get_executor(), *url,
                       "DROP SCHEMA IF EXISTS " + schema + " CASCADE; CREATE SCHEMA " + schema));
  {
    storage::postgres::PgStoreOptions options;
    options.url = *url;
    options.pool.size = 2;
    options.statement_timeout = std::chrono::minutes(1);  // the purely live 90-day aggregate is measured too
    options.session_settings = {{"search_path", schema}};
    storage::postgres::PgStore store(std::move(options), rt.io().get_executor());
    rt.run(store.migrate_up());
    const auto seeding = std::chrono::steady_clock::now();
    rt.run(stats_pg_exec(rt.io().get_executor(), *url, seed_sql(schema)));
    state.counters["seed_s"] = millis_since(seeding) / 1000;

    evolveai::obs::Logger logger(evolveai::obs::LogLevel::kOff, evolveai::obs::Logger::Format::kText);
    evolveai::obs::MetricsRegistry metrics;
    evolveai::cache::LocalCache cache({}, metrics, logger);
    services::FeatureFlags flags(store, cache);
    services::AdminService admin(
        store, flags, nullptr, services::AdminOptions{}, nullptr, [] { return std::chrono::system_clock::now(); },
        logger);

    const auto today = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
    auto started = std::chrono::steady_clock::now();
    const auto live = rt.run(store.compute_daily_stats(today - std::chrono::days(89), today + std::chrono::days(1)));
    state.counters["live_90d_ms"] = millis_since(started);
    started = std::chrono::steady_clock::now();
    const auto first = rt.run(admin.stats(90));
    state.counters["first_call_ms"] = millis_since(started);

    std::int64_t messages = 0;
    while (state.KeepRunning()) {
      const auto report = rt.run(admin.stats(90));
      messages = 0;
      for (const auto& day : report.days) {
        messages += day.messages;
      }
      benchmark::DoNotOptimize(report);
    }
    state.counters["messages"] = static_cast<double>(messages);
    state.counters["days"] = static_cast<double>(first.days.size());
    state.counters["live_days"] = static_cast<double>(live.size());
  }
  rt.run(stats_pg_exec(rt.io().get_executor(), *url, "DROP SCHEMA IF EXISTS " + schema + " CASCADE"));
}
BENCHMARK(admin_stats_postgres)->UseRealTime()->Unit(benchmark::kMillisecond)->Iterations(20);

}  // namespace
