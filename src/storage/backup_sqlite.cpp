#include "storage/backup_sqlite.hpp"

#include <sqlite3.h>
#include <stdlib.h>  // mkdtemp

#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace evolveai::storage {
namespace {

namespace fs = std::filesystem;

/// Waits between retries of a busy step.
constexpr auto kBusyPause = std::chrono::milliseconds(20);

/// One raw SQLite connection, closed on scope exit.
class Db {
 public:
  Db(const fs::path& path, int flags, std::chrono::milliseconds busy_timeout) {
    const int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
    if (rc != SQLITE_OK) {
      const std::string detail = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
      sqlite3_close_v2(db_);
      db_ = nullptr;
      throw BackupError("cannot open " + path.string() + ": " + detail);
    }
    sqlite3_busy_timeout(db_, static_cast<int>(busy_timeout.count()));
    sqlite3_extended_result_codes(db_, 1);
  }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db() { sqlite3_close_v2(db_); }

  [[nodiscard]] sqlite3* get() const noexcept { return db_; }

  void exec(const std::string& sql) {
    char* error = nullptr;
    const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error);
    const std::string detail = error != nullptr ? error : sqlite3_errstr(rc);
    sqlite3_free(error);
    if (rc != SQLITE_OK)
      throw BackupError("SQLite: " + detail + " (" + sql + ")");
  }

  /// The first column of every row of `sql`, as text.
  std::vector<std::string> column(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      throw BackupError(std::string("SQLite: ") + sqlite3_errmsg(db_) + " (" + sql + ")");
    }
    std::vector<std::string> out;
    int rc = SQLITE_OK;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      const auto* text = sqlite3_column_text(stmt, 0);
      out.emplace_back(text != nullptr ? reinterpret_cast<const char*>(text) : "");
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE)
      throw BackupError(std::string("SQLite: ") + sqlite3_errmsg(db_) + " (" + sql + ")");
    return out;
  }

  std::int64_t integer(const std::string& sql) {
    const auto rows = column(sql);
    if (rows.empty())
      throw BackupError("SQLite: no result (" + sql + ")");
    return std::stoll(rows.front());
  }

 private:
  sqlite3* db_ = nullptr;
};

std::string quote_identifier(std::string_view identifier) {
  std::string out = "\"";
  for (char c : identifier) {
    if (c == '"')
      out += '"';
    out += c;
  }
  out += '"';
  return out;
}

/// Ordinary tables (not SQLite's own, not virtual tables or their shadow tables).
std::vector<std::string> user_tables(Db& db) {
  return db.column(
      "SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'table' "
      "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name");
}

TableCounts count_rows(Db& db) {
  TableCounts counts;
  for (const auto& table : user_tables(db))
    counts.emplace(table, db.integer("SELECT count(*) FROM " + quote_identifier(table)));
  return counts;
}

/// Copies every page of `from` into `to` in steps of `pages` (-1: one step), reporting progress.
void copy_pages(Db& from, Db& to, int pages, std::string_view phase, std::chrono::milliseconds busy_timeout,
                const BackupProgressFn& progress, const std::stop_token& stop) {
  sqlite3_backup* backup = sqlite3_backup_init(to.get(), "main", from.get(), "main");
  if (backup == nullptr)
    throw BackupError(std::string("SQLite backup: ") + sqlite3_errmsg(to.get()));
  auto busy_since = std::chrono::steady_clock::time_point{};
  for (;;) {
    if (stop.stop_requested()) {
      sqlite3_backup_finish(backup);
      throw BackupError("cancelled");
    }
    const int rc = sqlite3_backup_step(backup, pages);
    const auto total = static_cast<std::uint64_t>(sqlite3_backup_pagecount(backup));
    const auto left = static_cast<std::uint64_t>(sqlite3_backup_remaining(backup));
    if (progress)
      progress(BackupProgress{phase, total - std::min(total, left), total, "pages"});
    if (rc == SQLITE_DONE)
      break;
    if (rc == SQLITE_OK) {
      busy_since = {};
      continue;
    }
    const int primary = rc & 0xff;
    if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
      const auto now = std::chrono::steady_clock::now();
      if (busy_since == std::chrono::steady_clock::time_point{})
        busy_since = now;
      if (now - busy_since < busy_timeout) {
        std::this_thread::sleep_for(kBusyPause);
        continue;
      }
    }
    sqlite3_backup_finish(backup);
    throw BackupError(std::string("SQLite backup step failed: ") + sqlite3_errstr(rc));
  }
  if (const int rc = sqlite3_backup_finish(backup); rc != SQLITE_OK) {
    throw BackupError(std::string("SQLite backup failed: ") + sqlite3_errstr(rc));
  }
}

