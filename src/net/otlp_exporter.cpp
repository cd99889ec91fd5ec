#include "net/otlp_exporter.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <atomic>
#include <optional>
#include <utility>

#include "net/http_client.hpp"
#include "obs/logger.hpp"
#include "obs/metrics.hpp"
#include "obs/otlp_json.hpp"
#include "obs/tracer.hpp"

namespace evolveai::net {

namespace asio = boost::asio;

struct OtlpExporter::Impl : std::enable_shared_from_this<Impl> {
  Impl(obs::Tracer& spans, OtlpExporterOptions exporter_options, std::shared_ptr<HttpClient> http, obs::Logger& log,
       obs::MetricsRegistry& metrics)
      : tracer(spans),
        options(std::move(exporter_options)),
        client(std::move(http)),
        logger(log),
        exported(
            metrics.counter("evolveai_trace_spans_exported_total", "Spans posted to the OTLP collector", {}).with()),
        failures(metrics
                     .counter("evolveai_trace_export_failures_total",
                              "OTLP trace exports that failed (their spans are lost)", {})
                     .with()) {
    while (!options.endpoint.empty() && options.endpoint.back() == '/') {
      options.endpoint.pop_back();
    }
    url = options.endpoint + "/v1/traces";
  }

  obs::Tracer& tracer;
  OtlpExporterOptions options;
  std::string url;
  std::shared_ptr<HttpClient> client;
  obs::Logger& logger;
  obs::Counter& exported;
  obs::Counter& failures;
  std::optional<asio::strand<asio::any_io_executor>> strand;
  std::optional<asio::steady_timer> timer;
  std::atomic<bool> stopping{false};
  std::optional<std::chrono::steady_clock::time_point> last_failure_log;

  /// Posts one batch; false (counted, maybe logged) when it failed.
  Task<bool> post(std::vector<obs::SpanData> batch) {
    HttpRequest request;
    request.method = "POST";
    request.url = url;
    request.headers.set("Content-Type", "application/json");
    request.body = obs::encode_otlp_traces(batch, options.service_name);
    std::string failure;
    try {
      auto sending = client->request(std::move(request));
      const auto response = co_await std::move(sending);
      if (response.status >= 200 && response.status < 300) {
        exported.inc(static_cast<double>(batch.size()));
        co_return true;
      }
      failure = "collector answered HTTP " + std::to_string(response.status);
    } catch (const std::exception& e) {
      failure = e.what();
    }
    failures.inc();
    const auto now = std::chrono::steady_clock::now();
    if (!last_failure_log || now - *last_failure_log >= options.flush_interval) {
      last_failure_log = now;
      logger.warn("trace_export_failed", {{"url", url}, {"spans", batch.size()}, {"error", failure}});
    }
    co_return false;
  }

  Task<bool> flush() {
    // Only what is queued now: spans that finish meanwhile wait for the next round.
    std::size_t left = tracer.queued();
    while (left > 0) {
      auto batch = tracer.take(std::min(left, options.batch_size));
      if (batch.empty()) {
        break;
      }
      left -= std::min(left, batch.size());
      if (!co_await post(std::move(batch))) {
        co_return false;
      }
    }
    co_return true;
  }

  static Task<void> run(std::shared_ptr<Impl> self) {
    while (!self->stopping) {
      self->timer->expires_after(self->options.flush_interval);
      co_await self->timer->async_wait(asio::as_tuple(asio::use_awaitable));
      if (self->stopping) {
        break;
      }
      co_await self->flush();
    }
  }

  static Task<void> stop_on_strand(std::shared_ptr<Impl> self) {
    self->stopping = true;
    if (self->timer) {
      self->timer->cancel();
    }
    co_await self->flush();
  }
};

OtlpExporter::OtlpExporter(obs::Tracer& tracer, OtlpExporterOptions options, std::shared_ptr<HttpClient> client,
                           obs::Logger& logger, obs::MetricsRegistry& metrics)
    : impl_(std::make_shared<Impl>(tracer, std::move(options), std::move(client), logger, metrics)) {}

OtlpExporter::~OtlpExporter() {
  impl_->stopping = true;
}

void OtlpExporter::start(const asio::any_io_executor& executor) {
  impl_->strand.emplace(asio::make_strand(executor));
  impl_->timer.emplace(*impl_->strand);
  asio::co_spawn(*impl_->strand, Impl::run(impl_), asio::detached);
}

Task<void> OtlpExporter::stop() {
  if (!impl_->strand) {
    co_await impl_->flush();
    co_return;
  }
  auto stopping = Impl::stop_on_strand(impl_);
  co_await asio::co_spawn(*impl_->strand, std::move(stopping), asio::use_awaitable);
}

Task<bool> OtlpExporter::flush() {
  if (!impl_->strand) {
    co_return co_await impl_->flush();
  }
  auto flushing = impl_->flush();
  co_return co_await asio::co_spawn(*impl_->strand, std::move(flushing), asio::use_awaitable);
}

}  // namespace evolveai::net
