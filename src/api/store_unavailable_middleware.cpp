#include "api/store_unavailable_middleware.hpp"

#include <string>

#include "core/errors.hpp"
#include "storage/store_error.hpp"

namespace evolveai::api {

namespace {

bool database_unavailable(storage::StoreErrorKind kind) {
  switch (kind) {
    case storage::StoreErrorKind::kTransient:
    case storage::StoreErrorKind::kConnect:
    case storage::StoreErrorKind::kConnectionLost:
    case storage::StoreErrorKind::kTimeout: return true;
    case storage::StoreErrorKind::kConstraint:
    case storage::StoreErrorKind::kOther: break;
  }
  return false;
}

}  // namespace

http::Middleware store_unavailable_middleware() {
  return [](http::Request& request, http::RequestContext& context, const http::Handler& next) -> Task<http::Response> {
    std::string log_message;
    try {
      co_return co_await next(request, context);
    } catch (const storage::StoreError& error) {
      if (!database_unavailable(error.kind())) {
        throw;
      }
      log_message = std::string("database unavailable (") + storage::to_string(error.kind()) + "): " + error.what();
    }
    throw core::service_unavailable("The service is temporarily unavailable; try again in a moment",
                                    std::move(log_message));
  };
}

}  // namespace evolveai::api