/// A private temporary directory, removed with everything in it on scope exit.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (fs::temp_directory_path() / "evolveai-verify-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr)
      throw BackupError("cannot create a scratch directory");
    path_ = pattern;
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ~ScratchDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  [[nodiscard]] const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

}  // namespace

SqliteBackupEngine::SqliteBackupEngine(fs::path database, std::chrono::milliseconds busy_timeout, int pages_per_step)
    : database_(std::move(database)), busy_timeout_(busy_timeout), pages_per_step_(std::max(1, pages_per_step)) {}

TableCounts SqliteBackupEngine::dump(const fs::path& out, const BackupProgressFn& progress,
                                     const std::stop_token& stop) {
  if (!fs::exists(database_))
    throw BackupError("the database file " + database_.string() + " does not exist");
  Db source(database_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, busy_timeout_);
  // One read transaction over the counts and every copy step: the backup never restarts
  // because of a concurrent write, and the counts describe exactly the copied snapshot.
  // In WAL mode (the store's mode) a reader does not block writers.
  source.exec("BEGIN");
  try {
    source.integer("SELECT count(*) FROM sqlite_schema");  // starts the read transaction's snapshot
    auto counts = count_rows(source);
    {
      std::error_code ignored;
      fs::remove(out, ignored);
      Db target(out, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, busy_timeout_);
      copy_pages(source, target, pages_per_step_, "copying pages", busy_timeout_, progress, stop);
      // A backup is one self-contained file, whatever mode the live database uses.
      target.column("PRAGMA journal_mode = DELETE");
    }
    source.exec("COMMIT");
    return counts;
  } catch (...) {
    sqlite3_exec(source.get(), "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

TableCounts SqliteBackupEngine::restore_into_scratch(const fs::path& backup, const BackupProgressFn& progress,
                                                     const std::stop_token& stop) {
  ScratchDir scratch;
  Db source(backup, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, busy_timeout_);
  Db target(scratch.path() / "verify.db", SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
            busy_timeout_);
  copy_pages(source, target, pages_per_step_, "restoring into a scratch database", busy_timeout_, progress, stop);
  if (progress)
    progress(BackupProgress{"checking integrity", 0, 0, ""});
  const auto problems = target.column("PRAGMA integrity_check");
  if (problems.size() != 1 || problems.front() != "ok") {
    std::string text;
    for (const auto& line : problems)
      text += (text.empty() ? "" : "; ") + line;
    throw BackupError("integrity check failed: " + text);
  }
  if (progress)
    progress(BackupProgress{"counting rows", 0, 0, ""});
  return count_rows(target);
}

bool SqliteBackupEngine::target_has_data() {
  std::error_code ec;
  if (!fs::exists(database_, ec) || fs::file_size(database_, ec) == 0)
    return false;
  Db db(database_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, busy_timeout_);
  for (const auto& table : user_tables(db)) {
    if (table == "schema_migrations")
      continue;
    if (db.integer("SELECT EXISTS (SELECT 1 FROM " + quote_identifier(table) + ")") != 0)
      return true;
  }
  return false;
}

TableCounts SqliteBackupEngine::restore(const fs::path& backup, const BackupProgressFn& progress,
                                        const std::stop_token& stop) {
  if (!database_.parent_path().empty())
    fs::create_directories(database_.parent_path());
  Db source(backup, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, busy_timeout_);
  Db target(database_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, busy_timeout_);
  // One step: other connections see the old contents or the new ones, never a mix.
  copy_pages(source, target, -1, "restoring", busy_timeout_, progress, stop);
  target.column("PRAGMA journal_mode = WAL");
  if (progress)
    progress(BackupProgress{"counting rows", 0, 0, ""});
  return count_rows(target);
}

}  // namespace evolveai::storage
