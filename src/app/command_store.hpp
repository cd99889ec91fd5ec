#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <memory>

#include "app/config.hpp"
#include "core/task.hpp"
#include "net/blocking_pool.hpp"
#include "storage/store.hpp"

namespace evolveai::app {

/// The configured store with what it needs to run, for one command-line command: the calling
/// thread drives a private io_context until each awaited call is done.
class CommandStore {
 public:
  explicit CommandStore(const Config& config);
  ~CommandStore();
  CommandStore(const CommandStore&) = delete;
  CommandStore& operator=(const CommandStore&) = delete;

  /// Runs `task` to completion and returns its result (or throws its exception).
  template <typename T>
  T run(Task<T> task) {
    // The guard keeps run_one from stopping the io_context while the call waits on another
    // thread (the blocking pool); a stopped io_context would make the loop spin forever.
    // A previous call may have left the io_context stopped (its last work ended after it
    // returned): restart only once the guard holds it running.
    auto guard = boost::asio::make_work_guard(io_);
    io_.restart();
    auto future = boost::asio::co_spawn(io_, std::move(task), boost::asio::use_future);
    while (future.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
      io_.run_one_for(kPollInterval);
    }
    return future.get();
  }

  /// The store.
  [[nodiscard]] storage::Store& store() { return *store_; }
  /// The pool that runs blocking work (SQLite calls, password hashing) for this command.
  [[nodiscard]] net::BlockingPool& blocking() { return blocking_; }

 private:
  static constexpr std::chrono::milliseconds kPollInterval{10};

  boost::asio::io_context io_;
  net::BlockingPool blocking_;
  std::unique_ptr<storage::Store> store_;
};

}  // namespace evolveai::app
