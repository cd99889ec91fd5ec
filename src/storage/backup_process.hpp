#pragma once

#include <filesystem>
#include <functional>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

/// Running the PostgreSQL client tools (pg_dump, pg_restore) as child processes. Internal
/// to the backup code.
namespace evolveai::storage::backup_process {

/// A program to run: its arguments and the environment variables set (or replaced) for it
/// on top of this process' environment. Secrets go into `env`, never into `args`.
struct ChildCommand {
  std::filesystem::path program;
  std::vector<std::string> args;  ///< without argv[0]
  std::vector<std::pair<std::string, std::string>> env;
};

/// How a child ended.
struct ChildResult {
  int exit_code = -1;       ///< -1 when killed by a signal
  bool cancelled = false;   ///< stopped because the stop token was triggered
  std::string stderr_tail;  ///< the last lines it wrote to standard error
};

/// Runs `command` with stdin and stdout on /dev/null and stderr captured: every line goes
/// to `on_line` (may be empty), and `on_tick` (may be empty) is called about five times a
/// second while it runs. A stop request sends SIGTERM. Throws std::runtime_error when the
/// program cannot be started.
ChildResult run_child(const ChildCommand& command, const std::function<void(std::string_view line)>& on_line,
                      const std::function<void()>& on_tick, const std::stop_token& stop);

/// `name` in `dir` when given; else in PostgreSQL 15's program directory when present;
/// else the first match on PATH. Empty when not found.
[[nodiscard]] std::filesystem::path find_program(std::string_view name, const std::filesystem::path& dir);

}  // namespace evolveai::storage::backup_process
