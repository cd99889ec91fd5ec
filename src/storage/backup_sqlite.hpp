#pragma once

#include <chrono>
#include <filesystem>

#include "storage/backup.hpp"

namespace evolveai::storage {

/// Backups of the embedded engine with SQLite's online backup API. The copy is made in
/// steps inside one read transaction of its own connection: in WAL mode writers go on
/// writing, the copy is one consistent snapshot and the row counts come from that same
/// snapshot.
class SqliteBackupEngine final : public BackupEngine {
 public:
  /// `database` is the live file; `pages_per_step` bounds each copy step.
  SqliteBackupEngine(std::filesystem::path database, std::chrono::milliseconds busy_timeout, int pages_per_step);

  [[nodiscard]] std::string_view dialect() const noexcept override { return "sqlite"; }
  [[nodiscard]] std::string_view extension() const noexcept override { return ".db"; }
  TableCounts dump(const std::filesystem::path& out, const BackupProgressFn& progress,
                   const std::stop_token& stop) override;
  TableCounts restore_into_scratch(const std::filesystem::path& backup, const BackupProgressFn& progress,
                                   const std::stop_token& stop) override;
  bool target_has_data() override;
  TableCounts restore(const std::filesystem::path& backup, const BackupProgressFn& progress,
                      const std::stop_token& stop) override;

 private:
  std::filesystem::path database_;
  std::chrono::milliseconds busy_timeout_;
  int pages_per_step_;
};

}  // namespace evolveai::storage
