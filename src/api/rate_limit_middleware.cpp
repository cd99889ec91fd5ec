#include "api/rate_limit_middleware.hpp"

#include <stdexcept>

#include "core/errors.hpp"

namespace evolveai::api {

http::Middleware rate_limit_middleware(cache::RateLimiter& limiter, const RatePolicies& policies) {
  return [&limiter, &policies](http::Request& request, http::RequestContext& context,
                               const http::Handler& next) -> Task<http::Response> {
    if (context.route == nullptr || context.route->options.rate_limit_policy.empty()) {
      co_return co_await next(request, context);
    }
    const auto found = policies.find(context.route->options.rate_limit_policy);
    if (found == policies.end()) {
      throw std::logic_error("unknown rate policy " + context.route->options.rate_limit_policy);
    }
    const auto& policy = found->second;
    std::string key;
    if (context.user_id) {
      key = "user:" + std::to_string(*context.user_id);
    } else if (context.admin_id) {
      key = "admin:" + std::to_string(*context.admin_id);
    } else {
      key = "ip:" + request.remote_address;
    }
    const auto decision = co_await limiter.acquire(key, policy);
    if (!decision.allowed) {
      throw core::rate_limited(decision.retry_after);
    }
    auto response = co_await next(request, context);
    response.headers.set("X-RateLimit-Remaining", std::to_string(decision.remaining));
    co_return response;
  };
}

void check_route_policies(const http::Router& router, const RatePolicies& policies) {
  for (const auto& route : router.routes()) {
    const auto& name = route.options.rate_limit_policy;
    if (!name.empty() && policies.find(name) == policies.end()) {
      throw std::logic_error("route " + route.method + " " + route.pattern + " names unknown rate policy " + name);
    }
  }
}

}  // namespace evolveai::api
