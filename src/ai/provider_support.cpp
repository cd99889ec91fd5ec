#include "ai/provider_support.hpp"

#include <cstdint>

#include "net/http_client.hpp"

namespace evolveai::ai {

std::string friendly_block_text(FinishReason reason) {
  if (reason == FinishReason::kRecitation) {
    return "I can't quote that text word for word, but I'm happy to sum it up or talk about it in my own words.";
  }
  return "I'd rather not answer that one. Let's talk about something else?";
}

ModelFailure failure_for_status(int status) noexcept {
  if (status == 408) {
    return ModelFailure::kTimeout;
  }
  if (status == 429) {
    return ModelFailure::kRateLimited;
  }
  if (status == 499 || status == 500 || status == 502 || status == 503 || status == 504) {
    return ModelFailure::kServer;
  }
  if (status >= 400 && status < 600) {
    return ModelFailure::kRejected;
  }
  return ModelFailure::kBadResponse;
}

std::optional<std::chrono::milliseconds> parse_retry_after_seconds(std::string_view value) {
  while (!value.empty() && value.front() == ' ') {
    value.remove_prefix(1);
  }
  while (!value.empty() && value.back() == ' ') {
    value.remove_suffix(1);
  }
  if (value.empty() || value.size() > 9) {
    return std::nullopt;
  }
  std::int64_t seconds = 0;
  for (const char c : value) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    seconds = seconds * 10 + (c - '0');
  }
  return std::chrono::seconds(seconds);
}

std::optional<std::chrono::milliseconds> parse_proto_duration(std::string_view value) {
  if (value.size() < 2 || value.back() != 's' || value.size() > 32) {
    return std::nullopt;
  }
  value.remove_suffix(1);
  // google.protobuf.Duration's range: anything longer is malformed, and would overflow below.
  constexpr std::int64_t kMaxSeconds = 315'576'000'000;
  std::int64_t whole = 0;
  std::size_t i = 0;
  for (; i < value.size() && value[i] != '.'; ++i) {
    if (value[i] < '0' || value[i] > '9') {
      return std::nullopt;
    }
    whole = whole * 10 + (value[i] - '0');
    if (whole > kMaxSeconds) {
      return std::nullopt;
    }
  }
  if (i == 0) {
    return std::nullopt;
  }
  std::int64_t millis = 0;
  std::int64_t scale = 100;
  if (i < value.size()) {
    for (++i; i < value.size(); ++i) {
      if (value[i] < '0' || value[i] > '9') {
        return std::nullopt;
      }
      millis += (value[i] - '0') * scale;
      scale /= 10;
    }
  }
  return std::chrono::milliseconds(whole * 1000 + millis);
}

std::string clip_for_log(std::string_view text, std::size_t max) {
  if (text.size() <= max) {
    return std::string(text);
  }
  return std::string(text.substr(0, max)) + "…";
}

ModelError model_error_from_transport(const net::HttpError& error, std::string_view provider) {
  const std::string log = std::string(provider) + ": " + error.what();
  switch (error.kind()) {
    case net::HttpErrorKind::kTimeout: {
      ModelError failure(ModelFailure::kTimeout, log);
      // A call that used its whole time budget is not worth repeating.
      if (error.timeout_kind() == net::TimeoutKind::kTotal) {
        failure.with_retryable(false);
      }
      return failure;
    }
    case net::HttpErrorKind::kConnect: return {ModelFailure::kConnection, log};
    case net::HttpErrorKind::kTls: return {ModelFailure::kTls, log};
    case net::HttpErrorKind::kBodyTooLarge: return {ModelFailure::kTooLarge, log};
    case net::HttpErrorKind::kInvalidRequest: return {ModelFailure::kRejected, log};
    case net::HttpErrorKind::kProtocol:
    case net::HttpErrorKind::kStatus: break;
  }
  return {ModelFailure::kBadResponse, log, error.status()};
}

ChatResult ReplyAccumulator::finalize(std::string_view provider, std::string_view configured_model) const {
  if (!saw_reply) {
    throw ModelError(ModelFailure::kBadResponse, std::string(provider) + ": the response holds no reply");
  }
  ChatResult result;
  result.text = text;
  result.usage = usage;
  result.model = model.empty() ? std::string(configured_model) : model;
  result.raw_finish_reason = raw_finish;
  if (prompt_blocked) {
    result.blocked = true;
    result.finish_reason = FinishReason::kSafety;
    result.block_reason = block_reason;
    result.friendly_text = friendly_block_text(FinishReason::kSafety);
    return result;
  }
  result.finish_reason = finish.value_or(FinishReason::kStop);
  if (result.finish_reason == FinishReason::kSafety || result.finish_reason == FinishReason::kRecitation) {
    result.blocked = true;
    result.block_reason = raw_finish;
    result.friendly_text = friendly_block_text(result.finish_reason);
  } else if (result.text.empty()) {
    result.finish_reason = FinishReason::kError;
  }
  return result;
}

ChatResult ReplyAccumulator::interrupted(std::string_view configured_model) const {
  ChatResult result;
  result.text = text;
  result.usage = usage;
  result.model = model.empty() ? std::string(configured_model) : model;
  result.finish_reason = FinishReason::kInterrupted;
  result.raw_finish_reason = "interrupted";
  return result;
}

ModelError error_without_json_body(const net::HttpResponse& response, std::string_view provider) {
  ModelError failure(failure_for_status(response.status),
                     std::string(provider) + ": HTTP " + std::to_string(response.status) +
                         " without a JSON error body: " + clip_for_log(response.body, 120),
                     response.status);
  if (const auto value = response.headers.get("retry-after")) {
    if (const auto delay = parse_retry_after_seconds(*value)) {
      failure.with_retry_after_hint(*delay);
    }
  }
  return failure;
}

}  // namespace evolveai::ai
