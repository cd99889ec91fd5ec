#include "storage/sqlite/sqlite_db.hpp"

#include <sqlite3.h>

#include <string>

#include "storage/store_error.hpp"

namespace evolveai::storage::sqlite {

void throw_sqlite_error(int code, std::string_view statement, std::string_view detail) {
  StoreErrorKind kind = StoreErrorKind::kOther;
  switch (code & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED: kind = StoreErrorKind::kTransient; break;
    case SQLITE_CONSTRAINT: kind = StoreErrorKind::kConstraint; break;
    case SQLITE_CANTOPEN: kind = StoreErrorKind::kConnect; break;
    default: break;
  }
  throw StoreError(kind, std::string(statement), std::string(detail) + " (" + sqlite3_errstr(code) + ")",
                   std::to_string(code));
}

Statement::Statement(sqlite3_stmt* stmt, std::string_view name) : stmt_(stmt), name_(name) {}

Statement::~Statement() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

namespace {
void check_bind(int rc, sqlite3_stmt* stmt, std::string_view name) {
  if (rc != SQLITE_OK)
    throw_sqlite_error(rc, name, sqlite3_errmsg(sqlite3_db_handle(stmt)));
}
}  // namespace

Statement& Statement::bind(int index, std::int64_t value) {
  check_bind(sqlite3_bind_int64(stmt_, index, value), stmt_, name_);
  return *this;
}

Statement& Statement::bind(int index, std::string_view value) {
  check_bind(sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8), stmt_,
             name_);
  return *this;
}

Statement& Statement::bind(int index, double value) {
  check_bind(sqlite3_bind_double(stmt_, index, value), stmt_, name_);
  return *this;
}

Statement& Statement::bind_null(int index) {
  check_bind(sqlite3_bind_null(stmt_, index), stmt_, name_);
  return *this;
}

bool Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW)
    return true;
  if (rc == SQLITE_DONE)
    return false;
  throw_sqlite_error(rc, name_, sqlite3_errmsg(sqlite3_db_handle(stmt_)));
}

void Statement::run() {
  while (step()) {
  }
}

bool Statement::is_null(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

std::int64_t Statement::int64(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

double Statement::real(int column) const {
  return sqlite3_column_double(stmt_, column);
}

std::string Statement::text(int column) const {
  const auto* data = sqlite3_column_text(stmt_, column);
  const int size = sqlite3_column_bytes(stmt_, column);
  return data ? std::string(reinterpret_cast<const char*>(data), static_cast<std::size_t>(size)) : std::string();
}

std::optional<std::string> Statement::optional_text(int column) const {
  if (is_null(column))
    return std::nullopt;
  return text(column);
}

std::optional<std::int64_t> Statement::optional_int64(int column) const {
  if (is_null(column))
    return std::nullopt;
  return int64(column);
}

Connection::Connection(const std::filesystem::path& path, bool create, std::chrono::milliseconds busy_timeout) {
  const int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    const std::string detail = db_ ? sqlite3_errmsg(db_) : "cannot open";
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw_sqlite_error(rc, "sqlite.open", detail + ": " + path.string());
  }
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, static_cast<int>(busy_timeout.count()));
  try {
    exec("sqlite.pragmas",
         "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; "
         "PRAGMA temp_store = MEMORY;");
  } catch (...) {
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw;
  }
}

Connection::~Connection() {
  for (auto& [sql, stmt] : cache_)
    sqlite3_finalize(stmt);
  sqlite3_close_v2(db_);
}

void Connection::exec(std::string_view name, const std::string& sql) {
  char* error = nullptr;
  const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error);
  if (rc != SQLITE_OK) {
    std::string detail = error ? error : sqlite3_errmsg(db_);
    sqlite3_free(error);
    throw_sqlite_error(rc, name, detail);
  }
}

Statement Connection::prepare(std::string_view name, const char* sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* stmt = nullptr;
    const int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK)
      throw_sqlite_error(rc, name, sqlite3_errmsg(db_));
    it = cache_.emplace(sql, stmt).first;
  }
  return Statement(it->second, name);
}

std::int64_t Connection::changes() const {
  return sqlite3_changes64(db_);
}

Transaction::Transaction(Connection& connection, bool exclusive) : connection_(connection) {
  connection_.exec("sqlite.begin", exclusive ? "BEGIN EXCLUSIVE" : "BEGIN IMMEDIATE");
}

Transaction::~Transaction() {
  if (!done_)
    sqlite3_exec(connection_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void Transaction::commit() {
  connection_.exec("sqlite.commit", "COMMIT");
  done_ = true;
}

}  // namespace evolveai::storage::sqlite
