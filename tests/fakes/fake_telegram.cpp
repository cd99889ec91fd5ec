#include "fakes/fake_telegram.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "core/task.hpp"

namespace evolveai::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;
constexpr auto kAsTuple = asio::as_tuple(asio::use_awaitable);

constexpr std::size_t kMaxUnits = 4096;
constexpr std::chrono::milliseconds kLongPollStep{10};

std::size_t utf16_units(std::string_view text) {
  std::size_t units = 0;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte & 0xC0U) != 0x80U) {
      units += byte >= 0xF0 ? 2 : 1;
    }
  }
  return units;
}

struct Reply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

Reply ok(json::value result) {
  json::object body;
  body["ok"] = true;
  body["result"] = std::move(result);
  return Reply{200, "application/json", json::serialize(body)};
}

Reply error(int status, const std::string& description, std::optional<int> retry_after = std::nullopt) {
  json::object body;
  body["ok"] = false;
  body["error_code"] = status;
  body["description"] = description;
  if (retry_after) {
    body["parameters"] = json::object{{"retry_after", *retry_after}};
  }
  return Reply{status, "application/json", json::serialize(body)};
}

std::string header_param(std::string_view header, std::string_view name) {
  const auto key = std::string(name) + "=";
  const auto at = header.find(key);
  if (at == std::string_view::npos) {
    return {};
  }
  auto value = header.substr(at + key.size());
  if (!value.empty() && value.front() == '"') {
    value.remove_prefix(1);
    return std::string(value.substr(0, value.find('"')));
  }
  return std::string(value.substr(0, value.find_first_of("; ")));
}

/// Splits a multipart/form-data body into the call's fields and file.
void parse_multipart(std::string_view body, std::string_view boundary, TelegramCall& call) {
  const std::string delimiter = "--" + std::string(boundary);
  std::size_t at = body.find(delimiter);
  while (at != std::string_view::npos) {
    at += delimiter.size();
    if (body.substr(at, 2) == "--") {
      break;
    }
    at += 2;  // CRLF
    const auto head_end = body.find("\r\n\r\n", at);
    const auto next = body.find("\r\n" + delimiter, head_end);
    if (head_end == std::string_view::npos || next == std::string_view::npos) {
      break;
    }
    const auto head = body.substr(at, head_end - at);
    const auto content = body.substr(head_end + 4, next - head_end - 4);
    const auto name = header_param(head, "name");
    const auto filename = header_param(head, "filename");
    if (!filename.empty()) {
      call.file_field = name;
      call.file_name = filename;
      const auto type_at = head.find("Content-Type: ");
      if (type_at != std::string_view::npos) {
        const auto type = head.substr(type_at + 14);
        call.file_content_type = std::string(type.substr(0, type.find("\r\n")));
      }
      call.file_bytes = std::string(content);
    } else {
      call.params[name] = std::string(content);
    }
    at = next + 2;
  }
}

std::int64_t int_param(const json::object& params, std::string_view name) {
  const auto* value = params.if_contains(name);
  if (value == nullptr) {
    return 0;
  }
  if (value->is_int64()) {
    return value->get_int64();
  }
  if (value->is_string()) {
    return std::stoll(std::string(value->get_string()));
  }
  return 0;
}

std::string string_param(const json::object& params, std::string_view name) {
  const auto* value = params.if_contains(name);
  return value != nullptr && value->is_string() ? std::string(value->get_string()) : std::string();
}

}  // namespace

