#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <memory>
#include <string>
#include <vector>

#include "app/config.hpp"
#include "obs/error_reporter.hpp"

namespace evolveai::obs {
class Logger;
class MetricsRegistry;
class Tracer;
struct TracerOptions;
}  // namespace evolveai::obs

namespace evolveai::net {
class OtlpExporter;
}

namespace evolveai::app {

/// The error reporter from `[observability]`: a SentryReporter sending on `executor` when
/// `sentry_dsn` is set (the loader has already checked it), else one that drops everything.
std::unique_ptr<obs::ErrorReporter> make_error_reporter(const Config& config,
                                                        const boost::asio::any_io_executor& executor,
                                                        obs::MetricsRegistry& metrics, obs::Logger& logger);

/// The tracer's options: spans are recorded only when a collector is configured; trace ids are
/// propagated either way.
obs::TracerOptions tracer_options(const Config& config);

/// The OTLP exporter for `observability.otlp_endpoint`, or null when it is empty.
std::unique_ptr<net::OtlpExporter> make_trace_exporter(const Config& config, obs::Tracer& tracer, obs::Logger& logger,
                                                       obs::MetricsRegistry& metrics);

/// Every configured secret that must never appear in a report: tokens, keys, the JWT secret
/// and the passwords inside the database and Redis URLs.
std::vector<std::string> report_secrets(const Config& config);

}  // namespace evolveai::app
