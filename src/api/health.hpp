#pragma once

#include <chrono>

#include "http/router.hpp"

namespace evolveai::obs {
class HealthChecks;
class MetricsRegistry;
}  // namespace evolveai::obs

namespace evolveai::api {

/// Registers GET /healthz, /readyz and /metrics.
void add_health_routes(http::Router& router, const obs::HealthChecks& health, const obs::MetricsRegistry& metrics,
                       std::chrono::milliseconds check_timeout);

}  // namespace evolveai::api
