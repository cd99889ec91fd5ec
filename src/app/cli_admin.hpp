#pragma once

#include <iosfwd>
#include <string>

#include "app/config.hpp"

namespace CLI {  // NOLINT(readability-identifier-naming): CLI11's namespace
class App;
}

namespace evolveai::app {

/// Exit code of `admin create` when the input is unusable (bad username, weak password, taken).
inline constexpr int kExitBadInput = 2;

/// The `admin` subcommands and their parsed arguments.
struct AdminCommands {
  CLI::App* create = nullptr;
  std::string config_path;
  std::string username;

  /// True when one of these subcommands was given.
  [[nodiscard]] bool chosen() const;
};

/// Adds `admin create --username NAME` to the command line. The password is never an
/// argument: it is read from a prompt on a terminal (asked twice, not echoed) or from the
/// first line of standard input.
void add_admin_commands(CLI::App& cli, AdminCommands& commands);

/// Where `admin create` reads the password: standard input, and whether it is a terminal.
struct PasswordInput {
  std::istream& in;
  bool terminal = false;
};

/// Runs the chosen subcommand; results to `out`, problems and prompts to `err`. Returns the
/// exit code: 0 done, 1 failed, kExitBadInput for unusable input.
int run_admin_command(const AdminCommands& commands, const Config& config, PasswordInput input, std::ostream& out,
                      std::ostream& err);

/// Why `username` cannot name an admin (3..64 of a-z, A-Z, 0-9, '.', '_', '-'), or empty.
[[nodiscard]] std::string admin_username_problem(std::string_view username);
/// Why `password` is not acceptable (at least 12 bytes, at most the hasher's maximum), or empty.
[[nodiscard]] std::string admin_password_problem(std::string_view password);

}  // namespace evolveai::app
