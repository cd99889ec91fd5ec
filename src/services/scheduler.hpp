#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "core/task.hpp"

namespace evolveai::storage {
class Store;
}

namespace evolveai::obs {
class ErrorReporter;
class Logger;
class MetricsRegistry;
}  // namespace evolveai::obs

namespace evolveai::services {

/// A named job run every `interval`. `run` receives a stop token that is triggered when
/// the scheduler stops; long work checks it at safe points.
struct ScheduledTask {
  std::string name;  ///< also names its lease: `scheduler:<name>`
  std::chrono::milliseconds interval{std::chrono::hours(1)};
  std::function<Task<void>(std::stop_token)> run;
  /// How long one node holds the task once it took it; 0 means `interval`, so the task
  /// runs about once per interval cluster-wide.
  std::chrono::milliseconds lease_ttl{0};
};

/// What one attempt to run a task came to.
enum class RunOutcome {
  kRan,      ///< this node held the lease and the task finished
  kFailed,   ///< this node held the lease and the task threw (logged, counted)
  kSkipped,  ///< another node (or a run already in progress here) holds the task
  kStopped,  ///< the scheduler is stopping
};

/// The stable name of an outcome ("ran", "failed", "skipped", "stopped").
[[nodiscard]] const char* to_string(RunOutcome outcome) noexcept;

/// Settings of a scheduler.
struct SchedulerOptions {
  std::string owner;  ///< this node's lease owner id; empty: `<host>:<pid>:<random>`
  /// Wait before each task's first run after start().
  std::chrono::milliseconds first_run_delay{std::chrono::seconds(30)};
  /// Told about every task run that threw; not owned, may be null.
  obs::ErrorReporter* errors = nullptr;
};

struct SchedulerState;

/// Runs named periodic tasks on one node of a cluster. Each run first takes the task's
/// database lease (`Store::acquire_lease`), so only one node runs a task at a time; a node
/// that stops or fails gives its leases up. Runs, failures, skips and durations are
/// counted in metrics and logged.
class Scheduler {
 public:
  Scheduler(storage::Store& store, SchedulerOptions options, obs::Logger& logger, obs::MetricsRegistry& metrics);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  /// Registers a task; only before start(). Throws std::invalid_argument for an empty or
  /// repeated name, a missing function or a non-positive interval.
  void add(ScheduledTask task);
  /// Starts one timer loop per task on `executor` (serialised on a strand of it).
  void start(const boost::asio::any_io_executor& executor);
  /// Stops the timers, signals running tasks through their stop token, waits until they
  /// return, and releases this node's leases. Safe to call more than once, and without start().
  Task<void> stop();
  /// Runs a task now, through its lease (tests, operators). Only after start().
  Task<RunOutcome> run_now(std::string_view name);

  /// This node's lease owner id.
  [[nodiscard]] const std::string& owner() const noexcept;
  /// The registered tasks' names, in order of registration.
  [[nodiscard]] std::vector<std::string> task_names() const;

 private:
  std::shared_ptr<SchedulerState> state_;
};

}  // namespace evolveai::services
