#pragma once

#include <map>
#include <string>

#include "cache/rate_limiter.hpp"
#include "http/pipeline.hpp"

namespace evolveai::api {

/// Rate-limit policies by the name routes give in RouteOptions::rate_limit_policy.
using RatePolicies = std::map<std::string, cache::RatePolicy, std::less<>>;

/// Applies each route's named policy: per client IP on public routes, per user (or admin)
/// otherwise; 429 `rate_limited` with Retry-After when the allowance is used up. A route naming
/// an unknown policy is a programming error caught at start (see check_route_policies).
http::Middleware rate_limit_middleware(cache::RateLimiter& limiter, const RatePolicies& policies);

/// Throws std::logic_error naming the route when a route's policy is not in `policies`.
void check_route_policies(const http::Router& router, const RatePolicies& policies);

}  // namespace evolveai::api
