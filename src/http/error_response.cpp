#include "http/error_response.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <string>

namespace evolveai::http {

int status_for(const core::Error& error) {
  using core::ErrorKind;
  if (const auto status = error.status_override()) {
    return *status;
  }
  switch (error.kind()) {
    case ErrorKind::kBadRequest:
    case ErrorKind::kValidation: return 400;
    case ErrorKind::kPayloadTooLarge: return 413;
    case ErrorKind::kUnsupportedMediaType: return 415;
    case ErrorKind::kUnauthorized: return 401;
    case ErrorKind::kForbidden: return 403;
    case ErrorKind::kNotFound: return 404;
    case ErrorKind::kMethodNotAllowed: return 405;
    case ErrorKind::kConflict: return 409;
    case ErrorKind::kRateLimited:
    case ErrorKind::kQuotaExceeded: return 429;
    case ErrorKind::kPremiumRequired: return 402;
    case ErrorKind::kUpstream:
    case ErrorKind::kServiceUnavailable: return 503;
    case ErrorKind::kInternal: break;
  }
  return 500;
}

Response error_response(const core::Error& error, std::string_view request_id) {
  boost::json::object inner;
  inner["code"] = error.code();
  inner["message"] = error.client_message();
  inner["request_id"] = request_id;
  if (const auto& field = error.field()) {
    inner["field"] = *field;
  }
  if (const auto& resets_at = error.resets_at()) {
    inner["resets_at"] = *resets_at;
  }
  boost::json::object body;
  body["error"] = std::move(inner);
  auto response = Response::json(status_for(error), boost::json::serialize(body));
  if (const auto retry_after = error.retry_after()) {
    response.headers.set("Retry-After", std::to_string(std::max<long long>(1, retry_after->count())));
  }
  if (error.kind() == core::ErrorKind::kUnauthorized) {
    response.headers.set("WWW-Authenticate", "Bearer");
  }
  return response;
}

Response internal_error_response(std::string_view request_id) {
  const core::Error error{core::ErrorKind::kInternal, "internal",
                          "Something went wrong on our side; the request id helps us find it"};
  return error_response(error, request_id);
}

}  // namespace evolveai::http
