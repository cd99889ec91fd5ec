#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <variant>

namespace spdlog {
class logger;
}

namespace evolveai::obs {

/// Severity of a log event.
enum class LogLevel { kTrace, kDebug, kInfo, kWarn, kError, kOff };

/// Parses "trace" … "off" into `out`; false when the text names no level.
bool parse_log_level(std::string_view text, LogLevel& out);

/// One key/value pair of a structured log event.
struct LogField {
  using Value = std::variant<std::string_view, std::int64_t, std::uint64_t, double, bool>;

  LogField(std::string_view k, std::string_view v) : key(k), value(v) {}
  LogField(std::string_view k, const char* v) : key(k), value(std::string_view(v)) {}
  LogField(std::string_view k, const std::string& v) : key(k), value(std::string_view(v)) {}
  LogField(std::string_view k, int v) : key(k), value(static_cast<std::int64_t>(v)) {}
  LogField(std::string_view k, long v) : key(k), value(static_cast<std::int64_t>(v)) {}
  LogField(std::string_view k, long long v) : key(k), value(static_cast<std::int64_t>(v)) {}
  LogField(std::string_view k, unsigned v) : key(k), value(static_cast<std::uint64_t>(v)) {}
  LogField(std::string_view k, unsigned long v) : key(k), value(static_cast<std::uint64_t>(v)) {}
  LogField(std::string_view k, unsigned long long v) : key(k), value(static_cast<std::uint64_t>(v)) {}
  LogField(std::string_view k, double v) : key(k), value(v) {}
  LogField(std::string_view k, bool v) : key(k), value(v) {}

  std::string_view key;
  Value value;
};

/// Structured logger: one line per event, JSON (default) or human-readable text.
/// Fields whose key is a secret's name (authorization, password, token, api_key, …)
/// are always written as "***".
class Logger {
 public:
  enum class Format { kJson, kText };

  /// Logs to standard error.
  Logger(LogLevel level, Format format);
  /// Logs to a stream (tests).
  Logger(LogLevel level, Format format, std::ostream& out);
  ~Logger();
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  [[nodiscard]] bool enabled(LogLevel level) const noexcept { return level >= level_ && level_ != LogLevel::kOff; }

  void log(LogLevel level, std::string_view event, std::initializer_list<LogField> fields = {});
  void trace(std::string_view event, std::initializer_list<LogField> fields = {}) {
    log(LogLevel::kTrace, event, fields);
  }
  void debug(std::string_view event, std::initializer_list<LogField> fields = {}) {
    log(LogLevel::kDebug, event, fields);
  }
  void info(std::string_view event, std::initializer_list<LogField> fields = {}) {
    log(LogLevel::kInfo, event, fields);
  }
  void warn(std::string_view event, std::initializer_list<LogField> fields = {}) {
    log(LogLevel::kWarn, event, fields);
  }
  void error(std::string_view event, std::initializer_list<LogField> fields = {}) {
    log(LogLevel::kError, event, fields);
  }

  /// Writes out anything buffered.
  void flush();

 private:
  LogLevel level_;
  Format format_;
  std::shared_ptr<spdlog::logger> logger_;
};

/// Appends `text` to `out` as the inside of a JSON string (quotes not included).
void append_json_escaped(std::string& out, std::string_view text);

}  // namespace evolveai::obs
