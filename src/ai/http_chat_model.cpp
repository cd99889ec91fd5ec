#include "ai/http_chat_model.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/system/system_error.hpp>

#include <algorithm>
#include <stdexcept>
#include <utility>
#include <vector>

#include "ai/provider_support.hpp"

namespace evolveai::ai {

namespace {

bool is_success(int status) {
  return status >= 200 && status < 300;
}

/// Failures that say the upstream itself is unwell (what a circuit breaker counts).
bool is_health_failure(ModelFailure failure) {
  return failure == ModelFailure::kTimeout || failure == ModelFailure::kConnection ||
         failure == ModelFailure::kRateLimited || failure == ModelFailure::kServer;
}

bool is_cancellation(const boost::system::system_error& error) {
  return error.code() == boost::asio::error::operation_aborted;
}

}  // namespace

/// One attempt admitted by the breaker: it is told exactly one verdict, "ignored" unless
/// the attempt says otherwise.
class HttpChatModel::BreakerCall {
 public:
  explicit BreakerCall(net::CircuitBreaker* breaker) : breaker_(breaker) {}
  BreakerCall(BreakerCall&& other) noexcept : breaker_(std::exchange(other.breaker_, nullptr)) {}
  BreakerCall(const BreakerCall&) = delete;
  BreakerCall& operator=(const BreakerCall&) = delete;
  BreakerCall& operator=(BreakerCall&&) = delete;
  ~BreakerCall() {
    if (breaker_ != nullptr) {
      breaker_->record_ignored();
    }
  }

  void succeeded() {
    if (auto* breaker = std::exchange(breaker_, nullptr)) {
      breaker->record_success();
    }
  }

  void failed(const ModelError& error) {
    if (!is_health_failure(error.failure())) {
      return;
    }
    if (auto* breaker = std::exchange(breaker_, nullptr)) {
      breaker->record_failure();
    }
  }