HtmlCheck check_telegram_html(std::string_view html) {
  static constexpr std::array<std::string_view, 16> kTags{"b",          "strong", "i",          "em",      "u",   "ins",
                                                          "s",          "strike", "del",        "code",    "pre", "a",
                                                          "tg-spoiler", "span",   "blockquote", "tg-emoji"};
  HtmlCheck check;
  std::vector<std::string> open;
  std::size_t i = 0;
  while (i < html.size()) {
    const char c = html[i];
    if (c == '<') {
      const auto close = html.find('>', i);
      if (close == std::string_view::npos) {
        check.error = "Can't find end of the entity starting at byte offset " + std::to_string(i);
        return check;
      }
      auto tag = html.substr(i + 1, close - i - 1);
      const bool closing = !tag.empty() && tag.front() == '/';
      if (closing) {
        tag.remove_prefix(1);
      }
      const auto name = tag.substr(0, tag.find(' '));
      if (std::find(kTags.begin(), kTags.end(), name) == kTags.end()) {
        check.error = "Unsupported start tag \"" + std::string(name) + "\" at byte offset " + std::to_string(i);
        return check;
      }
      if (closing) {
        if (open.empty() || open.back() != name) {
          check.error = "Unmatched end tag at byte offset " + std::to_string(i);
          return check;
        }
        open.pop_back();
      } else {
        open.emplace_back(name);
      }
      i = close + 1;
      continue;
    }
    if (c == '&') {
      const auto semicolon = html.find(';', i);
      const auto entity = semicolon == std::string_view::npos ? std::string_view() : html.substr(i, semicolon - i + 1);
      if (entity == "&lt;") {
        check.plain += '<';
      } else if (entity == "&gt;") {
        check.plain += '>';
      } else if (entity == "&amp;") {
        check.plain += '&';
      } else if (entity == "&quot;") {
        check.plain += '"';
      } else if (entity.size() > 3 && entity[1] == '#' &&
                 std::all_of(entity.begin() + 2, entity.end() - 1, [](char d) { return d >= '0' && d <= '9'; })) {
        check.plain += '?';
      } else {
        // Telegram keeps a lone '&' that starts no entity; an unknown named entity is refused.
        if (!entity.empty() && entity.find_first_of(" <&", 1) == std::string_view::npos && entity.size() < 10) {
          check.error = "Unsupported entity \"" + std::string(entity) + "\"";
          return check;
        }
        check.plain += '&';
        ++i;
        continue;
      }
      i += entity.size();
      continue;
    }
    if (c == '>') {
      check.plain += c;
      ++i;
      continue;
    }
    check.plain += c;
    ++i;
  }
  if (!open.empty()) {
    check.error = "Can't find end tag corresponding to start tag \"" + open.back() + "\"";
    return check;
  }
  check.ok = true;
  return check;
}

json::object text_update(std::int64_t user_id, std::string_view text, std::string_view language_code,
                         std::string_view first_name) {
  json::object from{{"id", user_id}, {"is_bot", false}, {"first_name", first_name}, {"language_code", language_code}};
  json::object chat{{"id", user_id}, {"first_name", first_name}, {"type", "private"}};
  static std::atomic<std::int64_t> message_ids{1000};
  json::object message{
      {"message_id", message_ids++}, {"from", from}, {"chat", chat}, {"date", 1700000000}, {"text", text}};
  if (!text.empty() && text.front() == '/') {
    const auto end = text.find(' ');
    const auto length = end == std::string_view::npos ? text.size() : end;
    message["entities"] = json::array{
        json::object{{"type", "bot_command"}, {"offset", 0}, {"length", static_cast<std::int64_t>(length)}}};
  }
  return json::object{{"message", message}};
}

struct FakeTelegram::Impl {
  struct Failure {
    int status;
    std::string description;
    std::optional<int> retry_after;
  };

  explicit Impl(std::string bot_token) : token(std::move(bot_token)) {}

  std::string token;
  // Recursive, so that a wait_until predicate may call back into the fake (calls(), pending_updates()).
  mutable std::recursive_mutex mutex;
  mutable std::condition_variable_any changed;
  std::deque<json::object> updates;  // unconfirmed, ascending update_id
  std::int64_t next_update_id = 1;
  std::map<std::string, std::string> files;  // file_id -> bytes
  std::map<std::string, std::deque<Failure>> failures;
  std::vector<std::string> refunded;
  std::vector<TelegramCall> recorded;
  std::int64_t next_message_id = 1;
  std::int64_t next_link = 1;
  bool drafts = true;

  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::thread thread;

  void record(TelegramCall call) {
    const std::scoped_lock lock(mutex);
    recorded.push_back(std::move(call));
    changed.notify_all();
  }

