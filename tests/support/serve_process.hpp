#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace evolveai::testing {

/// A real `evolveai serve` child process, configured only by environment variables, with its
/// standard output and error in a log file: for tests that run several nodes or signal one.
class ServeProcess {
 public:
  /// Starts `evolveai serve` in `dir` (created when missing) on a free 127.0.0.1 port with a
  /// clean environment: PATH, the sanitizers' options of this process, EVOLVEAI_SERVER__HOST,
  /// EVOLVEAI_SERVER__PORT, EVOLVEAI_SERVER__DATA_DIR (`dir`), then `env` ("NAME=value", later
  /// ones win). Throws std::runtime_error when the process cannot be started.
  ServeProcess(std::vector<std::string> env, std::filesystem::path dir);
  /// Kills the process (SIGKILL) when it still runs, and reaps it.
  ~ServeProcess();
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  /// Waits until GET /readyz answers 200; false when the process exited or `timeout` passed.
  /// A port taken by someone else in the meantime is retried on another one.
  [[nodiscard]] bool wait_ready(std::chrono::milliseconds timeout = std::chrono::seconds(60));
  /// Sends SIGTERM: the graceful shutdown.
  void terminate() const;
  /// Waits for the process to exit and returns its exit status; -1 when it died by a signal,
  /// nullopt when it still runs after `timeout`.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout = std::chrono::seconds(60));
  /// True until the process was seen to exit.
  [[nodiscard]] bool running() const { return pid_ > 0; }

  [[nodiscard]] std::uint16_t port() const { return port_; }
  [[nodiscard]] pid_t pid() const { return pid_; }
  /// Everything the process wrote so far (stdout and stderr).
  [[nodiscard]] std::string output() const;
  /// The log file.
  [[nodiscard]] const std::filesystem::path& log_path() const { return log_path_; }

 private:
  void spawn();
  /// Reaps the process when it has exited; true when it has.
  bool reap(bool block);

  std::vector<std::string> env_;
  std::filesystem::path dir_;
  std::filesystem::path log_path_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
  int exit_status_ = -1;
};

}  // namespace evolveai::testing
