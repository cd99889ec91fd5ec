#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/task.hpp"
#include "net/retry_policy.hpp"
#include "obs/trace_context.hpp"
#include "telegram/update.hpp"

namespace evolveai::net {
class CircuitBreaker;
class HttpClient;
struct HttpRequest;
}  // namespace evolveai::net

namespace evolveai::obs {
class Counter;
class Logger;
class MetricsRegistry;
template <typename Metric>
class Family;
}  // namespace evolveai::obs

namespace evolveai::telegram {

/// Where the Bot API is and how patiently it is called.
struct BotApiOptions {
  std::string base_url = "https://api.telegram.org";  ///< a local Bot API server or a test fake also work
  std::string token;                                  ///< secret: never logged, only put in request paths
  net::RetrySettings retry;                           ///< transient failures (network, 5xx)
  std::chrono::seconds max_flood_wait{60};            ///< a 429 asking for longer fails the call instead
  unsigned max_flood_waits = 3;                       ///< 429 waits per call before it fails
};

/// A call the Bot API refused (`"ok": false`), or an answer that was not the API's.
class BotApiError : public std::runtime_error {
 public:
  BotApiError(std::string method, int error_code, std::string description,
              std::optional<std::chrono::seconds> retry_after = std::nullopt);

  [[nodiscard]] const std::string& method() const noexcept { return method_; }
  /// The API's error_code (the HTTP status when the body was not the API's).
  [[nodiscard]] int error_code() const noexcept { return error_code_; }
  [[nodiscard]] const std::string& description() const noexcept { return description_; }
  /// How long Telegram asked us to wait (429 only).
  [[nodiscard]] std::optional<std::chrono::seconds> retry_after() const noexcept { return retry_after_; }
  /// True for failures on Telegram's side (5xx), worth another try.
  [[nodiscard]] bool transient() const noexcept { return error_code_ >= 500; }

 private:
  std::string method_;
  int error_code_;
  std::string description_;
  std::optional<std::chrono::seconds> retry_after_;
};

/// What to do when Telegram answers 429 with retry_after.
enum class OnFlood {
  kWait,  ///< wait the time asked and try again (up to max_flood_waits, max_flood_wait each)
  kFail,  ///< throw at once (streamed previews: the next one will do)
};

/// A file to upload in a multipart call.
struct InputFile {
  std::string field;  ///< the parameter name, e.g. "voice"
  std::string filename;
  std::string content_type;
  std::string bytes;
};

/// One batch of getUpdates.
struct UpdateBatch {
  std::vector<Update> updates;              ///< those that parsed
  std::optional<std::int64_t> next_offset;  ///< the highest update_id seen + 1 (unparsable ones included)
};

/// The Telegram Bot API over the shared HTTP client: JSON calls and multipart uploads, the
/// shared retry policy for transient failures (network errors, 5xx), Telegram's 429
/// `retry_after` honoured, every attempt through the `telegram` circuit breaker, and file
/// downloads. Counts calls in `evolveai_telegram_api_requests_total{method,outcome}`. The
/// token only ever appears in request paths, never in logs or errors. Thread-safe.
class BotApi {
 public:
  /// `breaker` may be null (no breaker). The client must outlive this object.
  BotApi(BotApiOptions options, std::shared_ptr<net::HttpClient> client, net::CircuitBreaker* breaker,
         obs::MetricsRegistry& metrics, obs::Logger& logger);
  ~BotApi();
  BotApi(const BotApi&) = delete;
  BotApi& operator=(const BotApi&) = delete;

  /// The same client (shared state, breaker, metrics) whose calls carry `trace` as their
  /// `traceparent` parent: for the calls made while handling one update.
  [[nodiscard]] BotApi with_trace(const obs::TraceContext& trace) const;

  /// Calls a method with JSON parameters and returns its `result`. Throws BotApiError when
  /// Telegram refuses, net::HttpError / net::CircuitOpenError when it cannot be reached.
  Task<boost::json::value> call(std::string method, boost::json::object params, OnFlood on_flood = OnFlood::kWait);
  /// Calls a method as multipart/form-data with string fields and one file.
  Task<boost::json::value> call_with_file(std::string method, std::vector<std::pair<std::string, std::string>> fields,
                                          InputFile file, OnFlood on_flood = OnFlood::kWait);
  /// Downloads a file by the `file_path` getFile gave; throws BotApiError past `max_bytes` or on a non-200.
  Task<std::string> download_file(std::string file_path, std::size_t max_bytes);

  /// getMe: the bot itself.
  Task<User> get_me();
  /// getUpdates with long polling; updates that do not parse are logged and skipped.
  Task<UpdateBatch> get_updates(std::int64_t offset, std::chrono::seconds timeout,
                                const std::vector<std::string>& allowed_updates);
  /// sendMessage; `html` sends parse_mode HTML and falls back to plain text when Telegram cannot
  /// parse the entities. Returns the sent message's id.
  Task<std::int64_t> send_text(std::int64_t chat_id, std::string text, bool html,
                               std::optional<boost::json::object> reply_markup = std::nullopt,
                               OnFlood on_flood = OnFlood::kWait);
  /// editMessageText, with the same HTML fallback; "message is not modified" is not an error.
  Task<void> edit_text(std::int64_t chat_id, std::int64_t message_id, std::string text, bool html,
                       OnFlood on_flood = OnFlood::kWait);
  /// getFile: the path to download a file from.
  Task<std::string> file_path(std::string file_id);

 private:
  struct Impl;
  BotApi(std::shared_ptr<Impl> impl, const obs::TraceContext& trace) : impl_(std::move(impl)), trace_(trace) {}
  /// Puts `traceparent` on a request when this client carries a trace.
  void add_trace(net::HttpRequest& request) const;

  std::shared_ptr<Impl> impl_;
  obs::TraceContext trace_;
};

/// A multipart/form-data body with text fields and one file (pure; for the client and tests).
[[nodiscard]] std::string multipart_body(std::string_view boundary,
                                         const std::vector<std::pair<std::string, std::string>>& fields,
                                         const InputFile& file);

/// True when a BotApiError says Telegram could not parse the message's HTML.
[[nodiscard]] bool is_entity_parse_error(const BotApiError& error) noexcept;

}  // namespace evolveai::telegram