  json::object message_result(const json::object& params, const std::string& text) {
    const std::scoped_lock lock(mutex);
    json::object message;
    message["message_id"] = next_message_id++;
    message["date"] = 1700000000;
    message["chat"] = json::object{{"id", int_param(params, "chat_id")}, {"type", "private"}};
    if (!text.empty()) {
      message["text"] = text;
    }
    return message;
  }

  /// Checks text as Telegram would; the refusal when it would not send it.
  static std::optional<Reply> refuse_text(const json::object& params) {
    const auto text = string_param(params, "text");
    std::string plain = text;
    if (string_param(params, "parse_mode") == "HTML") {
      const auto check = check_telegram_html(text);
      if (!check.ok) {
        return error(400, "Bad Request: can't parse entities: " + check.error);
      }
      plain = check.plain;
    }
    if (plain.empty()) {
      return error(400, "Bad Request: message text is empty");
    }
    if (utf16_units(plain) > kMaxUnits) {
      return error(400, "Bad Request: message is too long");
    }
    return std::nullopt;
  }

  Task<Reply> get_updates(const json::object& params) {
    const auto offset = int_param(params, "offset");
    const auto timeout = std::chrono::seconds(int_param(params, "timeout"));
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    asio::steady_timer timer(io);
    json::array result;
    for (;;) {
      {
        const std::scoped_lock lock(mutex);
        while (!updates.empty() && offset > 0 && updates.front().at("update_id").as_int64() < offset) {
          updates.pop_front();
        }
        for (const auto& update : updates) {
          if (update.at("update_id").as_int64() >= offset && result.size() < 100) {
            result.push_back(update);
          }
        }
      }
      if (!result.empty() || std::chrono::steady_clock::now() >= deadline) {
        break;
      }
      timer.expires_after(kLongPollStep);
      co_await timer.async_wait(asio::use_awaitable);
    }
    co_return ok(result);
  }

  Task<Reply> answer(TelegramCall& call) {
    const auto& method = call.method;
    const auto& params = call.params;
    {
      const std::scoped_lock lock(mutex);
      auto found = failures.find(method);
      if (found != failures.end() && !found->second.empty()) {
        const auto failure = found->second.front();
        found->second.pop_front();
        co_return error(failure.status, failure.description, failure.retry_after);
      }
    }
    if (method == "getMe") {
      co_return ok(json::object{{"id", 4242}, {"is_bot", true}, {"first_name", "EvolveAI"}, {"username", kUsername}});
    }
    if (method == "getUpdates") {
      auto waiting = get_updates(params);
      co_return co_await std::move(waiting);
    }
    if (method == "sendMessage" || method == "editMessageText") {
      if (auto refusal = refuse_text(params)) {
        co_return *refusal;
      }
      auto message = message_result(params, string_param(params, "text"));
      if (method == "editMessageText") {
        message["message_id"] = int_param(params, "message_id");
      }
      co_return ok(std::move(message));
    }
    if (method == "sendMessageDraft") {
      bool supported = false;
      {
        const std::scoped_lock lock(mutex);
        supported = drafts;
      }
      if (!supported) {
        co_return error(404, "Not Found");
      }
      if (auto refusal = refuse_text(params)) {
        co_return *refusal;
      }
      co_return ok(true);
    }
    if (method == "sendVoice") {
      if (call.file_bytes.empty()) {
        co_return error(400, "Bad Request: there is no voice in the request");
      }
      co_return ok(message_result(params, ""));
    }
    if (method == "sendInvoice") {
      if (string_param(params, "currency") != "XTR" || !params.contains("prices")) {
        co_return error(400, "Bad Request: CURRENCY_INVALID");
      }
      co_return ok(message_result(params, ""));
    }
    if (method == "createInvoiceLink") {
      const std::scoped_lock lock(mutex);
      co_return ok(json::value("https://t.me/$fake-invoice-" + std::to_string(next_link++)));
    }
    if (method == "refundStarPayment") {
      const auto charge = string_param(params, "telegram_payment_charge_id");
      const std::scoped_lock lock(mutex);
      if (std::find(refunded.begin(), refunded.end(), charge) != refunded.end()) {
        co_return error(400, "Bad Request: CHARGE_ALREADY_REFUNDED");
      }
      refunded.push_back(charge);
      co_return ok(true);
    }
    if (method == "getFile") {
      const auto file_id = string_param(params, "file_id");
      const std::scoped_lock lock(mutex);
      const auto found = files.find(file_id);
      if (found == files.end()) {
        co_return error(400, "Bad Request: wrong file_id or the file is temporarily unavailable");
      }
      co_return ok(json::object{{"file_id", file_id},
                                {"file_unique_id", file_id},
                                {"file_size", static_cast<std::int64_t>(found->second.size())},
                                {"file_path", "files/" + file_id}});
    }
    if (method == "sendChatAction" || method == "answerPreCheckoutQuery" || method == "answerCallbackQuery" ||
        method == "setWebhook" || method == "deleteWebhook" || method == "setMyCommands") {
      co_return ok(true);
    }
    co_return error(404, "Not Found");
  }

