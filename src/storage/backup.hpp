#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "storage/records.hpp"

namespace evolveai::storage {

/// Rows per table, keyed by table name ("users"; "public.users" on PostgreSQL).
using TableCounts = std::map<std::string, std::int64_t, std::less<>>;

/// A backup operation that cannot be done (bad name, missing tool, refused restore, engine
/// failure). The message is meant for the operator.
class BackupError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// How far a long operation is. `total` is 0 when unknown (then `done` is a byte count or
/// an item count, as `unit` says).
struct BackupProgress {
  std::string_view phase;  ///< e.g. "copying pages", "dumping", "restoring"
  std::uint64_t done = 0;
  std::uint64_t total = 0;
  std::string_view unit;  ///< "pages", "bytes", "items", or empty for a step without a measure
};

/// Receives progress reports; may be empty. Called on the thread doing the work.
using BackupProgressFn = std::function<void(const BackupProgress&)>;

/// What every backup knows about itself: its file, and its manifest (a JSON sidecar
/// `<file>.json` written at backup time).
struct BackupInfo {
  std::string name;  ///< file name, e.g. `evolveai-sqlite-20240510T120000.123Z.db`
  std::filesystem::path path;
  std::string dialect;  ///< "sqlite" or "postgres"
  std::uintmax_t bytes = 0;
  Time created_at{};
  bool has_manifest = false;  ///< false: the sidecar is missing or unreadable
  std::string sha256;         ///< of the backup file, lower-case hex (from the manifest)
  TableCounts tables;         ///< rows per table at backup time (from the manifest)
  std::chrono::milliseconds took{0};
};

/// One table whose restored row count differs from the one recorded at backup time.
struct CountMismatch {
  std::string table;
  std::optional<std::int64_t> recorded;  ///< nullopt: the table was not in the manifest
  std::optional<std::int64_t> restored;  ///< nullopt: the table is missing after restoring
};

/// The outcome of `verify`: the backup restored into a scratch database and was compared.
struct VerifyReport {
  BackupInfo backup;
  bool checksum_ok = false;
  TableCounts restored;
  std::vector<CountMismatch> mismatches;
  std::string problem;  ///< why verification failed beyond counts (checksum, integrity), or empty

  /// True when the checksum matched, the restore worked and every count agreed.
  [[nodiscard]] bool ok() const { return checksum_ok && problem.empty() && mismatches.empty(); }
};

/// The outcome of `restore`.
struct RestoreReport {
  BackupInfo backup;
  TableCounts restored;  ///< rows per table in the target after restoring
  std::vector<CountMismatch> mismatches;
};

/// What the engine-specific half of backups does. One implementation per dialect; all calls
/// block (run them on the blocking pool or from the command line).
class BackupEngine {
 public:
  virtual ~BackupEngine() = default;
  /// "sqlite" or "postgres".
  [[nodiscard]] virtual std::string_view dialect() const noexcept = 0;
  /// File name extension of a backup, with the dot (".db", ".dump").
  [[nodiscard]] virtual std::string_view extension() const noexcept = 0;
  /// Writes a consistent copy of the live database to `out` without stopping writers, and
  /// returns the row counts of the very snapshot that was copied.
  virtual TableCounts dump(const std::filesystem::path& out, const BackupProgressFn& progress,
                           const std::stop_token& stop) = 0;
  /// Restores `backup` into a scratch database, returns its row counts, and removes the
  /// scratch database again. Throws BackupError when the backup cannot be restored.
  virtual TableCounts restore_into_scratch(const std::filesystem::path& backup, const BackupProgressFn& progress,
                                           const std::stop_token& stop) = 0;
  /// True when any table of the live database (schema_migrations aside) holds a row.
  virtual bool target_has_data() = 0;
  /// Replaces the live database's contents with `backup`; returns the restored counts.
  virtual TableCounts restore(const std::filesystem::path& backup, const BackupProgressFn& progress,
                              const std::stop_token& stop) = 0;
};

/// Settings of backups, from `[database]` and `[backup]`.
struct BackupSettings {
  std::string database_url;                      ///< `sqlite://…` or `postgresql://…`
  std::filesystem::path dir;                     ///< where backups live; created when missing
  std::filesystem::path pg_bin_dir;              ///< pg_dump / pg_restore; empty: PostgreSQL 15's dir, then PATH
  std::chrono::milliseconds busy_timeout{5000};  ///< SQLite: waiting for another writer
  int sqlite_pages_per_step = 256;               ///< SQLite: pages copied per backup step
  Clock clock;                                   ///< defaults to the system clock
};

/// Creates, lists, verifies, restores and prunes backups of the configured database.
/// Backup files are named `evolveai-<dialect>-<UTC timestamp>.<ext>` and carry a manifest
/// `<file>.json` with the row counts of every table at backup time. All calls block.
class Backups {
 public:
  /// Picks the engine from the URL; throws BackupError for an unknown scheme.
  explicit Backups(const BackupSettings& settings);
  /// Uses a given engine (tests).
  Backups(BackupSettings settings, std::unique_ptr<BackupEngine> engine);
  ~Backups();
  Backups(const Backups&) = delete;
  Backups& operator=(const Backups&) = delete;