 private:
  net::CircuitBreaker* breaker_;
};

HttpChatModel::HttpChatModel(std::unique_ptr<ProviderDialect> dialect, std::shared_ptr<net::HttpClient> client,
                             ModelCallOptions options)
    : dialect_(std::move(dialect)),
      client_(std::move(client)),
      options_(std::move(options)),
      retry_(
          options_.retry,
          [max_hint = options_.max_retry_after](const std::exception& failure) {
            const auto* error = dynamic_cast<const ModelError*>(&failure);
            if (error == nullptr || !error->retryable() || error->partial()) {
              return false;
            }
            const auto hint = error->retry_after_hint();
            return !hint || *hint <= max_hint;
          },
          options_.random) {}

std::string HttpChatModel::name() const {
  return std::string(dialect_->provider()) + ":" + dialect_->model();
}

net::HttpRequest HttpChatModel::build_request(const ChatRequest& request, bool stream) const {
  auto http_request = dialect_->build(request, stream);
  if (request.trace.valid()) {
    http_request.headers.set("traceparent", request.trace.traceparent());
  }
  return http_request;
}

HttpChatModel::BreakerCall HttpChatModel::admit() const {
  if (options_.breaker != nullptr && !options_.breaker->allow()) {
    throw ModelError(ModelFailure::kUnavailable, name() + ": circuit open, call not made");
  }
  return BreakerCall(options_.breaker);
}

net::RetryPolicy::Sleeper HttpChatModel::sleeper_with_hint(std::optional<std::chrono::milliseconds>& hint,
                                                           const boost::asio::any_io_executor& executor) const {
  auto base = options_.sleeper ? options_.sleeper : net::timer_sleeper(executor);
  // The policy's own backoff, stretched to the upstream's hint when it asked for longer.
  return [base = std::move(base), hint = &hint](std::chrono::nanoseconds delay) -> Task<void> {
    if (*hint) {
      delay = std::max<std::chrono::nanoseconds>(delay, **hint);
      hint->reset();
    }
    co_await base(delay);
  };
}

Task<ChatResult> HttpChatModel::generate(const ChatRequest& request) {
  const net::HttpRequest http_request = build_request(request, false);
  std::optional<std::chrono::milliseconds> hint;
  const auto executor = co_await boost::asio::this_coro::executor;
  auto sleeper = sleeper_with_hint(hint, executor);
  co_return co_await retry_.run(std::move(sleeper), [&]() -> Task<ChatResult> {
    auto call = admit();
    try {
      auto response = co_await client_->request(http_request);
      if (!is_success(response.status)) {
        throw dialect_->error_from_response(response);
      }
      auto reader = dialect_->reader();
      reader->read_body(response.body);
      auto result = reader->reply().finalize(dialect_->provider(), dialect_->model());
      call.succeeded();
      co_return result;
    } catch (const ModelError& error) {
      call.failed(error);
      hint = error.retry_after_hint();
      throw;
    } catch (const net::HttpError& error) {
      auto failure = model_error_from_transport(error, dialect_->provider());
      call.failed(failure);
      throw failure;
    }
  });
}

Task<ChatResult> HttpChatModel::stream(const ChatRequest& request, DeltaHandler on_delta) {
  const net::HttpRequest http_request = build_request(request, true);
  std::optional<std::chrono::milliseconds> hint;
  std::unique_ptr<ReplyReader> reader;
  bool forwarded = false;
  bool stopped = false;
  const auto executor = co_await boost::asio::this_coro::executor;
  auto sleeper = sleeper_with_hint(hint, executor);

  auto attempt = [&]() -> Task<ChatResult> {
    auto call = admit();
    reader = dialect_->reader();
    SseParser parser;
    std::vector<SseEvent> events;
    // Hands the text of each complete event to the caller; false once the caller stops.
    auto forward_events = [&]() -> Task<bool> {
      for (const auto& event : events) {
        const std::string delta = reader->read_event(event);
        if (delta.empty()) {
          continue;
        }
        forwarded = true;
        if (!co_await on_delta(delta)) {
          stopped = true;
          co_return false;
        }
      }
      events.clear();
      co_return true;
    };
    try {
      const auto outcome = co_await client_->stream(http_request, [&](std::string_view bytes) -> Task<bool> {
        parser.feed(bytes, events);
        co_return co_await forward_events();
      });
      if (!outcome.stopped) {
        parser.finish(events);
        if (co_await forward_events()) {
          reader->end_of_stream(parser.stray_text());
        }
      }
      if (stopped) {
        co_return reader->reply().interrupted(dialect_->model());
      }
      auto result = reader->reply().finalize(dialect_->provider(), dialect_->model());
      call.succeeded();
      co_return result;
    } catch (const ModelError& error) {
      ModelError failure = error;
      failure.with_partial(forwarded);
      call.failed(failure);
      hint = failure.retry_after_hint();
      throw failure;
    } catch (const net::HttpError& error) {
      auto failure =
          error.kind() == net::HttpErrorKind::kStatus
              ? dialect_->error_from_response(net::HttpResponse{error.status(), error.headers(), error.body()})
              : model_error_from_transport(error, dialect_->provider());
      failure.with_partial(forwarded);
      call.failed(failure);
      hint = failure.retry_after_hint();
      throw failure;
    } catch (const std::length_error& error) {
      ModelError failure(ModelFailure::kTooLarge, std::string(dialect_->provider()) + ": " + error.what());
      failure.with_partial(forwarded);
      throw failure;
    }
  };

  try {
    co_return co_await retry_.run(std::move(sleeper), attempt);
  } catch (const boost::system::system_error& error) {
    if (!is_cancellation(error)) {
      throw;
    }
  }
  // Cancelled by the caller: the connection is already closed; report what arrived.
  if (reader) {
    co_return reader->reply().interrupted(dialect_->model());
  }
  co_return ReplyAccumulator{}.interrupted(dialect_->model());
}

}  // namespace evolveai::ai
