#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "storage/backup.hpp"
#include "storage/backup_process.hpp"

namespace evolveai::storage {

/// A PostgreSQL connection string split for child processes: every option but the password
/// as a key=value string, and the password apart (it goes into PGPASSWORD, never argv).
struct PgTarget {
  std::vector<std::pair<std::string, std::string>> options;  ///< libpq keywords and values
  std::string password;

  /// Parses a URL or key=value string with libpq's own parser; throws BackupError.
  static PgTarget parse(const std::string& url);
  /// The key=value connection string without the password, with `dbname` replaced when given.
  [[nodiscard]] std::string conninfo(const std::string& dbname = {}) const;
  /// The database the URL names (empty: libpq's default).
  [[nodiscard]] std::string dbname() const;
};

/// `pg_dump -Fc` of the target from an exported snapshot into `out`.
[[nodiscard]] backup_process::ChildCommand pg_dump_command(const std::filesystem::path& program, const PgTarget& target,
                                                           const std::string& snapshot,
                                                           const std::filesystem::path& out);
/// `pg_restore` of `backup` into `dbname` (`clean`: drop what the dump recreates first).
[[nodiscard]] backup_process::ChildCommand pg_restore_command(const std::filesystem::path& program,
                                                              const PgTarget& target, const std::string& dbname,
                                                              const std::filesystem::path& backup, bool clean);

/// Backups of the PostgreSQL engine with `pg_dump -Fc` and `pg_restore`. The dump reads a
/// snapshot exported by a repeatable-read transaction that also counts the rows, so the
/// counts describe exactly what was dumped; writers are never blocked.
class PgBackupEngine final : public BackupEngine {
 public:
  /// `bin_dir` holds pg_dump and pg_restore; empty: PostgreSQL 15's directory, then PATH.
  PgBackupEngine(const std::string& url, std::filesystem::path bin_dir);

  [[nodiscard]] std::string_view dialect() const noexcept override { return "postgres"; }
  [[nodiscard]] std::string_view extension() const noexcept override { return ".dump"; }
  TableCounts dump(const std::filesystem::path& out, const BackupProgressFn& progress,
                   const std::stop_token& stop) override;
  TableCounts restore_into_scratch(const std::filesystem::path& backup, const BackupProgressFn& progress,
                                   const std::stop_token& stop) override;
  bool target_has_data() override;
  TableCounts restore(const std::filesystem::path& backup, const BackupProgressFn& progress,
                      const std::stop_token& stop) override;

 private:
  [[nodiscard]] std::filesystem::path tool(std::string_view name) const;
  void run_restore(const std::filesystem::path& backup, const std::string& dbname, bool clean, std::string_view phase,
                   const BackupProgressFn& progress, const std::stop_token& stop);

  PgTarget target_;
  std::filesystem::path bin_dir_;
};

}  // namespace evolveai::storage
