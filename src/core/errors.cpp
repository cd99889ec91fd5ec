#include "core/errors.hpp"

#include <fmt/format.h>

#include <utility>

namespace evolveai::core {

Error::Error(ErrorKind kind, std::string code, std::string client_message, std::string log_message)
    : std::runtime_error(log_message.empty() ? client_message : log_message),
      kind_(kind),
      code_(std::move(code)),
      client_message_(std::move(client_message)),
      log_message_(std::move(log_message)) {}

Error& Error::with_field(std::string field) {
  field_ = std::move(field);
  return *this;
}

Error& Error::with_retry_after(std::chrono::seconds delay) {
  retry_after_ = delay;
  return *this;
}

Error& Error::with_resets_at(std::string when) {
  resets_at_ = std::move(when);
  return *this;
}

Error& Error::with_status(int status) {
  status_override_ = status;
  return *this;
}

Error bad_request(std::string message, std::string log_message) {
  return {ErrorKind::kBadRequest, "bad_request", std::move(message), std::move(log_message)};
}

Error invalid_json(std::string message) {
  return {ErrorKind::kBadRequest, "invalid_json", std::move(message)};
}

Error validation_failed(std::string field, std::string message) {
  Error error{ErrorKind::kValidation, "validation_failed", std::move(message)};
  error.with_field(std::move(field));
  return error;
}

Error payload_too_large(std::string message) {
  return {ErrorKind::kPayloadTooLarge, "payload_too_large", std::move(message)};
}

Error unsupported_media_type(std::string message) {
  return {ErrorKind::kUnsupportedMediaType, "unsupported_media_type", std::move(message)};
}

Error unauthorized(std::string message, std::string log_message) {
  return {ErrorKind::kUnauthorized, "unauthorized", std::move(message), std::move(log_message)};
}

Error token_expired() {
  return {ErrorKind::kUnauthorized, "token_expired", "The access token has expired; sign in again"};
}

Error forbidden(std::string message) {
  return {ErrorKind::kForbidden, "forbidden", std::move(message)};
}

Error not_found(std::string message) {
  return {ErrorKind::kNotFound, "not_found", std::move(message)};
}

Error method_not_allowed(std::string message) {
  return {ErrorKind::kMethodNotAllowed, "method_not_allowed", std::move(message)};
}

Error conflict(std::string message) {
  return {ErrorKind::kConflict, "conflict", std::move(message)};
}

Error rate_limited(std::chrono::seconds retry_after) {
  Error error{ErrorKind::kRateLimited, "rate_limited",
              fmt::format("Too many requests, retry in {} s", retry_after.count())};
  error.with_retry_after(retry_after);
  return error;
}

Error quota_exceeded(std::string resets_at, std::chrono::seconds retry_after) {
  Error error{ErrorKind::kQuotaExceeded, "quota_exceeded",
              fmt::format("You have used today's free messages; they reset at {}", resets_at)};
  error.with_resets_at(std::move(resets_at));
  error.with_retry_after(retry_after);
  return error;
}

Error premium_required(std::string message) {
  return {ErrorKind::kPremiumRequired, "premium_required", std::move(message)};
}

Error upstream_unavailable(std::string message, std::string log_message, int status) {
  Error error{ErrorKind::kUpstream, "upstream_unavailable", std::move(message), std::move(log_message)};
  error.with_status(status);
  return error;
}

Error service_unavailable(std::string message, std::string log_message) {
  return {ErrorKind::kServiceUnavailable, "service_unavailable", std::move(message), std::move(log_message)};
}

Error llm_not_configured(std::string message) {
  return {ErrorKind::kServiceUnavailable, "llm_not_configured", std::move(message)};
}

}  // namespace evolveai::core
