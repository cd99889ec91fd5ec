#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <cstdint>
#include <future>
#include <memory>
#include <string>

#include "app/config.hpp"

namespace evolveai::http {
class Router;
}

namespace evolveai::obs {
class HealthChecks;
}

namespace evolveai::storage {
class Store;
}

namespace evolveai::services {
enum class RunOutcome;
}

namespace evolveai::app {

/// The composition root: builds every long-lived component from the validated Config,
/// wires them through constructors, runs the I/O threads and shuts down in order.
class Application {
 public:
  explicit Application(Config config);
  ~Application();
  Application(const Application&) = delete;
  Application& operator=(const Application&) = delete;

  /// Binds the listener; after this `port()` is known. Throws when the address is taken.
  void start();
  /// Runs until SIGTERM/SIGINT (or `request_stop`), drains, and returns the exit code.
  int run();
  /// Begins a graceful shutdown from any thread, as SIGTERM does.
  void request_stop();

  [[nodiscard]] std::uint16_t port() const;
  /// The route table; tests may add routes before `start()`.
  [[nodiscard]] http::Router& router();
  /// Readiness checks; components register theirs while being built.
  [[nodiscard]] obs::HealthChecks& health();
  /// The store, for administrative commands and tests.
  [[nodiscard]] storage::Store& store();
  /// Runs one of the worker's scheduled tasks now on the I/O threads, through its lease
  /// (operators, tests); only after `start()`. The future holds the outcome.
  [[nodiscard]] std::future<services::RunOutcome> run_worker_task(std::string name);
  /// The I/O threads' executor, for running store calls from tests and commands.
  [[nodiscard]] boost::asio::any_io_executor executor();

 private:
  struct Components;
  std::unique_ptr<Components> components_;
};

}  // namespace evolveai::app
