#pragma once

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>

namespace evolveai::core {

/// What kind of failure an error is; the HTTP edge maps each kind to one status.
enum class ErrorKind {
  kBadRequest,
  kValidation,
  kPayloadTooLarge,
  kUnsupportedMediaType,
  kUnauthorized,
  kForbidden,
  kNotFound,
  kMethodNotAllowed,
  kConflict,
  kRateLimited,
  kQuotaExceeded,
  kPremiumRequired,
  kUpstream,
  kServiceUnavailable,
  kInternal,
};

/// A failure the client may be told about: a stable code, a message for the client
/// and a separate one for the log (which may hold details the client must not see).
class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, std::string code, std::string client_message, std::string log_message = {});

  [[nodiscard]] ErrorKind kind() const noexcept { return kind_; }
  [[nodiscard]] const std::string& code() const noexcept { return code_; }
  [[nodiscard]] const std::string& client_message() const noexcept { return client_message_; }
  [[nodiscard]] const std::string& log_message() const noexcept { return log_message_; }

  /// Name of the offending field for validation errors.
  [[nodiscard]] const std::optional<std::string>& field() const noexcept { return field_; }
  Error& with_field(std::string field);

  /// How long the client should wait before retrying (rate and quota limits).
  [[nodiscard]] std::optional<std::chrono::seconds> retry_after() const noexcept { return retry_after_; }
  Error& with_retry_after(std::chrono::seconds delay);

  /// An RFC 3339 time at which a quota resets.
  [[nodiscard]] const std::optional<std::string>& resets_at() const noexcept { return resets_at_; }
  Error& with_resets_at(std::string when);

  /// Upstream failures choose among 502, 503 and 504.
  [[nodiscard]] std::optional<int> status_override() const noexcept { return status_override_; }
  Error& with_status(int status);

 private:
  ErrorKind kind_;
  std::string code_;
  std::string client_message_;
  std::string log_message_;
  std::optional<std::string> field_;
  std::optional<std::chrono::seconds> retry_after_;
  std::optional<std::string> resets_at_;
  std::optional<int> status_override_;
};

/// 400 `bad_request`: the request cannot be understood.
Error bad_request(std::string message, std::string log_message = {});
/// 400 `invalid_json`: the body is not JSON or not the expected shape.
Error invalid_json(std::string message);
/// 400 `validation_failed` naming the field.
Error validation_failed(std::string field, std::string message);
/// 413 `payload_too_large`.
Error payload_too_large(std::string message);
/// 415 `unsupported_media_type`.
Error unsupported_media_type(std::string message);
/// 401 `unauthorized`.
Error unauthorized(std::string message, std::string log_message = {});
/// 401 `token_expired`.
Error token_expired();
/// 403 `forbidden`.
Error forbidden(std::string message);
/// 404 `not_found`.
Error not_found(std::string message = "Not found");
/// 405 `method_not_allowed`.
Error method_not_allowed(std::string message = "Method not allowed");
/// 409 `conflict`.
Error conflict(std::string message);
/// 429 `rate_limited` with Retry-After.
Error rate_limited(std::chrono::seconds retry_after);
/// 429 `quota_exceeded` with its reset time.
Error quota_exceeded(std::string resets_at, std::chrono::seconds retry_after);
/// 402 `premium_required`.
Error premium_required(std::string message);
/// 502/503/504 `upstream_unavailable`.
Error upstream_unavailable(std::string message, std::string log_message, int status = 503);
/// 503 `service_unavailable`.
Error service_unavailable(std::string message, std::string log_message = {});
/// 503 `llm_not_configured`.
Error llm_not_configured(std::string message);

}  // namespace evolveai::core