  Task<Reply> serve(const bhttp::request<bhttp::string_body>& request) {
    const std::string target(request.target());
    const std::string method_prefix = "/bot" + token + "/";
    const std::string file_prefix = "/file/bot" + token + "/files/";
    if (target.starts_with(file_prefix)) {
      const auto file_id = target.substr(file_prefix.size());
      TelegramCall call;
      call.method = "file";
      call.params["file_id"] = file_id;
      call.at = std::chrono::steady_clock::now();
      std::optional<std::string> bytes;
      {
        const std::scoped_lock lock(mutex);
        if (const auto found = files.find(file_id); found != files.end()) {
          bytes = found->second;
        }
      }
      call.status = bytes ? 200 : 404;
      record(call);
      co_return bytes ? Reply{200, "application/octet-stream", *bytes} : error(404, "Not Found");
    }
    if (!target.starts_with(method_prefix)) {
      co_return error(401, "Unauthorized");
    }
    TelegramCall call;
    call.method = target.substr(method_prefix.size());
    call.method = call.method.substr(0, call.method.find('?'));
    call.at = std::chrono::steady_clock::now();
    call.traceparent = std::string(request["traceparent"]);
    const std::string content_type(request[bhttp::field::content_type]);
    if (content_type.starts_with("multipart/form-data")) {
      parse_multipart(request.body(), header_param(content_type, "boundary"), call);
    } else if (!request.body().empty()) {
      boost::system::error_code ec;
      auto parsed = json::parse(request.body(), ec);
      if (ec || !parsed.is_object()) {
        co_return error(400, "Bad Request: the body is not JSON");
      }
      call.params = std::move(parsed.get_object());
    }
    auto answering = answer(call);
    auto reply = co_await std::move(answering);
    call.status = reply.status;
    if (reply.status != 200) {
      boost::system::error_code ec;
      const auto body = json::parse(reply.body, ec);
      if (!ec && body.is_object()) {
        call.description = string_param(body.get_object(), "description");
      }
    }
    record(std::move(call));
    co_return reply;
  }

  Task<void> session(tcp::socket socket) {
    beast::flat_buffer buffer;
    for (;;) {
      bhttp::request_parser<bhttp::string_body> parser;
      parser.body_limit(std::size_t{64} * 1024 * 1024);
      auto [ec, read] = co_await bhttp::async_read(socket, buffer, parser, kAsTuple);
      if (ec) {
        break;
      }
      const auto& request = parser.get();
      auto serving = serve(request);
      const auto reply = co_await std::move(serving);
      bhttp::response<bhttp::string_body> response;
      response.version(11);
      response.result(static_cast<unsigned>(reply.status));
      response.set(bhttp::field::content_type, reply.content_type);
      response.body() = reply.body;
      response.keep_alive(request.keep_alive());
      response.prepare_payload();
      auto [write_error, written] = co_await bhttp::async_write(socket, response, kAsTuple);
      if (write_error || !request.keep_alive()) {
        break;
      }
    }
    boost::system::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
  }

  Task<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(kAsTuple);
      if (ec) {
        co_return;
      }
      asio::co_spawn(io, session(std::move(socket)), asio::detached);
    }
  }
};

