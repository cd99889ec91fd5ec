#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "app/application.hpp"
#include "app/config.hpp"
#include "http/router.hpp"
#include "obs/health.hpp"
#include "services/scheduler.hpp"
#include "storage/store.hpp"

namespace evolveai::testing {

/// A fresh directory under the system temp dir, removed when this object dies.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

/// Runs a coroutine to completion on a private io_context and returns its result.
template <typename T>
T run_sync(Task<T> task) {
  boost::asio::io_context io;
  auto guard = boost::asio::make_work_guard(io);
  auto future = boost::asio::co_spawn(io, std::move(task), boost::asio::use_future);
  while (future.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    io.run_one_for(std::chrono::milliseconds(10));
  }
  // Another thread may still be handing work back to `io`: drain it before `io` goes away.
  guard.reset();
  io.run();
  return future.get();
}

/// Defaults fit for tests: a free port, two threads, quiet logs, data in `data_dir`.
app::Config test_config(const std::filesystem::path& data_dir);

/// The whole application running in-process on its own thread.
class TestApp {
 public:
  /// Builds the application from `config`, lets `add_routes` register extra routes, starts it.
  explicit TestApp(app::Config config, const std::function<void(http::Router&)>& add_routes = {},
                   const std::function<void(obs::HealthChecks&)>& add_checks = {});
  ~TestApp();
  TestApp(const TestApp&) = delete;
  TestApp& operator=(const TestApp&) = delete;

  [[nodiscard]] std::uint16_t port() const { return port_; }
  /// The application's store, to arrange data the API cannot create (bans, admins).
  [[nodiscard]] storage::Store& store() { return application_->store(); }
  /// Runs one of the worker's scheduled tasks now (e.g. "memory_summaries") and waits for it.
  services::RunOutcome run_worker_task(std::string name) {
    return application_->run_worker_task(std::move(name)).get();
  }
  /// Runs `task` on the application's own I/O threads and waits for its result (store calls
  /// that arrange or inspect data must not outlive a private io_context).
  template <typename T>
  T run(Task<T> task) {
    return boost::asio::co_spawn(application_->executor(), std::move(task), boost::asio::use_future).get();
  }
  /// Every route the application serves.
  [[nodiscard]] const http::Router& router() { return application_->router(); }
  /// Begins a graceful shutdown and waits for `run()` to return its exit code.
  int stop();

 private:
  std::unique_ptr<app::Application> application_;
  std::thread thread_;
  std::uint16_t port_ = 0;
  int exit_code_ = -1;
};

}  // namespace evolveai::testing
