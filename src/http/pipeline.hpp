#pragma once

#include <functional>
#include <vector>

#include "http/context.hpp"
#include "http/router.hpp"

namespace evolveai::http {

/// Code that runs around the rest of the chain: before and after `co_await next(...)`.
using Middleware = std::function<Task<Response>(Request&, RequestContext&, const Handler& next)>;

/// An ordered middleware chain ending in a route's handler.
class Pipeline {
 public:
  /// Appends a middleware; the first added runs outermost.
  void use(Middleware middleware) { middlewares_.push_back(std::move(middleware)); }

  /// Runs the chain for one request.
  [[nodiscard]] Task<Response> run(Request& request, RequestContext& context, const Handler& endpoint) const;

 private:
  [[nodiscard]] Task<Response> run_from(std::size_t index, Request& request, RequestContext& context,
                                        const Handler& endpoint) const;
  std::vector<Middleware> middlewares_;
};

}  // namespace evolveai::http
