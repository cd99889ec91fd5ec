#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "core/task.hpp"

namespace evolveai::obs {
class Logger;
class MetricsRegistry;
class Tracer;
}  // namespace evolveai::obs

namespace evolveai::net {

class HttpClient;

/// Where and how often finished spans are sent; from `[observability]`.
struct OtlpExporterOptions {
  std::string endpoint;      ///< collector base URL; spans go to `{endpoint}/v1/traces`
  std::string service_name;  ///< `service.name` of the resource
  std::chrono::milliseconds flush_interval{2000};
  std::size_t batch_size = 512;  ///< spans per POST
};

/// Posts the tracer's finished spans as OTLP/HTTP JSON every flush interval and once more on
/// stop. A failed POST drops its batch, is counted (`evolveai_trace_export_failures_total`)
/// and logged at most once per interval; it never reaches a request.
class OtlpExporter {
 public:
  OtlpExporter(obs::Tracer& tracer, OtlpExporterOptions options, std::shared_ptr<HttpClient> client,
               obs::Logger& logger, obs::MetricsRegistry& metrics);
  ~OtlpExporter();
  OtlpExporter(const OtlpExporter&) = delete;
  OtlpExporter& operator=(const OtlpExporter&) = delete;

  /// Starts the periodic export on `executor`.
  void start(const boost::asio::any_io_executor& executor);
  /// Ends the periodic export and posts whatever is still queued.
  Task<void> stop();
  /// Posts everything queued now; false when a POST failed.
  Task<bool> flush();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace evolveai::net
