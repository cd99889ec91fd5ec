#include "services/scheduler.hpp"

#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <array>
#include <atomic>
#include <exception>
#include <optional>
#include <random>
#include <stdexcept>
#include <utility>

#include "obs/error_reporter.hpp"
#include "obs/logger.hpp"
#include "obs/metrics.hpp"
#include "storage/store.hpp"

namespace evolveai::services {
namespace {

namespace asio = boost::asio;
using SteadyClock = std::chrono::steady_clock;

/// Timer waits end in a value: cancellation is how stop() wakes the loops.
constexpr auto kAsTuple = asio::as_tuple(asio::use_awaitable);

/// Seconds; scheduled work ranges from milliseconds (cleanups) to an hour (big backups).
constexpr std::array<double, 10> kRunBuckets = {0.01, 0.05, 0.25, 1, 5, 30, 120, 600, 1800, 3600};

std::string default_owner() {
  std::array<char, 256> host{};
  if (::gethostname(host.data(), host.size() - 1) != 0)
    host[0] = '\0';
  std::random_device entropy;
  static constexpr std::string_view kHex = "0123456789abcdef";
  std::string suffix;
  for (int i = 0; i < 8; ++i)
    suffix += kHex[entropy() % 16];
  return std::string(host.data()) + ":" + std::to_string(::getpid()) + ":" + suffix;
}

double unix_seconds_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

const char* to_string(RunOutcome outcome) noexcept {
  switch (outcome) {
    case RunOutcome::kRan: return "ran";
    case RunOutcome::kFailed: return "failed";
    case RunOutcome::kSkipped: return "skipped";
    case RunOutcome::kStopped: return "stopped";
  }
  return "unknown";
}

/// One registered task, its timer and its metrics.
struct TaskEntry {
  ScheduledTask task;
  std::string lease;
  std::unique_ptr<asio::steady_timer> timer;
  bool running = false;
  obs::Counter* ran = nullptr;
  obs::Counter* failed = nullptr;
  obs::Counter* skipped = nullptr;
  obs::Histogram* duration = nullptr;
  obs::Gauge* last_success = nullptr;
};

/// Everything the loops share. Owned jointly by the Scheduler and its running coroutines;
/// after start() it is touched only on the strand (`stopping` may also be set by the destructor).
struct SchedulerState {
  SchedulerState(storage::Store& s, SchedulerOptions o, obs::Logger& l, obs::MetricsRegistry& m)
      : store(s), options(std::move(o)), logger(l), metrics(m) {}

  storage::Store& store;
  SchedulerOptions options;
  obs::Logger& logger;
  obs::MetricsRegistry& metrics;
  std::vector<std::unique_ptr<TaskEntry>> entries;
  std::optional<asio::strand<asio::any_io_executor>> strand;
  std::unique_ptr<asio::steady_timer> idle;  ///< cancelled when `active` drops to zero
  int active = 0;                            ///< loops and runs not yet finished
  std::atomic<bool> stopping{false};
  std::stop_source stop_source;