FakeTelegram::FakeTelegram(std::string token) : impl_(std::make_unique<Impl>(std::move(token))) {
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
  impl_->acceptor.open(endpoint.protocol());
  impl_->acceptor.set_option(asio::socket_base::reuse_address(true));
  impl_->acceptor.bind(endpoint);
  impl_->acceptor.listen();
  asio::co_spawn(impl_->io, impl_->accept_loop(), asio::detached);
  impl_->thread = std::thread([impl = impl_.get()] { impl->io.run(); });
}

FakeTelegram::~FakeTelegram() {
  asio::post(impl_->io, [impl = impl_.get()] {
    boost::system::error_code ignored;
    impl->acceptor.close(ignored);
  });
  impl_->io.stop();
  impl_->thread.join();
}

std::string FakeTelegram::base_url() const {
  return "http://127.0.0.1:" + std::to_string(impl_->acceptor.local_endpoint().port());
}

std::int64_t FakeTelegram::push_update(json::object update) {
  const std::scoped_lock lock(impl_->mutex);
  std::int64_t id = 0;
  if (const auto* given = update.if_contains("update_id"); given != nullptr && given->is_int64()) {
    id = given->get_int64();
    impl_->next_update_id = std::max(impl_->next_update_id, id + 1);
  } else {
    id = impl_->next_update_id++;
    update["update_id"] = id;
  }
  impl_->updates.push_back(std::move(update));
  std::stable_sort(impl_->updates.begin(), impl_->updates.end(), [](const json::object& a, const json::object& b) {
    return a.at("update_id").as_int64() < b.at("update_id").as_int64();
  });
  return id;
}

std::size_t FakeTelegram::pending_updates() const {
  const std::scoped_lock lock(impl_->mutex);
  return impl_->updates.size();
}

bool FakeTelegram::wait_for_updates_confirmed(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mutex);
  return impl_->changed.wait_for(lock, timeout, [&] { return impl_->updates.empty(); });
}

void FakeTelegram::add_file(std::string file_id, std::string bytes) {
  const std::scoped_lock lock(impl_->mutex);
  impl_->files[std::move(file_id)] = std::move(bytes);
}

void FakeTelegram::fail_next(const std::string& method, int status, const std::string& description,
                             std::optional<int> retry_after, int times) {
  const std::scoped_lock lock(impl_->mutex);
  for (int i = 0; i < times; ++i) {
    impl_->failures[method].push_back(Impl::Failure{status, description, retry_after});
  }
}

void FakeTelegram::set_drafts_supported(bool supported) {
  const std::scoped_lock lock(impl_->mutex);
  impl_->drafts = supported;
}

std::vector<std::string> FakeTelegram::refunded_charges() const {
  const std::scoped_lock lock(impl_->mutex);
  return impl_->refunded;
}

std::vector<TelegramCall> FakeTelegram::calls(std::string_view method) const {
  const std::scoped_lock lock(impl_->mutex);
  std::vector<TelegramCall> out;
  for (const auto& call : impl_->recorded) {
    if (method.empty() || call.method == method) {
      out.push_back(call);
    }
  }
  return out;
}

bool FakeTelegram::wait_for_calls(std::string_view method, std::size_t count, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mutex);
  return impl_->changed.wait_for(lock, timeout, [&] {
    return static_cast<std::size_t>(std::count_if(impl_->recorded.begin(), impl_->recorded.end(), [&](const auto& c) {
             return method.empty() || c.method == method;
           })) >= count;
  });
}

bool FakeTelegram::wait_until(const std::function<bool(const std::vector<TelegramCall>&)>& predicate,
                              std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mutex);
  return impl_->changed.wait_for(lock, timeout, [&] { return predicate(impl_->recorded); });
}

std::size_t FakeTelegram::finished_messages_to(const std::vector<TelegramCall>& calls, std::int64_t chat) {
  return static_cast<std::size_t>(std::count_if(calls.begin(), calls.end(), [chat](const TelegramCall& call) {
    const auto* id = call.params.if_contains("chat_id");
    const auto* mode = call.params.if_contains("parse_mode");
    return call.method == "sendMessage" && call.status == 200 && id != nullptr && id->is_int64() &&
           id->get_int64() == chat && mode != nullptr;
  }));
}

}  // namespace evolveai::testing
