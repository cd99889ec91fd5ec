#include "app/store_wiring.hpp"

#include <memory>

#include "obs/logger.hpp"
#include "obs/metrics.hpp"

namespace evolveai::app {

storage::StoreObserver make_store_observer(obs::Logger& logger, obs::MetricsRegistry& metrics,
                                           std::chrono::milliseconds slow_threshold) {
  auto& statements = metrics.counter("evolveai_db_statements_total", "Database statements by name and outcome",
                                     {"statement", "outcome"});
  auto& durations = metrics.histogram("evolveai_db_statement_duration_seconds",
                                      "Database statement time by statement name", {"statement"});
  auto& slow = metrics.counter("evolveai_db_slow_statements_total",
                               "Statements slower than database.slow_query_threshold", {"statement"});
  auto& retries = metrics.counter("evolveai_db_retries_total", "Transient database failures retried", {"statement"});
  auto& pool = metrics.gauge("evolveai_db_pool_connections", "Database pool connections by state", {"state"});

  storage::StoreObserver observer;
  observer.slow_threshold = slow_threshold;
  observer.on_statement = [&statements, &durations](std::string_view statement, std::chrono::nanoseconds took,
                                                    bool ok) {
    statements.with({statement, ok ? "ok" : "error"}).inc();
    durations.with({statement}).observe(std::chrono::duration<double>(took).count());
  };
  observer.on_slow = [&logger, &slow](std::string_view statement, std::chrono::nanoseconds took) {
    slow.with({statement}).inc();
    logger.warn("db_slow_statement",
                {{"statement", statement}, {"duration_ms", std::chrono::duration<double, std::milli>(took).count()}});
  };
  observer.on_retry = [&logger, &retries](std::string_view statement, unsigned attempt, std::string_view reason) {
    retries.with({statement}).inc();
    logger.info("db_retry", {{"statement", statement}, {"attempt", attempt}, {"reason", reason}});
  };
  observer.on_pool = [&pool](std::size_t in_use, std::size_t open) {
    pool.with({"in_use"}).set(static_cast<double>(in_use));
    pool.with({"open"}).set(static_cast<double>(open));
  };
  return observer;
}

storage::StoreSettings store_settings(const Config& config, storage::StoreObserver observer) {
  storage::StoreSettings settings;
  settings.url = config.database.url;
  settings.pool_size = static_cast<std::size_t>(config.database.pool_size);
  settings.statement_timeout = config.database.statement_timeout;
  settings.acquire_timeout = config.database.acquire_timeout;
  settings.connect_timeout = config.database.acquire_timeout;
  settings.busy_timeout = config.database.statement_timeout;
  settings.observer = std::move(observer);
  return settings;
}

}  // namespace evolveai::app
