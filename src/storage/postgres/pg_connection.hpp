#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/task.hpp"
#include "storage/records.hpp"

struct pg_conn;
struct pg_result;

namespace evolveai::storage::postgres {

/// A named SQL statement, prepared once per connection on first use.
struct Statement {
  const char* name;
  const char* sql;
};

/// Text-format parameters of one statement ($1, $2, … in order).
class Params {
 public:
  /// Appends the next parameter (NULL for an empty optional).
  Params& add(std::int64_t value);
  Params& add(int value) { return add(static_cast<std::int64_t>(value)); }
  Params& add(bool value);
  Params& add(std::string_view value);
  Params& add(const char* value) { return add(std::string_view(value)); }
  Params& add(const std::string& value) { return add(std::string_view(value)); }
  Params& add(Time value);
  Params& add(std::chrono::sys_days value);
  Params& add_null();
  template <typename T>
  Params& add(const std::optional<T>& value) {
    return value ? add(*value) : add_null();
  }

  /// How many parameters there are.
  [[nodiscard]] int size() const noexcept { return static_cast<int>(values_.size()); }
  /// Pointers for libpq, valid while this object is unchanged.
  [[nodiscard]] const char* const* values() const;

 private:
  std::vector<std::optional<std::string>> values_;
  mutable std::vector<const char*> pointers_;
};

/// One statement's rows (text format), owning its PGresult.
class Result {
 public:
  Result() = default;
  explicit Result(pg_result* result) noexcept : result_(result) {}
  Result(Result&& other) noexcept : result_(std::exchange(other.result_, nullptr)) {}
  Result& operator=(Result&& other) noexcept;
  Result(const Result&) = delete;
  Result& operator=(const Result&) = delete;
  ~Result();

  /// Rows returned.
  [[nodiscard]] int rows() const noexcept;
  /// Rows changed by INSERT/UPDATE/DELETE.
  [[nodiscard]] std::int64_t affected() const;
  /// Typed accessors of one value (text format).
  [[nodiscard]] bool is_null(int row, int column) const;
  [[nodiscard]] std::string_view view(int row, int column) const;
  [[nodiscard]] std::string text(int row, int column) const { return std::string(view(row, column)); }
  [[nodiscard]] std::optional<std::string> optional_text(int row, int column) const;
  [[nodiscard]] std::int64_t int64(int row, int column) const;
  [[nodiscard]] std::optional<std::int64_t> optional_int64(int row, int column) const;
  [[nodiscard]] bool boolean(int row, int column) const;
  [[nodiscard]] double real(int row, int column) const;
  [[nodiscard]] Time time(int row, int column) const;
  [[nodiscard]] std::optional<Time> optional_time(int row, int column) const;
  [[nodiscard]] std::optional<std::chrono::sys_days> optional_day(int row, int column) const;

 private:
  pg_result* result_ = nullptr;
};

/// One query of a pipeline: a statement and its parameters.
struct Query {
  const Statement* statement;
  Params params;
};

/// How to reach the server.
struct ConnectSettings {
  std::string url;  ///< libpq connection URI or key=value string
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds statement_timeout{5000};                  ///< server-side, per statement
  std::vector<std::pair<std::string, std::string>> session_settings;  ///< extra `-c name=value`
};

/// One non-blocking libpq connection driven by Asio: its socket is watched by a
/// stream_descriptor, every call is a coroutine, and statements are sent in pipeline mode
/// so that a batch of queries costs one round trip. Used by one coroutine at a time.
class Connection {
 public:
  /// Connects without blocking; throws StoreError (kConnect) on failure or timeout.
  static Task<std::unique_ptr<Connection>> connect(boost::asio::any_io_executor executor,
                                                   const ConnectSettings& settings);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  /// Sends all queries (preparing statements not yet prepared here) and one sync, then
  /// reads every result: one round trip. Throws StoreError naming `name` when any fails.
  Task<std::vector<Result>> pipeline(std::string_view name, std::span<const Query> queries);
  /// One statement.
  Task<Result> execute(const Statement& statement, const Params& params);
  /// Runs SQL text with the simple protocol (several statements allowed; migrations).
  Task<void> exec_simple(std::string_view name, const std::string& sql);

  /// True once the connection is unusable (lost, timed out, protocol confusion).
  [[nodiscard]] bool broken() const;
  /// True while outside any transaction block (safe to hand to another user).
  [[nodiscard]] bool idle_in_transaction_free() const;
  /// Network round trips made so far (one per pipeline or simple query).
  [[nodiscard]] std::uint64_t round_trips() const noexcept { return round_trips_; }
  /// When this connection last finished a call.
  [[nodiscard]] std::chrono::steady_clock::time_point last_used() const noexcept { return last_used_; }
  /// Marks the connection unusable so that the pool closes it (e.g. it holds a session lock).
  void mark_broken() noexcept { broken_ = true; }
  /// Marks the connection as due for a health check before its next use.
  void mark_suspect() noexcept { last_used_ = {}; }
  /// Also counts this connection's round trips in `counter` (shared by a pool).
  void count_round_trips_in(std::shared_ptr<std::atomic<std::uint64_t>> counter) { counter_ = std::move(counter); }
  /// Client-side limit for one call; statements themselves are bounded by the server.
  void set_call_timeout(std::chrono::milliseconds timeout) noexcept { call_timeout_ = timeout; }

 private:
  Connection(boost::asio::any_io_executor executor, pg_conn* conn);

  void watch_socket();
  Task<void> wait(bool read, bool write, std::chrono::steady_clock::time_point deadline, std::string_view name);
  Task<void> flush(std::chrono::steady_clock::time_point deadline, std::string_view name);
  [[noreturn]] void fail(std::string_view name, std::string_view detail, bool lost);

  boost::asio::any_io_executor executor_;
  pg_conn* conn_ = nullptr;
  boost::asio::posix::stream_descriptor socket_;
  std::unordered_set<std::string> prepared_;
  bool broken_ = false;
  std::uint64_t round_trips_ = 0;
  std::shared_ptr<std::atomic<std::uint64_t>> counter_;
  std::chrono::milliseconds call_timeout_{30000};
  std::chrono::steady_clock::time_point last_used_;
};

/// "YYYY-MM-DD HH:MM:SS.ffffff+00", the text form of a timestamptz parameter.
[[nodiscard]] std::string format_timestamp(Time t);
/// Parses timestamptz output (ISO DateStyle, UTC); throws std::invalid_argument.
[[nodiscard]] Time parse_timestamp(std::string_view text);

}  // namespace evolveai::storage::postgres
