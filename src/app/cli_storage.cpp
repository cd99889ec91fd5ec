#include "app/cli_storage.hpp"

#include <unistd.h>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <array>
#include <cstdio>
#include <iomanip>
#include <ostream>
#include <sstream>

#include "app/command_store.hpp"
#include "app/store_wiring.hpp"
#include "net/blocking_pool.hpp"
#include "storage/migrations.hpp"
#include "storage/open_store.hpp"
#include "storage/store.hpp"

namespace evolveai::app {
namespace {

/// Progress lines are redrawn at most this often.
constexpr auto kRedrawEvery = std::chrono::milliseconds(100);

std::string human_size(std::uintmax_t bytes) {
  static constexpr std::array<const char*, 5> kUnits = {"B", "KiB", "MiB", "GiB", "TiB"};
  auto value = static_cast<double>(bytes);
  std::size_t unit = 0;
  while (value >= 1024 && unit + 1 < kUnits.size()) {
    value /= 1024;
    ++unit;
  }
  std::array<char, 32> text{};
  if (unit == 0) {
    std::snprintf(text.data(), text.size(), "%ju B", bytes);
  } else {
    std::snprintf(text.data(), text.size(), "%.1f %s", value, kUnits[unit]);
  }
  return text.data();
}

std::string count_text(const std::optional<std::int64_t>& count) {
  return count ? std::to_string(*count) : std::string("(missing)");
}

/// Draws progress on one terminal line, only when standard error is a terminal.
class TerminalProgress {
 public:
  TerminalProgress(std::ostream& err, bool wanted) : err_(err), enabled_(wanted && ::isatty(STDERR_FILENO) == 1) {}
  TerminalProgress(const TerminalProgress&) = delete;
  TerminalProgress& operator=(const TerminalProgress&) = delete;
  ~TerminalProgress() { finish(); }

  /// The callback handed to the backup calls.
  storage::BackupProgressFn callback() {
    if (!enabled_)
      return {};
    return [this](const storage::BackupProgress& p) { draw(p); };
  }

  /// Ends the progress line so that the next output starts on a fresh one.
  void finish() {
    if (drawn_)
      err_ << "\r\033[K" << std::flush;
    drawn_ = false;
  }

 private:
  void draw(const storage::BackupProgress& p) {
    const auto now = std::chrono::steady_clock::now();
    const bool complete = p.total > 0 && p.done >= p.total;
    if (p.phase == phase_ && !complete && now - last_ < kRedrawEvery)
      return;
    last_ = now;
    phase_ = p.phase;
    std::ostringstream line;
    line << p.phase;
    if (p.total > 0) {
      const auto percent = p.done * 100 / p.total;
      line << ": " << percent << "% (" << p.done << "/" << p.total << " " << p.unit << ")";
    } else if (p.unit == "bytes") {
      line << ": " << human_size(p.done);
    } else if (p.done > 0) {
      line << ": " << p.done << " " << p.unit;
    }
    line << "  " << std::chrono::duration_cast<std::chrono::seconds>(now - started_).count() << "s";
    err_ << "\r\033[K" << line.str() << std::flush;
    drawn_ = true;
  }

