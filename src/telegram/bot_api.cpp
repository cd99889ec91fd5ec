#include "telegram/bot_api.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <random>

#include "net/circuit_breaker.hpp"
#include "net/http_client.hpp"
#include "obs/logger.hpp"
#include "obs/metrics.hpp"
#include "telegram/format.hpp"

namespace evolveai::telegram {
namespace {

namespace json = boost::json;

/// True for failures on the way to Telegram or on its side, worth another attempt.
bool is_transient(const std::exception& failure) {
  if (const auto* api = dynamic_cast<const BotApiError*>(&failure)) {
    return api->transient();
  }
  if (const auto* http = dynamic_cast<const net::HttpError*>(&failure)) {
    return http->kind() == net::HttpErrorKind::kConnect || http->kind() == net::HttpErrorKind::kTimeout ||
           http->kind() == net::HttpErrorKind::kProtocol;
  }
  return false;
}

std::string trimmed_base(std::string base) {
  while (!base.empty() && base.back() == '/') {
    base.pop_back();
  }
  return base;
}

std::string random_boundary() {
  std::random_device entropy;
  static constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string boundary = "evolveai-";
  for (int i = 0; i < 24; ++i) {
    boundary += kAlphabet[entropy() % kAlphabet.size()];
  }
  return boundary;
}

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

}  // namespace

BotApiError::BotApiError(std::string method, int error_code, std::string description,
                         std::optional<std::chrono::seconds> retry_after)
    : std::runtime_error("telegram " + method + ": " + std::to_string(error_code) + " " + description),
      method_(std::move(method)),
      error_code_(error_code),
      description_(std::move(description)),
      retry_after_(retry_after) {}

bool is_entity_parse_error(const BotApiError& error) noexcept {
  return error.error_code() == 400 && contains(error.description(), "can't parse entities");
}

std::string multipart_body(std::string_view boundary, const std::vector<std::pair<std::string, std::string>>& fields,
                           const InputFile& file) {
  std::string body;
  body.reserve(file.bytes.size() + 512);
  for (const auto& [name, value] : fields) {
    body += "--";
    body += boundary;
    body += "\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n";
    body += value;
    body += "\r\n";
  }
  body += "--";
  body += boundary;
  body += "\r\nContent-Disposition: form-data; name=\"" + file.field + "\"; filename=\"" + file.filename + "\"\r\n";
  body += "Content-Type: " + file.content_type + "\r\n\r\n";
  body += file.bytes;
  body += "\r\n--";
  body += boundary;
  body += "--\r\n";
  return body;
}

struct BotApi::Impl {
  Impl(BotApiOptions opts, std::shared_ptr<net::HttpClient> http, net::CircuitBreaker* cb,
       obs::MetricsRegistry& metrics, obs::Logger& log)
      : options(std::move(opts)),
        base(trimmed_base(options.base_url)),
        client(std::move(http)),
        breaker(cb),
        retry(options.retry, is_transient),
        logger(log),
        requests(metrics.counter("evolveai_telegram_api_requests_total", "Bot API calls by method and outcome",
                                 {"method", "outcome"})) {}

  BotApiOptions options;
  std::string base;
  std::shared_ptr<net::HttpClient> client;
  net::CircuitBreaker* breaker;
  net::RetryPolicy retry;
  obs::Logger& logger;
  obs::Family<obs::Counter>& requests;

  [[nodiscard]] std::string method_url(std::string_view method) const {
    return base + "/bot" + options.token + "/" + std::string(method);
  }

  /// One attempt: send, read, and turn the reply into its result or a BotApiError.
  Task<json::value> send_once(std::string method, net::HttpRequest request) {
    auto sending = client->request(std::move(request));
    const auto response = co_await std::move(sending);
    boost::system::error_code parse_error;
    auto body = json::parse(response.body, parse_error);
    if (!parse_error && body.is_object()) {
      const auto& object = body.get_object();
      const auto* ok = object.if_contains("ok");
      if (ok != nullptr && ok->is_bool() && ok->get_bool()) {
        const auto* result = object.if_contains("result");
        co_return result == nullptr ? json::value(nullptr) : *result;
      }
      if (const auto failure = parse_api_failure(response.body)) {
        throw BotApiError(method, failure->error_code != 0 ? failure->error_code : response.status,
                          failure->description, failure->retry_after);
      }
    }
    throw BotApiError(method, response.status == 200 ? 502 : response.status,
                      "the reply is not a Bot API answer (HTTP " + std::to_string(response.status) + ")");
  }

