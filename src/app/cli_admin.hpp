#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "app/config.hpp"
#include "services/feature_flags.hpp"

namespace CLI {  // NOLINT(readability-identifier-naming): CLI11's namespace
class App;
}

namespace evolveai::app {

/// Exit code of `admin create` when the input is unusable (bad username, weak password, taken).
inline constexpr int kExitBadInput = 2;

/// The `admin` subcommands and their parsed arguments.
struct AdminCommands {
  CLI::App* create = nullptr;
  CLI::App* users = nullptr;
  CLI::App* grant_premium = nullptr;
  CLI::App* revoke_premium = nullptr;
  CLI::App* ban = nullptr;
  CLI::App* unban = nullptr;
  CLI::App* cleanup = nullptr;
  CLI::App* flags = nullptr;
  std::string config_path;
  std::string username;
  std::int64_t user_id = 0;               ///< --user of grant-premium, revoke-premium, ban, unban
  std::int64_t days = 0;                  ///< --days of grant-premium
  std::int64_t older_than_days = 0;       ///< --older-than-days of cleanup
  std::string reason;                     ///< --reason of every changing command
  std::string query;                      ///< users --query
  std::string premium;                    ///< users --premium true|false
  std::string banned;                     ///< users --banned true|false
  std::int64_t limit = 50;                ///< users --limit
  std::int64_t cursor = 0;                ///< users --cursor (0: first page)
  std::vector<std::string> flag_changes;  ///< flags --set NAME=on|off|PERCENT

  /// True when one of these subcommands was given.
  [[nodiscard]] bool chosen() const;
};

/// Adds `admin create --username NAME` (the password is never an argument: it is read from a
/// prompt on a terminal, asked twice and not echoed, or from the first line of standard input)
/// and the operators' commands `admin users|grant-premium|revoke-premium|ban|unban|cleanup|flags`,
/// which act through the same AdminService as the HTTP API and are audited as "cli".
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
/// A `flags --set` argument: `NAME=on` (100 %), `NAME=off`, or `NAME=PERCENT` (on, 0..100);
/// nullopt when malformed.
[[nodiscard]] std::optional<std::pair<std::string, services::FlagState>> parse_flag_change(std::string_view text);
/// Why `password` is not acceptable (at least 12 bytes, at most the hasher's maximum), or empty.
[[nodiscard]] std::string admin_password_problem(std::string_view password);

}  // namespace evolveai::app
