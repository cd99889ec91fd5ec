#pragma once

#include <chrono>
#include <random>
#include <span>
#include <string>
#include <string_view>

#include "obs/error_reporter.hpp"

namespace evolveai::obs {

/// What every event of this process shares.
struct SentryEventContext {
  std::string release;      ///< "evolveai@<version>"
  std::string environment;  ///< "production", "staging", ...
  std::string server_name;  ///< the host name
  std::string dsn;          ///< the DSN in canonical form, for the envelope header
};

/// A new event id: 32 lower-case hex digits, a version 4 UUID without its dashes.
[[nodiscard]] std::string new_event_id(std::mt19937_64& random);

/// The report with every occurrence of each non-empty secret replaced by "[redacted]" and the
/// query string cut off its URL: the last guard before anything leaves the process.
[[nodiscard]] ErrorReport scrub_report(ErrorReport report, std::span<const std::string> secrets);

/// The three-line Sentry envelope of one event: envelope header, item header, event JSON.
[[nodiscard]] std::string encode_envelope(const ErrorReport& report, const SentryEventContext& context,
                                          std::string_view event_id, std::chrono::system_clock::time_point now);

}  // namespace evolveai::obs
