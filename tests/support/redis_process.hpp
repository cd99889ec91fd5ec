#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <gtest/gtest.h>
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/task.hpp"

namespace evolveai::testing {

/// The shared test Redis (EVOLVEAI_TEST_REDIS_URL, set by scripts/with-test-services), or nullopt.
[[nodiscard]] std::optional<std::string> test_redis_url();
/// Why the shared test Redis cannot be used, or nullopt when it can.
[[nodiscard]] std::optional<std::string> redis_unavailable_reason();
/// Why a private redis-server cannot be started (no binary on PATH), or nullopt when it can.
[[nodiscard]] std::optional<std::string> redis_server_unavailable_reason();
/// True when EVOLVEAI_REQUIRE_SERVICES=1: a missing service is then a failure, not a skip.
[[nodiscard]] bool services_required();

/// A private redis-server (no persistence) on a free 127.0.0.1 port, for tests that stop,
/// freeze or restart it. The port stays the same across restarts.
class RedisProcess {
 public:
  /// Starts it and waits until it answers PING; throws std::runtime_error when it does not.
  RedisProcess();
  /// Kills it.
  ~RedisProcess();
  RedisProcess(const RedisProcess&) = delete;
  RedisProcess& operator=(const RedisProcess&) = delete;

  /// Starts it again (after kill() or stop()) and waits for PING.
  void start();
  /// SIGKILL, as in a crash; returns once the process is gone.
  void kill();
  /// SIGSTOP: the process keeps its sockets but answers nothing.
  void freeze();
  /// SIGCONT after freeze().
  void thaw();

  [[nodiscard]] bool running() const { return pid_ > 0; }
  [[nodiscard]] std::uint16_t port() const { return port_; }
  /// `redis://127.0.0.1:<port>/<db>`.
  [[nodiscard]] std::string url(int db = 0) const;
  /// True when it answers PING within `timeout_ms`.
  [[nodiscard]] bool answers_ping(int timeout_ms = 200) const;

 private:
  std::uint16_t port_;
  pid_t pid_ = -1;
};

/// A free TCP port on 127.0.0.1 (bound, read and released).
[[nodiscard]] std::uint16_t free_port();

/// Base of tests that need the shared test Redis: skips them (or fails them when
/// EVOLVEAI_REQUIRE_SERVICES=1) when EVOLVEAI_TEST_REDIS_URL is unset.
class SharedRedisTest : public ::testing::Test {
 protected:
  void SetUp() override;
  /// The shared server's URL with database `db` instead of the one it names.
  [[nodiscard]] std::string redis_url(int db = 0) const;
  /// A key prefix no other test (or test process) uses.
  [[nodiscard]] const std::string& unique_prefix() const { return prefix_; }

 private:
  std::string url_;
  std::string prefix_;
};

/// Base of tests that start, kill and freeze their own redis-server: skips them (or fails
/// them when EVOLVEAI_REQUIRE_SERVICES=1) when redis-server is not installed.
class PrivateRedisTest : public ::testing::Test {
 protected:
  void SetUp() override;
  [[nodiscard]] RedisProcess& redis() { return *redis_; }

 private:
  std::unique_ptr<RedisProcess> redis_;
};

/// An io_context run by a few threads, for driving coroutines from a test body.
class IoThreads {
 public:
  explicit IoThreads(std::size_t threads = 2);
  /// Stops the context and joins the threads.
  ~IoThreads();
  IoThreads(const IoThreads&) = delete;
  IoThreads& operator=(const IoThreads&) = delete;

  [[nodiscard]] boost::asio::io_context& io() { return io_; }
  [[nodiscard]] boost::asio::any_io_executor executor() { return io_.get_executor(); }

  /// Runs `task` on the threads and waits for its result (or exception).
  template <typename T>
  T run(Task<T> task) {
    return boost::asio::co_spawn(io_, std::move(task), boost::asio::use_future).get();
  }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::vector<std::thread> threads_;
};

}  // namespace evolveai::testing
