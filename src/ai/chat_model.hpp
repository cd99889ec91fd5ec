#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/errors.hpp"
#include "core/task.hpp"
#include "obs/trace_context.hpp"

namespace evolveai::ai {

/// Who said a message.
enum class Role { kUser, kAssistant };

/// One piece of a message: text, or inline media (raw bytes; providers encode them).
struct Part {
  enum class Kind { kText, kInlineData };
  Kind kind = Kind::kText;
  std::string text;       ///< kText
  std::string mime_type;  ///< kInlineData: "image/jpeg", "audio/ogg", …
  std::string data;       ///< kInlineData: the raw bytes, not base64

  /// A text part.
  static Part text_part(std::string text);
  /// An inline image or audio part from raw bytes.
  static Part inline_data(std::string mime_type, std::string bytes);
};

/// One turn of the conversation.
struct Message {
  Role role = Role::kUser;
  std::vector<Part> parts;
};

/// How to generate; unset fields leave the provider's defaults.
struct GenerationOptions {
  std::optional<int> max_output_tokens;
  std::optional<double> temperature;
  bool json_output = false;  ///< ask for a JSON reply (structured output)
  std::string json_schema;   ///< optional JSON Schema text of that reply (with json_output)
};

/// What to ask a chat model: a system instruction and the conversation, oldest first.
struct ChatRequest {
  std::string system_instruction;
  std::vector<Message> messages;
  GenerationOptions options;
  /// The caller's span; when valid it goes upstream as the `traceparent` header.
  obs::TraceContext trace;
};

/// Why a reply ended, the same for every provider.
enum class FinishReason {
  kStop,         ///< natural end
  kLength,       ///< the token limit was reached
  kSafety,       ///< the provider's safety filters blocked the prompt or the reply
  kRecitation,   ///< blocked as recitation of protected text
  kError,        ///< the model ended for another or unknown reason, or produced nothing
  kInterrupted,  ///< our side stopped the stream (client gone, cancelled)
};

/// "stop", "length", "safety", "recitation", "error" or "interrupted".
[[nodiscard]] std::string_view finish_reason_name(FinishReason reason) noexcept;

/// Tokens used by one call, as the provider counted them (0 when it did not say).
struct Usage {
  std::int64_t input_tokens = 0;
  std::int64_t output_tokens = 0;
  std::int64_t total_tokens = 0;
};

/// A model's reply.
struct ChatResult {
  std::string text;  ///< the model's text as given (thoughts excluded); may be partial when interrupted
  FinishReason finish_reason = FinishReason::kStop;
  std::string raw_finish_reason;  ///< the provider's own word, for logs
  Usage usage;
  std::string model;  ///< the model that answered
  /// True when the provider's filters blocked the prompt or the reply; `friendly_text`
  /// is then a reply fit to show the user instead of (or after) `text`.
  bool blocked = false;
  std::string friendly_text;
  std::string block_reason;  ///< the provider's block reason, for logs
};

/// Receives each piece of reply text as it arrives (valid only during the call). Returns
/// false to stop: the upstream call is then closed and the result is `kInterrupted`.
using DeltaHandler = std::function<Task<bool>(std::string_view text)>;

/// A chat model behind one provider (or a chain of them). Implementations: Gemini REST,
/// OpenAI-compatible chat completions, the fallback chain, and fakes in tests.
class ChatModel {
 public:
  virtual ~ChatModel() = default;

  /// Asks for a whole reply. Throws ModelError when the upstream fails (after retries).
  virtual Task<ChatResult> generate(const ChatRequest& request) = 0;

  /// Streams a reply: `on_delta` gets the text as it arrives; the result holds all of it.
  /// Retries only before the first delta. Throws ModelError on failure (with
  /// `partial()` when deltas had already been forwarded). When the caller's coroutine is
  /// cancelled or `on_delta` returns false, the upstream connection is closed at once and
  /// the result so far is returned with `kInterrupted`.
  virtual Task<ChatResult> stream(const ChatRequest& request, DeltaHandler on_delta) = 0;

  /// "provider:model", for logs and metrics.
  [[nodiscard]] virtual std::string name() const = 0;
};

/// What went wrong upstream.
enum class ModelFailure {
  kTimeout,      ///< a connect, first-token, stall or total deadline passed
  kConnection,   ///< could not connect, or the connection dropped
  kTls,          ///< TLS handshake or certificate failure
  kRateLimited,  ///< 429 / RESOURCE_EXHAUSTED
  kServer,       ///< 5xx
  kRejected,     ///< 4xx other than 429 (bad request, key, permission, unknown model)
  kBadResponse,  ///< a body that is not what the API documents
  kTooLarge,     ///< request or response over its size limit
  kUnavailable,  ///< the circuit breaker is open; no call was made
};

/// A failed model call. It is an `upstream_unavailable` core::Error (502, 503 or 504) so
/// the edge can answer it as is; the fields say what to do about it.
class ModelError : public core::Error {
 public:
  ModelError(ModelFailure failure, std::string log_message, int http_status = 0);

  [[nodiscard]] ModelFailure failure() const noexcept { return failure_; }
  /// The upstream's HTTP status (0 when there was no response).
  [[nodiscard]] int http_status() const noexcept { return http_status_; }
  /// The upstream's own status word ("RESOURCE_EXHAUSTED", "invalid_request_error"…).
  [[nodiscard]] const std::string& upstream_status() const noexcept { return upstream_status_; }
  ModelError& with_upstream_status(std::string status);
  /// True when trying again (same or another model) may succeed.
  [[nodiscard]] bool retryable() const noexcept;
  /// Overrides what the failure kind implies (a total timeout is not worth repeating).
  ModelError& with_retryable(bool retryable);
  /// How long the upstream asked us to wait (Retry-After, RetryInfo).
  [[nodiscard]] std::optional<std::chrono::milliseconds> retry_after_hint() const noexcept { return retry_after_; }
  ModelError& with_retry_after_hint(std::chrono::milliseconds delay);
  /// True when reply text had already been forwarded to the caller: never retried.
  [[nodiscard]] bool partial() const noexcept { return partial_; }
  ModelError& with_partial(bool partial);

 private:
  ModelFailure failure_;
  int http_status_;
  std::string upstream_status_;
  std::optional<std::chrono::milliseconds> retry_after_;
  std::optional<bool> retryable_;
  bool partial_ = false;
};

/// A name for a failure kind ("timeout", "rate_limited", …), for logs and metrics.
[[nodiscard]] std::string_view model_failure_name(ModelFailure failure) noexcept;

}  // namespace evolveai::ai
