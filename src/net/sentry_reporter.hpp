#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "obs/error_reporter.hpp"
#include "obs/sentry_dsn.hpp"

namespace evolveai::obs {
class Logger;
class MetricsRegistry;
}  // namespace evolveai::obs

namespace evolveai::net {

class HttpClient;
struct SentryReporterState;

/// Settings of a SentryReporter; the composition root fills them from `[observability]`.
struct SentryReporterOptions {
  std::string version;           ///< this binary's version: release "evolveai@<version>", client "evolveai/<version>"
  std::string environment;       ///< "production", "staging", ...
  std::string server_name;       ///< the host name
  int max_events_per_min = 30;   ///< token bucket: this many at once, refilled evenly over a minute
  std::size_t queue_size = 100;  ///< envelopes waiting to be sent; more are dropped
  /// Values that must never leave the process (bot token, JWT secret, API keys); replaced by
  /// "[redacted]" wherever they appear in a report.
  std::vector<std::string> secrets;
};

/// The pause an `X-Sentry-Rate-Limits` value asks of error events (`seconds:categories:scope, ...`;
/// no categories means every category; the longest applicable entry wins), or nullopt when none applies.
[[nodiscard]] std::optional<std::chrono::seconds> sentry_rate_limit_pause(std::string_view value);

/// Sends error reports as Sentry envelopes (`POST {dsn}/api/{project}/envelope/`) from one
/// coroutine through a bounded queue. Reports over the per-minute budget, over the queue bound,
/// while the collector asked to pause (429 with Retry-After or X-Sentry-Rate-Limits), or that
/// fail to send are dropped and counted in `evolveai_error_reports_dropped_total{reason}`;
/// delivered ones in `evolveai_error_reports_total`. Thread-safe.
class SentryReporter final : public obs::ErrorReporter {
 public:
  /// Starts the sending coroutine on `executor`; `client` should have short deadlines.
  SentryReporter(obs::SentryDsn dsn, SentryReporterOptions options, std::shared_ptr<HttpClient> client,
                 const boost::asio::any_io_executor& executor, obs::MetricsRegistry& metrics, obs::Logger& logger);
  /// Stops taking reports; the sending coroutine ends once it wakes.
  ~SentryReporter() override;

  /// Encodes and queues the report, or drops it (counted); never blocks.
  void report(obs::ErrorReport report) noexcept override;

 private:
  std::shared_ptr<SentryReporterState> state_;
};

}  // namespace evolveai::net
