#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace evolveai::storage {

/// Why a database call failed, as far as retrying and reporting care.
enum class StoreErrorKind {
  kTransient,       ///< serialization failure, deadlock, busy database: safe to retry
  kConnect,         ///< no connection could be made; nothing was sent
  kConnectionLost,  ///< the connection broke during a call; the call may or may not have run
  kTimeout,         ///< statement timeout or pool acquire timeout
  kConstraint,      ///< a constraint rejected the data
  kOther,
};

/// A failure of the database (not of the caller's input). The message names the statement
/// and carries the engine's text; it is for logs, never for clients.
class StoreError : public std::runtime_error {
 public:
  StoreError(StoreErrorKind kind, std::string statement, const std::string& detail, std::string sqlstate = {});

  /// What kind of failure this is, for retry decisions.
  [[nodiscard]] StoreErrorKind kind() const noexcept { return kind_; }
  /// The statement's name, e.g. "messages.insert".
  [[nodiscard]] const std::string& statement() const noexcept { return statement_; }
  /// The engine's error code (SQLSTATE or SQLite result code), if any.
  [[nodiscard]] const std::string& sqlstate() const noexcept { return sqlstate_; }

 private:
  StoreErrorKind kind_;
  std::string statement_;
  std::string sqlstate_;
};

/// The stable name of an error kind, for logs and metrics.
[[nodiscard]] const char* to_string(StoreErrorKind kind) noexcept;

}  // namespace evolveai::storage
