#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

struct sqlite3;
struct sqlite3_stmt;

namespace evolveai::storage::sqlite {

/// A prepared statement borrowed from a connection's cache; reset and unbound when it goes
/// out of scope. Parameters and columns are 1-based and 0-based, as in SQLite.
class Statement {
 public:
  Statement(sqlite3_stmt* stmt, std::string_view name);
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  /// Binds a value (or NULL for an empty optional) to parameter `index`.
  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, std::string_view value);
  Statement& bind(int index, const char* value) { return bind(index, std::string_view(value)); }
  Statement& bind(int index, const std::string& value) { return bind(index, std::string_view(value)); }
  Statement& bind(int index, double value);
  Statement& bind(int index, bool value) { return bind(index, static_cast<std::int64_t>(value ? 1 : 0)); }
  Statement& bind_null(int index);
  template <typename T>
  Statement& bind(int index, const std::optional<T>& value) {
    return value ? bind(index, *value) : bind_null(index);
  }

  /// Advances; true while a row is available. Throws StoreError on failure.
  bool step();
  /// Steps to completion, for statements without rows.
  void run();

  /// Column accessors of the current row.
  [[nodiscard]] bool is_null(int column) const;
  [[nodiscard]] std::int64_t int64(int column) const;
  [[nodiscard]] double real(int column) const;
  [[nodiscard]] std::string text(int column) const;
  [[nodiscard]] std::optional<std::string> optional_text(int column) const;
  [[nodiscard]] std::optional<std::int64_t> optional_int64(int column) const;

 private:
  sqlite3_stmt* stmt_;
  std::string_view name_;
};

/// One SQLite connection with its cache of prepared statements. Not thread-safe: one user
/// at a time (the store's writer lock or reader pool guarantees it).
class Connection {
 public:
  /// Opens (creating if asked) the database file with WAL, foreign keys and a busy timeout.
  Connection(const std::filesystem::path& path, bool create, std::chrono::milliseconds busy_timeout);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  /// Runs SQL text without results (may hold several statements).
  void exec(std::string_view name, const std::string& sql);
  /// The cached prepared statement for `sql` (compared by address: pass string constants).
  Statement prepare(std::string_view name, const char* sql);
  /// Rows changed by the last statement.
  [[nodiscard]] std::int64_t changes() const;
  /// The raw handle, for backups and pragmas.
  [[nodiscard]] sqlite3* handle() const noexcept { return db_; }

 private:
  sqlite3* db_ = nullptr;
  std::unordered_map<const char*, sqlite3_stmt*> cache_;
};

/// BEGIN IMMEDIATE … COMMIT, rolled back when left without commit().
class Transaction {
 public:
  explicit Transaction(Connection& connection, bool exclusive = false);
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();
  /// Commits; afterwards the destructor does nothing.
  void commit();

 private:
  Connection& connection_;
  bool done_ = false;
};

/// Throws the StoreError matching an SQLite result code.
[[noreturn]] void throw_sqlite_error(int code, std::string_view statement, std::string_view detail);

}  // namespace evolveai::storage::sqlite
