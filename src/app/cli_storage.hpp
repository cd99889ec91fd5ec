#pragma once

#include <iosfwd>
#include <string>

#include "app/config.hpp"
#include "storage/backup.hpp"

namespace CLI {  // NOLINT(readability-identifier-naming): CLI11's namespace
class App;
}

namespace evolveai::app {

/// Exit code of `backup verify` / `backup restore` when the backup does not match its manifest.
inline constexpr int kExitVerificationFailed = 3;

/// The `migrate` and `backup` subcommands and their parsed arguments. Lives as long as the
/// command line is parsed and run (the CLI writes into it).
struct StorageCommands {
  CLI::App* migrate_up = nullptr;
  CLI::App* migrate_status = nullptr;
  CLI::App* backup_create = nullptr;
  CLI::App* backup_list = nullptr;
  CLI::App* backup_verify = nullptr;
  CLI::App* backup_restore = nullptr;
  CLI::App* backup_prune = nullptr;
  std::string config_path;  ///< --config of whichever subcommand was given
  std::string backup_name;  ///< a file name from `backup list`, or "latest"
  bool force = false;       ///< restore: overwrite a database that holds data
  bool no_progress = false;

  /// True when one of these subcommands was given.
  [[nodiscard]] bool chosen() const;
};

/// Adds `migrate up|status` and `backup create|list|verify|restore|prune` to the command line.
void add_storage_commands(CLI::App& cli, StorageCommands& commands);

/// Runs the chosen subcommand against the configured database; writes results to `out`,
/// problems (and, on a terminal, progress) to `err`. Returns the exit code: 0 done, 1 failed,
/// kExitVerificationFailed when a backup does not match its manifest.
int run_storage_command(const StorageCommands& commands, const Config& config, std::ostream& out, std::ostream& err);

/// Backup settings from `[database]` and `[backup]`.
[[nodiscard]] storage::BackupSettings backup_settings(const Config& config);

}  // namespace evolveai::app