  /// The engine's dialect.
  [[nodiscard]] std::string_view dialect() const noexcept;
  /// Takes a backup of the live database (writers keep writing) and writes its manifest.
  BackupInfo create(const BackupProgressFn& progress = {}, const std::stop_token& stop = {});
  /// Every backup in the directory, newest first.
  [[nodiscard]] std::vector<BackupInfo> list() const;
  /// The backup with this file name (or the newest for "latest"); throws BackupError.
  [[nodiscard]] BackupInfo find(std::string_view name) const;
  /// Checks the file's checksum, restores it into a scratch database and compares row counts.
  VerifyReport verify(std::string_view name, const BackupProgressFn& progress = {}, const std::stop_token& stop = {});
  /// Restores a backup into the live database; refuses (BackupError) when it holds data
  /// unless `force`. The backup's checksum is checked first.
  RestoreReport restore(std::string_view name, bool force, const BackupProgressFn& progress = {},
                        const std::stop_token& stop = {});
  /// Deletes backups (and their manifests) created more than `retention` ago; the newest
  /// backup is always kept. Returns the deleted ones.
  std::vector<BackupInfo> prune(std::chrono::days retention);

 private:
  [[nodiscard]] Time now() const;

  BackupSettings settings_;
  std::unique_ptr<BackupEngine> engine_;
};

/// `evolveai-<dialect>-YYYYMMDDTHHMMSS.mmmZ<extension>` for a backup taken at `at`.
[[nodiscard]] std::string backup_file_name(std::string_view dialect, Time at, std::string_view extension);
/// The dialect and time a backup file name carries; nullopt for any other file.
struct ParsedBackupName {
  std::string dialect;
  Time created_at{};
};
[[nodiscard]] std::optional<ParsedBackupName> parse_backup_file_name(std::string_view name);

/// A time as the manifests and the CLI show it: "2024-05-10T12:00:00.123Z" (UTC).
[[nodiscard]] std::string format_backup_time(Time at);

/// The manifest of a backup as JSON text, and back (nullopt when malformed).
[[nodiscard]] std::string manifest_to_json(const BackupInfo& info);
[[nodiscard]] std::optional<BackupInfo> manifest_from_json(std::string_view json);

/// SHA-256 of a file's bytes, lower-case hex; throws BackupError when unreadable.
[[nodiscard]] std::string file_sha256(const std::filesystem::path& path);

/// The tables whose counts differ between a manifest and a restored database.
[[nodiscard]] std::vector<CountMismatch> compare_counts(const TableCounts& recorded, const TableCounts& restored);

/// The engine for a database URL; throws BackupError for an unknown scheme.
[[nodiscard]] std::unique_ptr<BackupEngine> make_backup_engine(const BackupSettings& settings);

}  // namespace evolveai::storage
