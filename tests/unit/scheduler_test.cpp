// services::Scheduler over a real (SQLite, temp dir) store: periodic runs, one node per
// task through the lease, failures counted, and a stop that waits for running work.
#include <gtest/gtest.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <sstream>
#include <thread>

#include "app/cli_worker.hpp"
#include "net/blocking_pool.hpp"
#include "obs/logger.hpp"
#include "obs/metrics.hpp"
#include "services/scheduler.hpp"
#include "storage/store.hpp"
#include "support/store_test_env.hpp"
#include "support/test_app.hpp"

namespace evolveai::services {
namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;

/// Sleeps inside a coroutine.
Task<void> pause(std::chrono::milliseconds duration) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  timer.expires_after(duration);
  co_await timer.async_wait(asio::use_awaitable);
}

/// Polls `condition` until it holds or `limit` passes.
template <typename F>
bool eventually(F condition, std::chrono::milliseconds limit = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline)
      return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

class SchedulerTest : public ::testing::Test {
 protected:
  SchedulerOptions options(std::string owner) {
    SchedulerOptions o;
    o.owner = std::move(owner);
    o.first_run_delay = 0ms;
    return o;
  }

  testing::StoreHarness h_{testing::Engine::kSqlite};
  std::ostringstream log_text_;
  obs::Logger logger_{obs::LogLevel::kDebug, obs::Logger::Format::kJson, log_text_};
  obs::MetricsRegistry metrics_;
};

TEST_F(SchedulerTest, RunsATaskEveryIntervalUntilStopped) {
  Scheduler scheduler(h_.store(), options("node-a"), logger_, metrics_);
  std::atomic<int> runs{0};
  scheduler.add(ScheduledTask{"tick", 20ms, [&](std::stop_token) -> Task<void> {
                                ++runs;
                                co_return;
                              }});
  scheduler.start(h_.io().get_executor());
  EXPECT_TRUE(eventually([&] { return runs >= 3; }));
  h_.run(scheduler.stop());
  const int after_stop = runs;
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(runs, after_stop) << "no run starts after stop()";
  EXPECT_NE(metrics_.render().find(R"(evolveai_scheduler_runs_total{task="tick",outcome="ok"})"), std::string::npos);
}

TEST_F(SchedulerTest, OnlyOneNodeRunsATaskAtATime) {
  // Two nodes: two stores on one database, two schedulers with different owners.
  auto other_store = h_.open_another();
  Scheduler a(h_.store(), options("node-a"), logger_, metrics_);
  Scheduler b(*other_store, options("node-b"), logger_, metrics_);
  std::atomic<int> inside{0};
  std::atomic<int> most_inside{0};
  std::atomic<int> runs_a{0};
  std::atomic<int> runs_b{0};
  const auto body = [&inside, &most_inside](std::atomic<int>& counter) {
    return [&inside, &most_inside, runs = &counter](std::stop_token) -> Task<void> {
      const int now_inside = ++inside;
      int seen = most_inside.load();
      while (now_inside > seen && !most_inside.compare_exchange_weak(seen, now_inside)) {
      }
      ++*runs;
      co_await pause(15ms);
      --inside;
    };
  };
  // The store's clock stands still in tests, so the first node's lease never expires.
  a.add(ScheduledTask{"cleanup", 10ms, body(runs_a)});
  b.add(ScheduledTask{"cleanup", 10ms, body(runs_b)});
  a.start(h_.io().get_executor());
  ASSERT_TRUE(eventually([&] { return runs_a >= 1; }));
  b.start(h_.io().get_executor());
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(most_inside, 1);
  EXPECT_GE(runs_a, 3);
  EXPECT_EQ(runs_b, 0) << "node b never gets the lease while node a holds it";
  EXPECT_EQ(h_.run(b.run_now("cleanup")), RunOutcome::kSkipped);

  // Node a stops and hands its lease over: node b takes the task.
  h_.run(a.stop());
  EXPECT_TRUE(eventually([&] { return runs_b >= 1; }));
  h_.run(b.stop());
  EXPECT_EQ(most_inside, 1);
}

TEST_F(SchedulerTest, StopSignalsARunningTaskAndWaitsForIt) {
  Scheduler scheduler(h_.store(), options("node-a"), logger_, metrics_);
  std::atomic<bool> started{false};
  std::atomic<bool> saw_stop{false};
  std::atomic<bool> finished{false};
  scheduler.add(ScheduledTask{"long", 1h, [&](std::stop_token stop) -> Task<void> {
                                started = true;
                                while (!stop.stop_requested())
                                  co_await pause(5ms);
                                saw_stop = true;
                                co_await pause(30ms);  // cleanup at a safe point
                                finished = true;
                              }});
  scheduler.start(h_.io().get_executor());
  ASSERT_TRUE(eventually([&] { return started.load(); }));
  h_.run(scheduler.stop());
  EXPECT_TRUE(saw_stop);
  EXPECT_TRUE(finished) << "stop() returns only after the running task returned";
  // The lease was given up: another node may take it at once.
  EXPECT_TRUE(h_.run(h_.store().acquire_lease("scheduler:long", "node-b", 1min)));
  // Stopping again is harmless; so is run_now afterwards.
  h_.run(scheduler.stop());
  EXPECT_EQ(h_.run(scheduler.run_now("long")), RunOutcome::kStopped);
}

