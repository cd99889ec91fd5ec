#include "app/observability_wiring.hpp"

#include <unistd.h>

#include <array>
#include <stdexcept>

#include "app/build_info.hpp"
#include "net/http_client.hpp"
#include "net/otlp_exporter.hpp"
#include "net/sentry_reporter.hpp"
#include "obs/sentry_dsn.hpp"
#include "obs/tracer.hpp"

namespace evolveai::app {
namespace {

std::string host_name() {
  std::array<char, 256> host{};
  if (::gethostname(host.data(), host.size() - 1) != 0) {
    return "unknown";
  }
  return {host.data()};
}

/// The password of `scheme://user:password@host/...`, or "".
std::string url_password(const std::string& url) {
  const auto start = url.find("://");
  if (start == std::string::npos) {
    return {};
  }
  const auto at = url.find('@', start + 3);
  const auto slash = url.find('/', start + 3);
  if (at == std::string::npos || (slash != std::string::npos && slash < at)) {
    return {};
  }
  const auto colon = url.find(':', start + 3);
  if (colon == std::string::npos || colon > at) {
    return {};
  }
  return url.substr(colon + 1, at - colon - 1);
}

/// The client of a collector (traces or error reports): every call ends within
/// `observability.export_timeout`, so a slow collector holds up only the export, never a request.
net::HttpClientOptions collector_client_options(const Config& config) {
  const auto timeout = config.observability.export_timeout;
  net::HttpClientOptions options;
  options.connect_timeout = timeout;
  options.first_byte_timeout = timeout;
  options.read_timeout = timeout;
  options.total_timeout = timeout;
  options.response_body_limit = std::size_t{64} * 1024;  // collectors answer with a short status
  options.max_idle_per_host = 2;
  options.user_agent = "evolveai/" + std::string(build_version());
  return options;
}

}  // namespace

obs::TracerOptions tracer_options(const Config& config) {
  obs::TracerOptions options;
  options.export_enabled = !config.observability.otlp_endpoint.empty();
  options.max_queue = config.observability.otlp_max_queue;
  return options;
}

std::unique_ptr<net::OtlpExporter> make_trace_exporter(const Config& config, obs::Tracer& tracer, obs::Logger& logger,
                                                       obs::MetricsRegistry& metrics) {
  const auto& observability = config.observability;
  if (observability.otlp_endpoint.empty()) {
    return nullptr;
  }
  net::OtlpExporterOptions options;
  options.endpoint = observability.otlp_endpoint;
  options.service_name = observability.service_name;
  options.flush_interval = observability.otlp_flush_interval;
  return std::make_unique<net::OtlpExporter>(
      tracer, std::move(options), std::make_shared<net::HttpClient>(collector_client_options(config)), logger, metrics);
}

std::vector<std::string> report_secrets(const Config& config) {
  std::vector<std::string> secrets;
  for (const std::string& secret :
       {config.telegram.bot_token, config.telegram.webhook_secret, config.auth.jwt_secret, config.llm.api_key,
        config.tts.api_key, url_password(config.database.url), url_password(config.redis.url)}) {
    if (!secret.empty()) {
      secrets.push_back(secret);
    }
  }
  return secrets;
}

std::unique_ptr<obs::ErrorReporter> make_error_reporter(const Config& config,
                                                        const boost::asio::any_io_executor& executor,
                                                        obs::MetricsRegistry& metrics, obs::Logger& logger) {
  const auto& observability = config.observability;
  if (observability.sentry_dsn.empty()) {
    return std::make_unique<obs::NoopErrorReporter>();
  }
  auto parsed = obs::parse_sentry_dsn(observability.sentry_dsn);
  if (!parsed.dsn) {
    throw std::invalid_argument("observability.sentry_dsn: malformed DSN: " + parsed.problem);
  }
  net::SentryReporterOptions options;
  options.version = std::string(build_version());
  options.environment = observability.environment;
  options.server_name = host_name();
  options.max_events_per_min = observability.sentry_max_events_per_min;
  options.queue_size = observability.sentry_max_queue;
  options.secrets = report_secrets(config);
  return std::make_unique<net::SentryReporter>(std::move(*parsed.dsn), std::move(options),
                                               std::make_shared<net::HttpClient>(collector_client_options(config)),
                                               executor, metrics, logger);
}

}  // namespace evolveai::app
