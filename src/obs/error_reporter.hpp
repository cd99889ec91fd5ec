#pragma once

#include <exception>
#include <string>
#include <utility>
#include <vector>

namespace evolveai::obs {

/// One failure worth an operator's attention (a 5xx answer, a background task that threw).
/// It carries no bodies, cookies, credentials or query strings: only what is set here.
struct ErrorReport {
  std::string logger;           ///< where it happened: "http", "scheduler", "telegram"
  std::string message;          ///< a plain message; used when there is no exception
  std::string exception_type;   ///< the error's code or type ("upstream_unavailable", "std::runtime_error")
  std::string exception_value;  ///< what went wrong, as written to the log
  std::vector<std::pair<std::string, std::string>> tags;  ///< request_id, route, status, role, ...
  std::string request_method;                             ///< empty outside HTTP
  std::string request_url;                                ///< path only; a query string is cut off
};

/// The readable type name of an exception ("std::runtime_error"), for `exception_type`.
[[nodiscard]] std::string exception_type_name(const std::exception& error);

/// Sends error reports somewhere an operator looks; the edges (HTTP error mapping, the
/// scheduler, the Telegram dispatcher) call it. `report` never blocks and never throws, so a
/// slow or dead collector can never slow or fail the caller.
class ErrorReporter {
 public:
  virtual ~ErrorReporter() = default;
  ErrorReporter() = default;
  ErrorReporter(const ErrorReporter&) = delete;
  ErrorReporter& operator=(const ErrorReporter&) = delete;

  /// Queues a report (or drops it, counted, when limits say so).
  virtual void report(ErrorReport report) noexcept = 0;
};

/// The reporter used when no collector is configured: it drops everything.
class NoopErrorReporter final : public ErrorReporter {
 public:
  /// Does nothing.
  void report(ErrorReport /*report*/) noexcept override {}
};

}  // namespace evolveai::obs
