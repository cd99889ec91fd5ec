#include "app/cli_worker.hpp"

#include <utility>

#include "app/cli_storage.hpp"
#include "net/blocking_pool.hpp"
#include "obs/logger.hpp"
#include "obs/metrics.hpp"
#include "services/admin_service.hpp"
#include "services/memory_service.hpp"
#include "storage/backup.hpp"
#include "storage/store.hpp"

namespace evolveai::app {
namespace {

/// What one scheduled backup did.
struct BackupRun {
  storage::BackupInfo created;
  std::vector<storage::BackupInfo> pruned;
};

}  // namespace

std::unique_ptr<services::Scheduler> make_worker_tasks(storage::Store& store, net::BlockingPool& blocking,
                                                       const Config& config, obs::Logger& logger,
                                                       obs::MetricsRegistry& metrics,
                                                       const WorkerTaskOptions& options) {
  auto scheduler = std::make_unique<services::Scheduler>(store, options.scheduler, logger, metrics);
  auto& deleted =
      metrics.counter("evolveai_retention_deleted_total", "Rows removed by retention tasks, by kind", {"kind"});

  if (options.message_retention_days > 0) {
    const auto keep = std::chrono::days(options.message_retention_days);
    const auto batch = options.message_retention_batch;
    auto& counter = deleted.with({"messages"});
    scheduler->add(services::ScheduledTask{
        "message_retention",
        options.message_retention_interval,
        [&store, &logger, &counter, keep, batch](std::stop_token) -> Task<void> {
          const auto cutoff = std::chrono::system_clock::now() - keep;
          const auto removed = co_await store.delete_messages_older_than(cutoff, batch);
          counter.inc(static_cast<double>(removed));
          logger.info("message_retention_done", {{"deleted", removed}, {"keep_days", keep.count()}});
        },
        {}});
  }

  {
    const auto keep = options.processed_updates_keep;
    auto& counter = deleted.with({"processed_updates"});
    scheduler->add(services::ScheduledTask{"processed_updates_cleanup",
                                           options.processed_updates_interval,
                                           [&store, &counter, keep](std::stop_token) -> Task<void> {
                                             const auto cutoff = std::chrono::system_clock::now() - keep;
                                             const auto removed =
                                                 co_await store.delete_processed_updates_older_than(cutoff);
                                             counter.inc(static_cast<double>(removed));
                                           },
                                           {}});
  }

  if (options.backup_interval.count() > 0) {
    auto backups = std::make_shared<storage::Backups>(backup_settings(config));
    const auto retention = std::chrono::days(config.backup.retention_days);
    auto& bytes = metrics.gauge("evolveai_backup_last_bytes", "Size of the newest scheduled backup");
    auto& last = metrics.gauge("evolveai_backup_last_success_timestamp_seconds",
                               "Unix time of the newest scheduled backup made by this node");
    auto& total = bytes.with();
    auto& when = last.with();
    scheduler->add(services::ScheduledTask{
        "backup",
        options.backup_interval,
        [backups, retention, &blocking, &logger, &total, &when](std::stop_token stop) -> Task<void> {
          // Copying a database blocks: it runs on the blocking pool, never on an I/O thread.
          auto work = [backups, retention, stop]() {
            BackupRun run;
            run.created = backups->create({}, stop);
            run.pruned = backups->prune(retention);
            return run;
          };
          const BackupRun run = co_await blocking.run(std::move(work));
          total.set(static_cast<double>(run.created.bytes));
          when.set(std::chrono::duration<double>(run.created.created_at.time_since_epoch()).count());
          logger.info("backup_created", {{"name", run.created.name},
                                         {"bytes", static_cast<std::uint64_t>(run.created.bytes)},
                                         {"tables", run.created.tables.size()},
                                         {"duration_ms", static_cast<std::int64_t>(run.created.took.count())},
                                         {"pruned", run.pruned.size()}});
        },
        {}});
  }

  if (options.memory != nullptr) {
    // Each job is leased on its own (one worker per user at a time, cluster-wide); the
    // task's lease only keeps nodes from polling all at once.
    auto* memory = options.memory;
    const auto per_run = options.memory_jobs_per_run;
    auto run_jobs = [memory, per_run, owner = scheduler->owner()](std::stop_token stop) -> Task<void> {
      // A failure ends the run: its job (or the model) gets a rest until the next one.
      for (std::size_t ran = 0; ran < per_run && !stop.stop_requested(); ++ran) {
        if (co_await memory->run_next_job(owner) != services::JobRun::kDone) {
          break;
        }
      }
    };
    scheduler->add(services::ScheduledTask{"memory_summaries", options.memory_job_interval, std::move(run_jobs), {}});
  }

  if (options.admin != nullptr) {
    // The widest window operators can ask for: its finished days are rolled up here, once.
    constexpr int kWidestStatsWindow = 90;
    auto* admin = options.admin;
    scheduler->add(
        services::ScheduledTask{"stats_rollup",
                                options.stats_rollup_interval,
                                [admin](std::stop_token) -> Task<void> { co_await admin->stats(kWidestStatsWindow); },
                                {}});
  }
  return scheduler;
}

}  // namespace evolveai::app
