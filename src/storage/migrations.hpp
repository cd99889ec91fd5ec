#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/task.hpp"
#include "storage/records.hpp"

namespace evolveai::storage {

/// One numbered migration of one dialect.
struct Migration {
  int version = 0;
  std::string name;  ///< the file name, e.g. `0001_initial.sql`
  std::string sql;
  std::string checksum;  ///< SHA-256 of the text, lower-case hex
};

/// A migration as recorded in `schema_migrations`.
struct AppliedMigration {
  int version = 0;
  std::string name;
  std::string checksum;
  Time applied_at{};
};

/// Where a migration stands against a database.
enum class MigrationState {
  kApplied,  ///< recorded with the same checksum
  kPending,  ///< known to this binary, not applied yet
  kChanged,  ///< recorded with another checksum: the file was edited after it was applied
  kUnknown,  ///< recorded, but this binary does not know it (a newer binary applied it)
};

/// One line of `evolveai migrate status`.
struct MigrationStatus {
  int version = 0;
  std::string name;
  MigrationState state = MigrationState::kPending;
  std::optional<Time> applied_at;
};

/// Migrations that cannot be applied: an applied file was changed, files are misnamed, etc.
class MigrationError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The stable name of a state ("applied", "pending", "changed", "unknown").
[[nodiscard]] const char* to_string(MigrationState state) noexcept;

/// SHA-256 of `text` as lower-case hex.
[[nodiscard]] std::string migration_checksum(std::string_view text);

/// The embedded migrations of `dialect` in version order; throws MigrationError when a file
/// name is not `NNNN_name.sql` or two files share a version.
[[nodiscard]] std::vector<Migration> migrations_for(std::string_view dialect);

/// Parses and checks (name, sql) pairs the same way; exposed for tests.
[[nodiscard]] std::vector<Migration> make_migrations(const std::vector<std::pair<std::string, std::string>>& files,
                                                     std::string_view dialect);

/// Compares known migrations with recorded ones, ordered by version.
[[nodiscard]] std::vector<MigrationStatus> compare_migrations(const std::vector<Migration>& known,
                                                              const std::vector<AppliedMigration>& applied);

/// What an engine provides so that the Migrator can run against it.
class MigrationDriver {
 public:
  virtual ~MigrationDriver() = default;
  /// Serialises migrating nodes (advisory lock, exclusive transaction); creates
  /// `schema_migrations` if missing.
  virtual Task<void> lock() = 0;
  /// Releases what lock() took.
  virtual Task<void> unlock() = 0;
  /// The recorded migrations.
  virtual Task<std::vector<AppliedMigration>> applied() = 0;
  /// Runs the migration and records it, in one transaction; false when another node
  /// recorded it meanwhile (nothing was done).
  virtual Task<bool> apply(const Migration& migration, Time now) = 0;
};

/// Applies pending migrations one transaction each, refusing to run when an applied
/// migration was changed (the error names the file).
class Migrator {
 public:
  Migrator(MigrationDriver& driver, std::string dialect, std::vector<Migration> known, Clock clock);

  /// The state of every migration.
  Task<std::vector<MigrationStatus>> status();
  /// Applies every pending migration; returns those applied by this call.
  Task<std::vector<MigrationStatus>> up();

 private:
  MigrationDriver& driver_;
  std::string dialect_;
  std::vector<Migration> known_;
  Clock clock_;
};

}  // namespace evolveai::storage
