#include "ai/chat_model.hpp"

#include <utility>

namespace evolveai::ai {

namespace {

int client_status(ModelFailure failure) {
  switch (failure) {
    case ModelFailure::kTimeout: return 504;
    case ModelFailure::kConnection:
    case ModelFailure::kRateLimited:
    case ModelFailure::kServer:
    case ModelFailure::kUnavailable: return 503;
    case ModelFailure::kTls:
    case ModelFailure::kRejected:
    case ModelFailure::kBadResponse:
    case ModelFailure::kTooLarge: break;
  }
  return 502;
}

std::string message_for_client(ModelFailure failure) {
  if (failure == ModelFailure::kTimeout) {
    return "The AI model took too long to answer. Please try again.";
  }
  return "The AI model is not available right now. Please try again in a moment.";
}

}  // namespace

Part Part::text_part(std::string text) {
  Part part;
  part.kind = Kind::kText;
  part.text = std::move(text);
  return part;
}

Part Part::inline_data(std::string mime_type, std::string bytes) {
  Part part;
  part.kind = Kind::kInlineData;
  part.mime_type = std::move(mime_type);
  part.data = std::move(bytes);
  return part;
}

std::string_view finish_reason_name(FinishReason reason) noexcept {
  switch (reason) {
    case FinishReason::kStop: return "stop";
    case FinishReason::kLength: return "length";
    case FinishReason::kSafety: return "safety";
    case FinishReason::kRecitation: return "recitation";
    case FinishReason::kError: return "error";
    case FinishReason::kInterrupted: return "interrupted";
  }
  return "error";
}

std::string_view model_failure_name(ModelFailure failure) noexcept {
  switch (failure) {
    case ModelFailure::kTimeout: return "timeout";
    case ModelFailure::kConnection: return "connection";
    case ModelFailure::kTls: return "tls";
    case ModelFailure::kRateLimited: return "rate_limited";
    case ModelFailure::kServer: return "server_error";
    case ModelFailure::kRejected: return "rejected";
    case ModelFailure::kBadResponse: return "bad_response";
    case ModelFailure::kTooLarge: return "too_large";
    case ModelFailure::kUnavailable: return "unavailable";
  }
  return "unknown";
}

ModelError::ModelError(ModelFailure failure, std::string log_message, int http_status)
    : core::Error(
          core::upstream_unavailable(message_for_client(failure), std::move(log_message), client_status(failure))),
      failure_(failure),
      http_status_(http_status) {}

ModelError& ModelError::with_upstream_status(std::string status) {
  upstream_status_ = std::move(status);
  return *this;
}

bool ModelError::retryable() const noexcept {
  if (retryable_) {
    return *retryable_;
  }
  switch (failure_) {
    case ModelFailure::kTimeout:
    case ModelFailure::kConnection:
    case ModelFailure::kRateLimited:
    case ModelFailure::kServer: return true;
    case ModelFailure::kTls:
    case ModelFailure::kRejected:
    case ModelFailure::kBadResponse:
    case ModelFailure::kTooLarge:
    case ModelFailure::kUnavailable: break;
  }
  return false;
}

ModelError& ModelError::with_retryable(bool retryable) {
  retryable_ = retryable;
  return *this;
}

ModelError& ModelError::with_retry_after_hint(std::chrono::milliseconds delay) {
  retry_after_ = delay;
  return *this;
}

ModelError& ModelError::with_partial(bool partial) {
  partial_ = partial;
  return *this;
}

}  // namespace evolveai::ai
