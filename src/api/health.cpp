#include "api/health.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "obs/health.hpp"
#include "obs/metrics.hpp"

namespace evolveai::api {

void add_health_routes(http::Router& router, const obs::HealthChecks& health, const obs::MetricsRegistry& metrics,
                       std::chrono::milliseconds check_timeout) {
  router.add("GET", "/healthz", [](http::Request&, http::RequestContext&) -> Task<http::Response> {
    co_return http::Response::json(200, R"({"status":"ok"})");
  });

  router.add("GET", "/readyz", [&health, check_timeout](http::Request&, http::RequestContext&) -> Task<http::Response> {
    const auto reports = co_await health.run(check_timeout);
    bool ready = health.ready();
    boost::json::object checks;
    for (const auto& report : reports) {
      boost::json::object entry;
      entry["ok"] = report.ok;
      entry["latency_ms"] = report.latency_ms;
      if (report.degraded) {
        entry["degraded"] = true;
      }
      if (!report.ok) {
        entry["detail"] = report.detail;
      }
      checks[report.name] = std::move(entry);
      // A degraded dependency is reported, but the node still serves without it.
      ready = ready && (report.ok || report.degraded);
    }
    boost::json::object body;
    body["status"] = ready ? "ready" : "not_ready";
    body["checks"] = std::move(checks);
    auto response = http::Response::json(ready ? 200 : 503, boost::json::serialize(body));
    response.headers.set("Cache-Control", "no-store");
    co_return response;
  });

  router.add("GET", "/metrics", [&metrics](http::Request&, http::RequestContext&) -> Task<http::Response> {
    co_return http::Response::text(200, metrics.render(), "text/plain; version=0.0.4; charset=utf-8");
  });
}

}  // namespace evolveai::api