  /// One attempt through the breaker (when there is one).
  Task<json::value> attempt(const std::string& method, const net::HttpRequest& request) {
    auto once = send_once(method, request);
    if (breaker == nullptr) {
      co_return co_await std::move(once);
    }
    auto guarded = breaker->run(std::move(once), is_transient);
    co_return co_await std::move(guarded);
  }

  /// Retries transient failures by the shared policy and waits out 429s as Telegram asks.
  Task<json::value> perform(std::string method, net::HttpRequest request, OnFlood on_flood) {
    auto executor = co_await boost::asio::this_coro::executor;
    const auto sleeper = net::timer_sleeper(executor);
    for (unsigned flood_waits = 0;; ++flood_waits) {
      std::chrono::seconds wait{0};
      try {
        auto attempt_fn = [this, &method, &request]() { return attempt(method, request); };
        auto running = retry.run(sleeper, attempt_fn);
        auto result = co_await std::move(running);
        requests.with({method, "ok"}).inc();
        co_return result;
      } catch (const BotApiError& e) {
        const bool flood = e.error_code() == 429 && e.retry_after().has_value();
        if (!flood || on_flood == OnFlood::kFail || flood_waits >= options.max_flood_waits ||
            *e.retry_after() > options.max_flood_wait) {
          requests.with({method, flood ? "flood" : "refused"}).inc();
          throw;
        }
        wait = *e.retry_after();
        logger.warn("telegram_flood_wait", {{"method", method}, {"retry_after_s", wait.count()}});
      } catch (const std::exception&) {
        requests.with({method, "failed"}).inc();
        throw;
      }
      boost::asio::steady_timer timer(executor, wait);
      co_await timer.async_wait(boost::asio::use_awaitable);
    }
  }
};

BotApi::BotApi(BotApiOptions options, std::shared_ptr<net::HttpClient> client, net::CircuitBreaker* breaker,
               obs::MetricsRegistry& metrics, obs::Logger& logger)
    : impl_(std::make_shared<Impl>(std::move(options), std::move(client), breaker, metrics, logger)) {}

BotApi::~BotApi() = default;

BotApi BotApi::with_trace(const obs::TraceContext& trace) const {
  return BotApi(impl_, trace);
}

void BotApi::add_trace(net::HttpRequest& request) const {
  if (trace_.valid()) {
    request.headers.set("traceparent", trace_.traceparent());
  }
}

Task<json::value> BotApi::call(std::string method, json::object params, OnFlood on_flood) {
  net::HttpRequest request;
  request.method = "POST";
  request.url = impl_->method_url(method);
  request.headers.set("Content-Type", "application/json");
  add_trace(request);
  request.body = json::serialize(params);
  auto performing = impl_->perform(std::move(method), std::move(request), on_flood);
  co_return co_await std::move(performing);
}

Task<json::value> BotApi::call_with_file(std::string method, std::vector<std::pair<std::string, std::string>> fields,
                                         InputFile file, OnFlood on_flood) {
  const auto boundary = random_boundary();
  net::HttpRequest request;
  request.method = "POST";
  request.url = impl_->method_url(method);
  request.headers.set("Content-Type", "multipart/form-data; boundary=" + boundary);
  add_trace(request);
  request.body = multipart_body(boundary, fields, file);
  auto performing = impl_->perform(std::move(method), std::move(request), on_flood);
  co_return co_await std::move(performing);
}

Task<std::string> BotApi::download_file(std::string file_path, std::size_t max_bytes) {
  net::HttpRequest request;
  request.method = "GET";
  request.url = impl_->base + "/file/bot" + impl_->options.token + "/" + file_path;
  add_trace(request);
  auto executor = co_await boost::asio::this_coro::executor;
  const auto sleeper = net::timer_sleeper(executor);
  auto impl = impl_;
  auto fetch = [impl, &request]() -> Task<net::HttpResponse> {
    auto sending = impl->client->request(request);
    auto response = co_await std::move(sending);
    if (response.status >= 500) {
      throw BotApiError("file", response.status, "file download failed");
    }
    co_return response;
  };
  auto running = impl_->retry.run(sleeper, fetch);
  auto response = co_await std::move(running);
  if (response.status != 200) {
    impl_->requests.with({"file", "refused"}).inc();
    throw BotApiError("file", response.status, "file download refused");
  }
  if (response.body.size() > max_bytes) {
    throw BotApiError("file", 413, "the file is larger than allowed");
  }
  impl_->requests.with({"file", "ok"}).inc();
  co_return std::move(response.body);
}

Task<User> BotApi::get_me() {
  auto calling = call("getMe", {});
  const auto result = co_await std::move(calling);
  co_return parse_user(result);
}

Task<UpdateBatch> BotApi::get_updates(std::int64_t offset, std::chrono::seconds timeout,
                                      const std::vector<std::string>& allowed_updates) {
  json::object params;
  params["offset"] = offset;
  params["timeout"] = timeout.count();
  json::array allowed;
  for (const auto& kind : allowed_updates) {
    allowed.emplace_back(kind);
  }
  params["allowed_updates"] = std::move(allowed);
  auto calling = call("getUpdates", std::move(params));
  const auto result = co_await std::move(calling);
  UpdateBatch batch;
  if (!result.is_array()) {
    throw BotApiError("getUpdates", 502, "result is not an array");
  }
  for (const auto& item : result.get_array()) {
    // The id is read first so that even an update that does not parse moves the offset on.
    if (const auto* object = item.if_object()) {
      if (const auto* id = object->if_contains("update_id"); id != nullptr && id->is_int64()) {
        batch.next_offset = std::max(batch.next_offset.value_or(0), id->get_int64() + 1);
      }
    }
    try {
      batch.updates.push_back(parse_update(item));
    } catch (const ParseError& e) {
      impl_->logger.warn("telegram_update_unparsable", {{"error", e.what()}});
    }
  }
  co_return batch;
}

Task<std::int64_t> BotApi::send_text(std::int64_t chat_id, std::string text, bool html,
                                     std::optional<json::object> reply_markup, OnFlood on_flood) {
  json::object params;
  params["chat_id"] = chat_id;
  params["text"] = text;
  if (html) {
    params["parse_mode"] = "HTML";
  }
  if (reply_markup) {
    params["reply_markup"] = *reply_markup;
  }
  std::optional<json::value> result;
  try {
    auto calling = call("sendMessage", params, on_flood);
    result = co_await std::move(calling);
  } catch (const BotApiError& e) {
    if (!html || !is_entity_parse_error(e)) {
      throw;
    }
    impl_->logger.warn("telegram_html_rejected", {{"method", "sendMessage"}, {"error", e.description()}});
  }
  if (!result) {
    params.erase("parse_mode");
    params["text"] = html_to_plain(text);
    auto calling = call("sendMessage", params, on_flood);
    result = co_await std::move(calling);
  }
  co_return parse_message(*result).message_id;
}

Task<void> BotApi::edit_text(std::int64_t chat_id, std::int64_t message_id, std::string text, bool html,
                             OnFlood on_flood) {
  json::object params;
  params["chat_id"] = chat_id;
  params["message_id"] = message_id;
  params["text"] = text;
  if (html) {
    params["parse_mode"] = "HTML";
  }
  bool plain_again = false;
  try {
    auto calling = call("editMessageText", params, on_flood);
    co_await std::move(calling);
  } catch (const BotApiError& e) {
    if (e.error_code() == 400 && contains(e.description(), "message is not modified")) {
      co_return;
    }
    if (!html || !is_entity_parse_error(e)) {
      throw;
    }
    impl_->logger.warn("telegram_html_rejected", {{"method", "editMessageText"}, {"error", e.description()}});
    plain_again = true;
  }
  if (plain_again) {
    params.erase("parse_mode");
    params["text"] = html_to_plain(text);
    auto calling = call("editMessageText", params, on_flood);
    co_await std::move(calling);
  }
}

Task<std::string> BotApi::file_path(std::string file_id) {
  json::object params;
  params["file_id"] = file_id;
  auto calling = call("getFile", std::move(params));
  const auto result = co_await std::move(calling);
  const auto* object = result.if_object();
  const auto* path = object == nullptr ? nullptr : object->if_contains("file_path");
  if (path == nullptr || !path->is_string()) {
    throw BotApiError("getFile", 400, "the file cannot be downloaded");
  }
  co_return std::string(path->get_string());
}

}  // namespace evolveai::telegram