  void finish_one() {
    if (--active == 0 && idle)
      idle->cancel();
  }
};

namespace {

using StatePtr = std::shared_ptr<SchedulerState>;

/// Takes the lease, runs the task, records the outcome; never throws for the task's failures.
/// The outcome is counted and logged once the run is completely over (lease released), so
/// whoever sees it counted may start the task again.
Task<RunOutcome> run_guarded(StatePtr s, TaskEntry& e) {
  if (s->stopping)
    co_return RunOutcome::kStopped;
  if (e.running) {
    e.skipped->inc();
    co_return RunOutcome::kSkipped;
  }
  e.running = true;
  ++s->active;
  const auto ttl = e.task.lease_ttl.count() > 0 ? e.task.lease_ttl : e.task.interval;
  bool held = false;
  std::string lease_error;
  try {
    held = co_await s->store.acquire_lease(e.lease, s->options.owner, ttl);
  } catch (const std::exception& ex) {
    lease_error = ex.what();
  }
  RunOutcome outcome = RunOutcome::kSkipped;
  std::string error;
  std::string error_type;
  auto took = SteadyClock::duration::zero();
  if (lease_error.empty() && held) {
    const auto started = SteadyClock::now();
    try {
      co_await e.task.run(s->stop_source.get_token());
    } catch (const std::exception& ex) {
      error = ex.what();
      if (error.empty())
        error = "unknown error";
      error_type = obs::exception_type_name(ex);
    }
    took = SteadyClock::now() - started;
    outcome = error.empty() ? RunOutcome::kRan : RunOutcome::kFailed;
    // A failed task may be retried by any node at once; a stopping node hands over.
    if (outcome == RunOutcome::kFailed || s->stopping) {
      try {
        co_await s->store.release_lease(e.lease, s->options.owner);
      } catch (const std::exception& ex) {
        s->logger.warn("scheduled_task_release_failed", {{"task", e.task.name}, {"error", ex.what()}});
      }
    }
  } else if (!lease_error.empty()) {
    outcome = RunOutcome::kFailed;
  }
  e.running = false;
  s->finish_one();

  const double took_ms = std::chrono::duration<double, std::milli>(took).count();
  if (!lease_error.empty()) {
    e.failed->inc();
    s->logger.warn("scheduled_task_lease_failed", {{"task", e.task.name}, {"error", lease_error}});
  } else if (outcome == RunOutcome::kSkipped) {
    e.skipped->inc();
    s->logger.debug("scheduled_task_skipped", {{"task", e.task.name}, {"reason", "lease held by another node"}});
  } else {
    e.duration->observe(std::chrono::duration<double>(took).count());
    if (outcome == RunOutcome::kRan) {
      e.ran->inc();
      e.last_success->set(unix_seconds_now());
      s->logger.info("scheduled_task_finished", {{"task", e.task.name}, {"duration_ms", took_ms}});
    } else {
      e.failed->inc();
      s->logger.warn("scheduled_task_failed", {{"task", e.task.name}, {"duration_ms", took_ms}, {"error", error}});
      if (s->options.errors != nullptr) {
        obs::ErrorReport report;
        report.logger = "scheduler";
        report.exception_type = error_type;
        report.exception_value = error;
        report.tags = {{"task", e.task.name}, {"role", "worker"}};
        s->options.errors->report(std::move(report));
      }
    }
  }
  co_return outcome;
}

/// Waits for each due time and runs the task, until the scheduler stops.
Task<void> task_loop(StatePtr s, TaskEntry& e) {
  auto next = SteadyClock::now() + s->options.first_run_delay;
  while (!s->stopping) {
    e.timer->expires_at(next);
    co_await e.timer->async_wait(kAsTuple);
    if (s->stopping)
      break;
    co_await run_guarded(s, e);
    const auto now = SteadyClock::now();
    next += e.task.interval;
    while (next <= now)
      next += e.task.interval;  // runs missed while busy are skipped, not stacked
  }
  s->finish_one();
}

/// Stops every loop and waits for them and any run in progress; then gives the leases up.
Task<void> stop_on_strand(StatePtr s) {
  if (!s->stopping.exchange(true)) {
    s->stop_source.request_stop();
    for (auto& e : s->entries)
      e->timer->cancel();
  }
  while (s->active > 0) {
    s->idle->expires_at(asio::steady_timer::time_point::max());
    co_await s->idle->async_wait(kAsTuple);
  }
  for (auto& e : s->entries) {
    try {
      co_await s->store.release_lease(e->lease, s->options.owner);
    } catch (const std::exception& ex) {
      s->logger.warn("scheduled_task_release_failed", {{"task", e->task.name}, {"error", ex.what()}});
    }
  }
}

}  // namespace

Scheduler::Scheduler(storage::Store& store, SchedulerOptions options, obs::Logger& logger,
                     obs::MetricsRegistry& metrics)
    : state_(std::make_shared<SchedulerState>(store, std::move(options), logger, metrics)) {
  if (state_->options.owner.empty())
    state_->options.owner = default_owner();
}

Scheduler::~Scheduler() {
  // Loops still suspended (stop() was not awaited) end when their executor goes away; they
  // hold the state, and nothing in them runs again once `stopping` is set.
  state_->stopping = true;
  state_->stop_source.request_stop();
}

void Scheduler::add(ScheduledTask task) {
  auto& s = *state_;
  if (s.strand)
    throw std::logic_error("Scheduler::add after start");
  if (task.name.empty())
    throw std::invalid_argument("a scheduled task needs a name");
  if (!task.run)
    throw std::invalid_argument("scheduled task " + task.name + " has nothing to run");
  if (task.interval.count() <= 0)
    throw std::invalid_argument("scheduled task " + task.name + " needs an interval");
  for (const auto& e : s.entries) {
    if (e->task.name == task.name)
      throw std::invalid_argument("scheduled task " + task.name + " is added twice");
  }
  auto& runs = s.metrics.counter("evolveai_scheduler_runs_total", "Scheduled task runs by task and outcome",
                                 {"task", "outcome"});
  auto& durations = s.metrics.histogram("evolveai_scheduler_run_duration_seconds",
                                        "Time scheduled task runs took, by task", {"task"}, kRunBuckets);
  auto& last = s.metrics.gauge("evolveai_scheduler_last_success_timestamp_seconds",
                               "Unix time of each scheduled task's last successful run on this node", {"task"});
  auto entry = std::make_unique<TaskEntry>();
  entry->lease = "scheduler:" + task.name;
  entry->ran = &runs.with({task.name, "ok"});
  entry->failed = &runs.with({task.name, "error"});
  entry->skipped = &runs.with({task.name, "skipped"});
  entry->duration = &durations.with({task.name});
  entry->last_success = &last.with({task.name});
  entry->task = std::move(task);
  s.entries.push_back(std::move(entry));
}

void Scheduler::start(const boost::asio::any_io_executor& executor) {
  auto& s = *state_;
  if (s.strand)
    throw std::logic_error("Scheduler::start called twice");
  s.strand.emplace(asio::make_strand(executor));
  s.idle = std::make_unique<asio::steady_timer>(*s.strand);
  for (auto& e : s.entries)
    e->timer = std::make_unique<asio::steady_timer>(*s.strand);
  if (s.stopping)
    return;  // stopped before it started: nothing to run
  s.active = static_cast<int>(s.entries.size());
  for (auto& e : s.entries) {
    s.logger.info("scheduled_task_registered",
                  {{"task", e->task.name}, {"interval_ms", static_cast<std::int64_t>(e->task.interval.count())}});
    asio::co_spawn(*s.strand, task_loop(state_, *e), asio::detached);
  }
}

Task<void> Scheduler::stop() {
  auto s = state_;
  if (!s->strand) {
    s->stopping = true;
    co_return;
  }
  auto stopped = asio::co_spawn(*s->strand, stop_on_strand(s), asio::use_awaitable);
  co_await std::move(stopped);
}

Task<RunOutcome> Scheduler::run_now(std::string_view name) {
  auto s = state_;
  if (!s->strand)
    throw std::logic_error("Scheduler::run_now before start");
  TaskEntry* entry = nullptr;
  for (auto& e : s->entries) {
    if (e->task.name == name)
      entry = e.get();
  }
  if (entry == nullptr)
    throw std::invalid_argument("no scheduled task " + std::string(name));
  auto run = asio::co_spawn(*s->strand, run_guarded(s, *entry), asio::use_awaitable);
  co_return co_await std::move(run);
}

const std::string& Scheduler::owner() const noexcept {
  return state_->options.owner;
}

std::vector<std::string> Scheduler::task_names() const {
  std::vector<std::string> out;
  for (const auto& e : state_->entries)
    out.push_back(e->task.name);
  return out;
}

}  // namespace evolveai::services
