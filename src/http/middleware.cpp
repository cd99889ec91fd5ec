#include "http/middleware.hpp"

#include <fmt/format.h>
#include <atomic>

#include "http/error_response.hpp"
#include "net/deadline.hpp"
#include "obs/logger.hpp"
#include "obs/metrics.hpp"
#include "obs/tracer.hpp"

namespace evolveai::http {
bool is_valid_request_id(std::string_view id) {
  if (id.empty() || id.size() > 64) {
    return false;
  }
  for (const char c : id) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    if (!ok) {
      return false;
    }
  }
  return true;
}

Middleware request_id_middleware(std::uint64_t seed) {
  // A per-process random prefix plus a counter: unique, cheap and not guessable across restarts.
  auto counter = std::make_shared<std::atomic<std::uint64_t>>(0);
  const auto prefix = fmt::format("{:012x}", seed & 0xffffffffffffULL);
  return [counter, prefix](Request& request, RequestContext& context, const Handler& next) -> Task<Response> {
    const auto given = request.headers.get("X-Request-Id");
    if (given && is_valid_request_id(*given)) {
      context.request_id = std::string(*given);
    } else {
      context.request_id = fmt::format("{}-{:x}", prefix, counter->fetch_add(1, std::memory_order_relaxed));
    }
    Response response = co_await next(request, context);
    response.headers.set("X-Request-Id", context.request_id);
    co_return response;
  };
}

Middleware tracing_middleware(obs::Tracer& tracer) {
  return [&tracer](Request& request, RequestContext& context, const Handler& next) -> Task<Response> {
    obs::TraceContext parent;
    if (const auto given = request.headers.get("traceparent")) {
      // A malformed header is ignored: the request starts a trace of its own.
      parent = obs::TraceContext::parse(*given).value_or(obs::TraceContext{});
    }
    obs::Span span = tracer.start_span("http.request", obs::SpanKind::kServer, parent);
    context.trace = span.context();
    Response response;
    try {
      response = co_await next(request, context);
    } catch (const std::exception& e) {
      span.set_error(e.what());
      throw;
    }
    if (span.recording()) {
      span.set_name(request.method + " " + context.route_label);
      span.set_string("http.method", request.method);
      span.set_string("http.route", context.route_label);
      span.set_int("http.status_code", response.status);
      span.set_string("http.request_id", context.request_id);
      if (context.user_id) {
        span.set_int("enduser.id", *context.user_id);
      }
      if (response.status >= 500) {
        span.set_error("HTTP " + std::to_string(response.status));
      }
    }
    if (response.stream && span.recording()) {
      // The stream is written after this returns: the span ends with it.
      auto held = std::make_shared<obs::Span>(std::move(span));
      response.stream = [body = std::move(response.stream), held](EventSink& sink) -> Task<void> {
        try {
          co_await body(sink);
        } catch (const std::exception& e) {
          held->set_error(e.what());
          throw;
        }
        held->end();
      };
    }
    co_return response;
  };
}

Middleware observe_middleware(obs::Logger& logger, obs::MetricsRegistry& metrics) {
  auto& requests = metrics.counter("evolveai_http_requests_total", "HTTP requests by route, method and status",
                                   {"route", "method", "status"});
  auto& latency = metrics.histogram("evolveai_http_request_duration_seconds",
                                    "Time to produce an HTTP response, by route and method", {"route", "method"});
  auto& in_flight = metrics.gauge("evolveai_http_requests_in_flight", "HTTP requests being handled now", {}).with();
  return [&logger, &requests, &latency, &in_flight](Request& request, RequestContext& context,
                                                    const Handler& next) -> Task<Response> {
    in_flight.inc();
    const auto started = std::chrono::steady_clock::now();
    Response response;
    try {
      response = co_await next(request, context);
    } catch (...) {
      in_flight.dec();
      throw;
    }
    in_flight.dec();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const auto status = std::to_string(response.status);
    requests.with({context.route_label, request.method, status}).inc();
    latency.with({context.route_label, request.method}).observe(seconds);
    const auto level = response.status >= 500 ? obs::LogLevel::kWarn : obs::LogLevel::kInfo;
    if (logger.enabled(level)) {
      const auto trace_id = context.trace.trace_id_hex();
      logger.log(level, "http_request",
                 {{"request_id", context.request_id},
                  {"trace_id", trace_id},
                  {"method", request.method},
                  {"path", request.path},
                  {"route", context.route_label},
                  {"status", response.status},
                  {"duration_ms", seconds * 1000.0},
                  {"bytes", response.body.size()},
                  {"remote", request.remote_address},
                  {"user_id", context.user_id.value_or(0)}});
    }
    co_return response;
  };
}

Middleware error_middleware(obs::Logger& logger) {
  return [&logger](Request& request, RequestContext& context, const Handler& next) -> Task<Response> {
    try {
      co_return co_await next(request, context);
    } catch (const core::Error& error) {
      const auto trace_id = context.trace.trace_id_hex();
      if (error.kind() == core::ErrorKind::kUpstream || error.kind() == core::ErrorKind::kServiceUnavailable ||
          error.kind() == core::ErrorKind::kInternal) {
        logger.warn("request_failed",
                    {{"request_id", context.request_id},
                     {"trace_id", trace_id},
                     {"code", error.code()},
                     {"detail", error.log_message().empty() ? error.client_message() : error.log_message()}});
      } else if (!error.log_message().empty()) {
        logger.info("request_rejected", {{"request_id", context.request_id},
                                         {"trace_id", trace_id},
                                         {"code", error.code()},
                                         {"detail", error.log_message()}});
      }
      co_return error_response(error, context.request_id);
    } catch (const std::exception& e) {
      const auto trace_id = context.trace.trace_id_hex();
      logger.error("request_crashed", {{"request_id", context.request_id},
                                       {"trace_id", trace_id},
                                       {"route", context.route_label},
                                       {"error", e.what()}});
    }
    co_return internal_error_response(context.request_id);
  };
}

Middleware deadline_middleware(std::chrono::milliseconds timeout) {
  return [timeout](Request& request, RequestContext& context, const Handler& next) -> Task<Response> {
    const auto limit = context.route != nullptr && context.route->options.timeout.count() > 0
                           ? context.route->options.timeout
                           : timeout;
    auto handled = next(request, context);
    auto response = co_await net::with_timeout(std::move(handled), limit);
    if (!response) {
      throw core::service_unavailable("The request took too long; try again",
                                      "request deadline of " + std::to_string(limit.count()) + " ms exceeded");
    }
    co_return std::move(*response);
  };
}

}  // namespace evolveai::http