TEST_F(SchedulerTest, AFailingTaskIsCountedLoggedAndReleasesItsLease) {
  Scheduler scheduler(h_.store(), options("node-a"), logger_, metrics_);
  std::atomic<int> attempts{0};
  scheduler.add(ScheduledTask{"flaky", 1h, [&](std::stop_token) -> Task<void> {
                                ++attempts;
                                co_await pause(1ms);
                                throw std::runtime_error("upstream went away");
                              }});
  scheduler.start(h_.io().get_executor());
  const auto failures = [&](int n) {
    return metrics_.render().find(R"(evolveai_scheduler_runs_total{task="flaky",outcome="error"} )" +
                                  std::to_string(n)) != std::string::npos;
  };
  ASSERT_TRUE(eventually([&] { return failures(1); }));
  EXPECT_EQ(attempts, 1);
  EXPECT_EQ(h_.run(scheduler.run_now("flaky")), RunOutcome::kFailed);
  EXPECT_TRUE(h_.run(h_.store().acquire_lease("scheduler:flaky", "node-b", 1min)))
      << "a failed run does not keep the task from other nodes";
  EXPECT_EQ(h_.run(scheduler.run_now("flaky")), RunOutcome::kSkipped);
  h_.run(h_.store().release_lease("scheduler:flaky", "node-b"));
  h_.run(scheduler.stop());
  EXPECT_TRUE(failures(2)) << metrics_.render();
  EXPECT_NE(log_text_.str().find("upstream went away"), std::string::npos);
  EXPECT_NE(log_text_.str().find("scheduled_task_failed"), std::string::npos);
}

TEST_F(SchedulerTest, StopBeforeStartAndBadTasks) {
  Scheduler scheduler(h_.store(), options(""), logger_, metrics_);
  EXPECT_FALSE(scheduler.owner().empty()) << "an owner id is generated";
  const auto nothing = [](std::stop_token) -> Task<void> { co_return; };
  EXPECT_THROW(scheduler.add(ScheduledTask{"", 1s, nothing}), std::invalid_argument);
  EXPECT_THROW(scheduler.add(ScheduledTask{"x", 0ms, nothing}), std::invalid_argument);
  EXPECT_THROW(scheduler.add(ScheduledTask{"x", 1s, {}}), std::invalid_argument);
  scheduler.add(ScheduledTask{"x", 1s, nothing});
  EXPECT_THROW(scheduler.add(ScheduledTask{"x", 1s, nothing}), std::invalid_argument);
  EXPECT_EQ(scheduler.task_names(), std::vector<std::string>{"x"});
  h_.run(scheduler.stop());
}

TEST_F(SchedulerTest, WorkerTasksDeleteOldMessagesCleanUpAndTakeBackups) {
  testing::TempDir dir;
  app::Config config;
  config.database.url = "sqlite://" + h_.sqlite_path().string();
  config.backup.dir = (dir.path() / "backups").string();
  config.backup.retention_days = 7;
  app::WorkerTaskOptions worker;
  worker.message_retention_days = 30;
  worker.scheduler = options("worker-node");
  worker.scheduler.first_run_delay = 1h;  // runs only when the test asks
  net::BlockingPool blocking(2);
  auto scheduler = app::make_worker_tasks(h_.store(), blocking, config, logger_, metrics_, worker);
  EXPECT_EQ(scheduler->task_names(),
            (std::vector<std::string>{"message_retention", "processed_updates_cleanup", "backup"}));
  scheduler->start(h_.io().get_executor());

  // The store's clock stands in 2024: a message written now is years older than 30 days.
  const auto user = h_.run(h_.store().upsert_user(storage::TelegramIdentity{5, "Ann", {}, {}, {}}));
  storage::NewMessage message;
  message.user_id = user.id;
  message.content = "old news";
  h_.run(h_.store().insert_message(message));
  EXPECT_EQ(h_.run(scheduler->run_now("message_retention")), RunOutcome::kRan);
  EXPECT_EQ(h_.run(h_.store().count_messages(user.id)), 0);

  EXPECT_EQ(h_.run(scheduler->run_now("processed_updates_cleanup")), RunOutcome::kRan);

  EXPECT_EQ(h_.run(scheduler->run_now("backup")), RunOutcome::kRan);
  std::size_t backups = 0;
  std::size_t manifests = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path() / "backups")) {
    const auto name = entry.path().filename().string();
    backups += name.ends_with(".db") ? 1 : 0;
    manifests += name.ends_with(".db.json") ? 1 : 0;
  }
  EXPECT_EQ(backups, 1U);
  EXPECT_EQ(manifests, 1U);
  EXPECT_NE(metrics_.render().find("evolveai_backup_last_bytes"), std::string::npos);
  h_.run(scheduler->stop());

  // Message retention is off by default; scheduled backups can be turned off.
  app::WorkerTaskOptions defaults;
  defaults.backup_interval = 0ms;
  auto quiet = app::make_worker_tasks(h_.store(), blocking, config, logger_, metrics_, defaults);
  EXPECT_EQ(quiet->task_names(), std::vector<std::string>{"processed_updates_cleanup"});
}

}  // namespace
}  // namespace evolveai::services