  std::ostream& err_;
  bool enabled_;
  bool drawn_ = false;
  std::string phase_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_{};
};

int migrate_up(const Config& config, std::ostream& out, std::ostream& err) {
  CommandStore command(config);
  try {
    const auto applied = command.run(command.store().migrate_up());
    if (applied.empty()) {
      out << "database is up to date (" << command.store().dialect() << ")\n";
    }
    for (const auto& m : applied)
      out << "applied " << m.name << "\n";
    return 0;
  } catch (const storage::MigrationError& error) {
    err << "evolveai: migrations cannot be applied: " << error.what() << "\n";
    return 1;
  }
}

int migrate_status(const Config& config, std::ostream& out, std::ostream& err) {
  CommandStore command(config);
  std::vector<storage::MigrationStatus> status;
  try {
    status = command.run(command.store().migration_status());
  } catch (const storage::MigrationError& error) {
    err << "evolveai: " << error.what() << "\n";
    return 1;
  }
  const auto known = storage::migrations_for(command.store().dialect());
  std::size_t name_width = 4;
  for (const auto& m : status)
    name_width = std::max(name_width, m.name.size());
  out << std::left << std::setw(8) << "VERSION" << std::setw(static_cast<int>(name_width) + 2) << "NAME" << std::setw(9)
      << "STATE" << std::setw(66) << "CHECKSUM"
      << "APPLIED_AT\n";
  int changed = 0;
  for (const auto& m : status) {
    std::string checksum = "-";
    for (const auto& k : known) {
      if (k.version == m.version)
        checksum = k.checksum;
    }
    if (m.state == storage::MigrationState::kChanged)
      ++changed;
    std::ostringstream version;
    version << std::setw(4) << std::setfill('0') << std::right << m.version;
    out << std::left << std::setw(8) << version.str() << std::setw(static_cast<int>(name_width) + 2) << m.name
        << std::setw(9) << storage::to_string(m.state) << std::setw(66) << checksum
        << (m.applied_at ? storage::format_backup_time(*m.applied_at) : std::string("-")) << "\n";
  }
  const auto pending = std::count_if(status.begin(), status.end(),
                                     [](const auto& m) { return m.state == storage::MigrationState::kPending; });
  out << status.size() << " migrations, " << pending << " pending (" << command.store().dialect() << ")\n";
  if (changed > 0) {
    err << "evolveai: " << changed
        << " applied migration(s) were changed after they were applied (state \"changed\"); the checksum shown is "
           "the file's\n";
    return 1;
  }
  return 0;
}

void print_counts(std::ostream& out, const storage::TableCounts& recorded, const storage::TableCounts& restored) {
  std::size_t width = 5;
  for (const auto& [table, rows] : recorded)
    width = std::max(width, table.size());
  for (const auto& [table, rows] : restored)
    width = std::max(width, table.size());
  out << "  " << std::left << std::setw(static_cast<int>(width) + 2) << "TABLE" << std::setw(12) << "RECORDED"
      << "RESTORED\n";
  storage::TableCounts all = recorded;
  all.insert(restored.begin(), restored.end());
  for (const auto& [table, rows] : all) {
    const auto r = recorded.find(table);
    const auto s = restored.find(table);
    const std::optional<std::int64_t> recorded_rows =
        r == recorded.end() ? std::nullopt : std::optional<std::int64_t>(r->second);
    const std::optional<std::int64_t> restored_rows =
        s == restored.end() ? std::nullopt : std::optional<std::int64_t>(s->second);
    out << "  " << std::left << std::setw(static_cast<int>(width) + 2) << table << std::setw(12)
        << count_text(recorded_rows) << count_text(restored_rows)
        << (recorded_rows != restored_rows ? "  <- differs" : "") << "\n";
  }
}

int backup_create(const Config& config, bool progress_wanted, std::ostream& out, std::ostream& err) {
  storage::Backups backups(backup_settings(config));
  TerminalProgress progress(err, progress_wanted);
  const auto info = backups.create(progress.callback());
  progress.finish();
  std::int64_t rows = 0;
  for (const auto& [table, count] : info.tables)
    rows += count;
  out << "created " << info.path.string() << " (" << human_size(info.bytes) << ", " << info.tables.size() << " tables, "
      << rows << " rows, " << info.took.count() << " ms)\n";
  return 0;
}

int backup_list(const Config& config, std::ostream& out) {
  storage::Backups backups(backup_settings(config));
  const auto all = backups.list();
  if (all.empty()) {
    out << "no backups in " << config.backup.dir << "\n";
    return 0;
  }
  std::size_t width = 4;
  for (const auto& b : all)
    width = std::max(width, b.name.size());
  out << std::left << std::setw(static_cast<int>(width) + 2) << "NAME" << std::setw(12) << "SIZE" << std::setw(27)
      << "CREATED (UTC)"
      << "TABLES\n";
  for (const auto& b : all) {
    out << std::left << std::setw(static_cast<int>(width) + 2) << b.name << std::setw(12) << human_size(b.bytes)
        << std::setw(27) << storage::format_backup_time(b.created_at)
        << (b.has_manifest ? std::to_string(b.tables.size()) : std::string("no manifest")) << "\n";
  }
  return 0;
}

int backup_verify(const Config& config, const std::string& name, bool progress_wanted, std::ostream& out,
                  std::ostream& err) {
  storage::Backups backups(backup_settings(config));
  TerminalProgress progress(err, progress_wanted);
  const auto report = backups.verify(name, progress.callback());
  progress.finish();
  out << "backup " << report.backup.name << " (" << human_size(report.backup.bytes) << ", taken "
      << storage::format_backup_time(report.backup.created_at) << ")\n";
  if (!report.problem.empty()) {
    out << "FAILED: " << report.problem << "\n";
    return kExitVerificationFailed;
  }
  print_counts(out, report.backup.tables, report.restored);
  if (!report.ok()) {
    out << "FAILED: " << report.mismatches.size() << " table(s) differ from the counts recorded at backup time\n";
    return kExitVerificationFailed;
  }
  out << "OK: restored into a scratch database; " << report.restored.size() << " tables match the manifest\n";
  return 0;
}

int backup_restore(const Config& config, const std::string& name, bool force, bool progress_wanted, std::ostream& out,
                   std::ostream& err) {
  storage::Backups backups(backup_settings(config));
  TerminalProgress progress(err, progress_wanted);
  const auto report = backups.restore(name, force, progress.callback());
  progress.finish();
  out << "restored " << report.backup.name << " (" << report.restored.size() << " tables)\n";
  if (!report.mismatches.empty()) {
    print_counts(out, report.backup.tables, report.restored);
    out << "FAILED: " << report.mismatches.size() << " table(s) differ from the counts recorded at backup time\n";
    return kExitVerificationFailed;
  }
  return 0;
}

int backup_prune(const Config& config, std::ostream& out) {
  storage::Backups backups(backup_settings(config));
  const auto deleted = backups.prune(std::chrono::days(config.backup.retention_days));
  for (const auto& b : deleted)
    out << "deleted " << b.name << "\n";
  out << deleted.size() << " backup(s) older than " << config.backup.retention_days << " days deleted\n";
  return 0;
}

}  // namespace

bool StorageCommands::chosen() const {
  for (const auto* command :
       {migrate_up, migrate_status, backup_create, backup_list, backup_verify, backup_restore, backup_prune}) {
    if (command != nullptr && command->parsed())
      return true;
  }
  return false;
}

void add_storage_commands(CLI::App& cli, StorageCommands& commands) {
  const auto config_option = [&commands](CLI::App* command) {
    command->add_option("-c,--config", commands.config_path, "TOML configuration file");
  };
  auto* migrate = cli.add_subcommand("migrate", "Apply or show database schema migrations");
  migrate->require_subcommand(1);
  commands.migrate_up = migrate->add_subcommand("up", "Apply every pending migration");
  commands.migrate_status = migrate->add_subcommand(
      "status", "List migrations: version, name, state (applied, pending, changed, unknown), checksum, applied_at");
  config_option(commands.migrate_up);
  config_option(commands.migrate_status);

  auto* backup = cli.add_subcommand("backup", "Online backups of the database, kept in backup.dir");
  backup->require_subcommand(1);
  commands.backup_create = backup->add_subcommand("create", "Take a backup while the service keeps serving");
  commands.backup_list = backup->add_subcommand("list", "List backups: name, size, time");
  commands.backup_verify = backup->add_subcommand(
      "verify", "Restore a backup into a scratch database and compare row counts (exit 3 on a mismatch)");
  commands.backup_restore =
      backup->add_subcommand("restore", "Restore a backup into the configured database (stop the service first)");
  commands.backup_prune =
      backup->add_subcommand("prune", "Delete backups older than backup.retention_days (the newest is kept)");
  for (auto* command : {commands.backup_create, commands.backup_list, commands.backup_verify, commands.backup_restore,
                        commands.backup_prune}) {
    config_option(command);
  }
  for (auto* command : {commands.backup_create, commands.backup_verify, commands.backup_restore}) {
    command->add_flag("--no-progress", commands.no_progress, "Do not draw progress on the terminal");
  }
  commands.backup_verify->add_option("name", commands.backup_name, "Backup file name (see `backup list`) or latest")
      ->required();
  commands.backup_restore->add_option("name", commands.backup_name, "Backup file name (see `backup list`) or latest")
      ->required();
  commands.backup_restore->add_flag("--force", commands.force, "Overwrite a database that already holds data");
}

int run_storage_command(const StorageCommands& commands, const Config& config, std::ostream& out, std::ostream& err) {
  const bool progress = !commands.no_progress;
  try {
    if (commands.migrate_up->parsed())
      return migrate_up(config, out, err);
    if (commands.migrate_status->parsed())
      return migrate_status(config, out, err);
    if (commands.backup_create->parsed())
      return backup_create(config, progress, out, err);
    if (commands.backup_list->parsed())
      return backup_list(config, out);
    if (commands.backup_verify->parsed())
      return backup_verify(config, commands.backup_name, progress, out, err);
    if (commands.backup_restore->parsed()) {
      return backup_restore(config, commands.backup_name, commands.force, progress, out, err);
    }
    if (commands.backup_prune->parsed())
      return backup_prune(config, out);
  } catch (const storage::BackupError& error) {
    err << "evolveai: " << error.what() << "\n";
    return 1;
  }
  return 1;
}

storage::BackupSettings backup_settings(const Config& config) {
  storage::BackupSettings settings;
  settings.database_url = config.database.url;
  settings.dir = config.backup.dir.empty() ? std::filesystem::path(config.server.data_dir) / "backups"
                                           : std::filesystem::path(config.backup.dir);
  settings.busy_timeout = config.database.statement_timeout;
  return settings;
}

}  // namespace evolveai::app
