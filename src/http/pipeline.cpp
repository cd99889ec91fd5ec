#include "http/pipeline.hpp"

namespace evolveai::http {

Task<Response> Pipeline::run(Request& request, RequestContext& context, const Handler& endpoint) const {
  co_return co_await run_from(0, request, context, endpoint);
}

Task<Response> Pipeline::run_from(std::size_t index, Request& request, RequestContext& context,
                                  const Handler& endpoint) const {
  if (index == middlewares_.size()) {
    co_return co_await endpoint(request, context);
  }
  const Handler next = [this, index, &endpoint](Request& req, RequestContext& ctx) {
    return run_from(index + 1, req, ctx, endpoint);
  };
  co_return co_await middlewares_[index](request, context, next);
}

}  // namespace evolveai::http
