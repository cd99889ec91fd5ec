#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "app/config.hpp"
#include "services/scheduler.hpp"

namespace evolveai::storage {
class Store;
}
namespace evolveai::services {
class AdminService;
class MemoryService;
}  // namespace evolveai::services
namespace evolveai::net {
class BlockingPool;
}
namespace evolveai::obs {
class Logger;
class MetricsRegistry;
}  // namespace evolveai::obs

namespace evolveai::app {

/// Settings of the worker role's periodic tasks that have no configuration key yet.
struct WorkerTaskOptions {
  /// Messages older than this many days are deleted; 0 turns message retention off.
  int message_retention_days = 0;
  std::chrono::milliseconds message_retention_interval{std::chrono::hours(1)};
  std::size_t message_retention_batch = 500;
  /// Processed Telegram update ids are remembered this long (Telegram redelivers for a day at most).
  std::chrono::hours processed_updates_keep{std::chrono::hours(24 * 7)};
  std::chrono::milliseconds processed_updates_interval{std::chrono::hours(1)};
  /// How often a backup is taken (then backups older than backup.retention_days are
  /// pruned); 0 turns scheduled backups off.
  std::chrono::milliseconds backup_interval{std::chrono::hours(24)};
  /// Runs the memory summary jobs (`memory_summaries`) when set; not owned.
  services::MemoryService* memory = nullptr;
  /// How often the worker looks for due summary jobs, and how many one look runs at most.
  std::chrono::milliseconds memory_job_interval{std::chrono::seconds(5)};
  std::size_t memory_jobs_per_run = 50;
  /// Keeps the stats rollup (`stats_rollup`) filled when set, so that no operator's request has
  /// to compute finished days from the live tables; not owned.
  services::AdminService* admin = nullptr;
  std::chrono::milliseconds stats_rollup_interval{std::chrono::hours(1)};
  /// Scheduler settings (lease owner id, delay before the first runs).
  services::SchedulerOptions scheduler;
};

/// The worker role's scheduler with its tasks registered: `message_retention` (when on),
/// `processed_updates_cleanup`, `backup` (when on), `memory_summaries` (with a memory
/// service) and `stats_rollup` (with an admin service). The composition root starts it on its I/O executor and awaits
/// `stop()` on shutdown, before the store goes away.
std::unique_ptr<services::Scheduler> make_worker_tasks(storage::Store& store, net::BlockingPool& blocking,
                                                       const Config& config, obs::Logger& logger,
                                                       obs::MetricsRegistry& metrics,
                                                       const WorkerTaskOptions& options = {});

}  // namespace evolveai::app
