#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "ai/chat_model.hpp"
#include "ai/provider_support.hpp"
#include "ai/sse_parser.hpp"
#include "net/circuit_breaker.hpp"
#include "net/http_client.hpp"
#include "net/retry_policy.hpp"

namespace evolveai::ai {

/// Reads one reply of a provider: a unary body, or the events of a stream.
class ReplyReader {
 public:
  virtual ~ReplyReader() = default;
  /// Folds a whole unary response body. Throws ModelError for error bodies.
  virtual void read_body(std::string_view body) = 0;
  /// Folds one stream event and returns the reply text it adds (may be empty). Throws
  /// ModelError for an error reported inside the stream.
  virtual std::string read_event(const SseEvent& event) = 0;
  /// The stream ended; `stray_text` holds any lines that were not SSE fields.
  virtual void end_of_stream(std::string_view stray_text) = 0;
  /// What has been read so far.
  [[nodiscard]] virtual const ReplyAccumulator& reply() const = 0;
};

/// The wire format of one provider: how a ChatRequest becomes an HTTP request and how its
/// answers read. Gemini and OpenAI-compatible chat completions implement it.
class ProviderDialect {
 public:
  virtual ~ProviderDialect() = default;
  /// "gemini", "openai": for logs, metrics and errors.
  [[nodiscard]] virtual std::string_view provider() const = 0;
  /// The configured model name.
  [[nodiscard]] virtual const std::string& model() const = 0;
  /// The HTTP request for `request`, streaming or not.
  [[nodiscard]] virtual net::HttpRequest build(const ChatRequest& request, bool stream) const = 0;
  /// The error a non-2xx response stands for.
  [[nodiscard]] virtual ModelError error_from_response(const net::HttpResponse& response) const = 0;
  /// A fresh reader for one attempt.
  [[nodiscard]] virtual std::unique_ptr<ReplyReader> reader() const = 0;
};

/// How calls are retried and guarded; one per model.
struct ModelCallOptions {
  net::RetrySettings retry;  ///< max_attempts counts the first call
  /// A Retry-After or RetryInfo hint longer than this is not waited for: the call fails
  /// at once (so that a fallback model can answer).
  std::chrono::milliseconds max_retry_after = std::chrono::seconds(10);
  /// The provider's breaker (shared by the models of one provider; not owned, must
  /// outlive the model); null for none. Each attempt asks it first and reports to it:
  /// timeouts, connection failures, 429 and 5xx are failures; rejected requests, bad
  /// bodies and cancellations say nothing about the upstream's health.
  net::CircuitBreaker* breaker = nullptr;
  net::RetryPolicy::Random random;    ///< tests make jitter deterministic
  net::RetryPolicy::Sleeper sleeper;  ///< tests record waits; empty means a timer on the caller's executor
};

/// A ChatModel over HTTP: one provider dialect, one shared HttpClient, the shared retry
/// policy (honouring the upstream's wait hints, never after the first streamed delta) and
/// an optional circuit breaker.
class HttpChatModel final : public ChatModel {
 public:
  HttpChatModel(std::unique_ptr<ProviderDialect> dialect, std::shared_ptr<net::HttpClient> client,
                ModelCallOptions options);

  Task<ChatResult> generate(const ChatRequest& request) override;
  Task<ChatResult> stream(const ChatRequest& request, DeltaHandler on_delta) override;
  [[nodiscard]] std::string name() const override;

 private:
  class BreakerCall;
  /// Asks the breaker for an attempt; throws ModelError kUnavailable when it refuses.
  [[nodiscard]] BreakerCall admit() const;
  /// The provider's request for `request`, with the caller's `traceparent` when it has one.
  [[nodiscard]] net::HttpRequest build_request(const ChatRequest& request, bool stream) const;
  [[nodiscard]] net::RetryPolicy::Sleeper sleeper_with_hint(std::optional<std::chrono::milliseconds>& hint,
                                                            const boost::asio::any_io_executor& executor) const;

  std::unique_ptr<ProviderDialect> dialect_;
  std::shared_ptr<net::HttpClient> client_;
  ModelCallOptions options_;
  net::RetryPolicy retry_;
};

}  // namespace evolveai::ai
