#include "obs/logger.hpp"

#include <spdlog/logger.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <algorithm>
#include <array>
#include <cctype>

#include <fmt/format.h>

namespace evolveai::obs {
namespace {

constexpr std::array<std::string_view, 12> kSecretKeys = {
    "authorization", "password",  "token",     "access_token", "secret",         "api_key",
    "cookie",        "init_data", "bot_token", "jwt_secret",   "webhook_secret", "hash"};

bool is_secret_key(std::string_view key) {
  std::string lower(key);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return std::any_of(kSecretKeys.begin(), kSecretKeys.end(), [&](std::string_view secret) { return lower == secret; });
}

spdlog::level::level_enum to_spdlog(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace: return spdlog::level::trace;
    case LogLevel::kDebug: return spdlog::level::debug;
    case LogLevel::kInfo: return spdlog::level::info;
    case LogLevel::kWarn: return spdlog::level::warn;
    case LogLevel::kError: return spdlog::level::err;
    case LogLevel::kOff: return spdlog::level::off;
  }
  return spdlog::level::info;
}

void configure(spdlog::logger& logger, LogLevel level, Logger::Format format) {
  const char* pattern = format == Logger::Format::kJson ? R"({"time":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l",%v})"
                                                        : "%Y-%m-%d %H:%M:%S.%e %^%-5l%$ %v";
  logger.set_formatter(std::make_unique<spdlog::pattern_formatter>(pattern, spdlog::pattern_time_type::utc));
  logger.set_level(to_spdlog(level));
  logger.flush_on(spdlog::level::warn);
}

void append_value_json(std::string& out, const LogField::Value& value) {
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string_view>) {
          out.push_back('"');
          append_json_escaped(out, v);
          out.push_back('"');
        } else if constexpr (std::is_same_v<T, bool>) {
          out.append(v ? "true" : "false");
        } else {
          fmt::format_to(std::back_inserter(out), "{}", v);
        }
      },
      value);
}

void append_value_text(std::string& out, const LogField::Value& value) {
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string_view>) {
          const bool quote = v.empty() || v.find_first_of(" \"=") != std::string_view::npos;
          if (quote) {
            out.push_back('"');
            append_json_escaped(out, v);
            out.push_back('"');
          } else {
            out.append(v);
          }
        } else if constexpr (std::is_same_v<T, bool>) {
          out.append(v ? "true" : "false");
        } else {
          fmt::format_to(std::back_inserter(out), "{}", v);
        }
      },
      value);
}

}  // namespace

bool parse_log_level(std::string_view text, LogLevel& out) {
  static constexpr std::array<std::pair<std::string_view, LogLevel>, 6> kLevels = {{
      {"trace", LogLevel::kTrace},
      {"debug", LogLevel::kDebug},
      {"info", LogLevel::kInfo},
      {"warn", LogLevel::kWarn},
      {"error", LogLevel::kError},
      {"off", LogLevel::kOff},
  }};
  for (const auto& [name, level] : kLevels) {
    if (name == text) {
      out = level;
      return true;
    }
  }
  return false;
}

void append_json_escaped(std::string& out, std::string_view text) {
  for (const char c : text) {
    switch (c) {
      case '"': out.append("\\\""); break;
      case '\\': out.append("\\\\"); break;
      case '\n': out.append("\\n"); break;
      case '\r': out.append("\\r"); break;
      case '\t': out.append("\\t"); break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          fmt::format_to(std::back_inserter(out), "\\u{:04x}", static_cast<unsigned>(c));
        } else {
          out.push_back(c);
        }
    }
  }
}

Logger::Logger(LogLevel level, Format format)
    : level_(level),
      format_(format),
      logger_(std::make_shared<spdlog::logger>("evolveai", std::make_shared<spdlog::sinks::stderr_sink_mt>())) {
  configure(*logger_, level, format);
}

Logger::Logger(LogLevel level, Format format, std::ostream& out)
    : level_(level),
      format_(format),
      logger_(std::make_shared<spdlog::logger>("evolveai", std::make_shared<spdlog::sinks::ostream_sink_mt>(out))) {
  configure(*logger_, level, format);
}

Logger::~Logger() {
  logger_->flush();
}

void Logger::flush() {
  logger_->flush();
}

void Logger::log(LogLevel level, std::string_view event, std::initializer_list<LogField> fields) {
  if (!enabled(level)) {
    return;
  }
  std::string line;
  line.reserve(128);
  if (format_ == Format::kJson) {
    line.append("\"event\":\"");
    append_json_escaped(line, event);
    line.push_back('"');
    for (const auto& field : fields) {
      line.append(",\"");
      append_json_escaped(line, field.key);
      line.append("\":");
      if (is_secret_key(field.key)) {
        line.append("\"***\"");
      } else {
        append_value_json(line, field.value);
      }
    }
  } else {
    line.append(event);
    for (const auto& field : fields) {
      line.push_back(' ');
      line.append(field.key);
      line.push_back('=');
      if (is_secret_key(field.key)) {
        line.append("***");
      } else {
        append_value_text(line, field.value);
      }
    }
  }
  logger_->log(to_spdlog(level), "{}", line);
}

}  // namespace evolveai::obs
