#include "api/chat_routes.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/system/system_error.hpp>

#include <cctype>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <utility>

#include "api/auth_routes.hpp"
#include "api/json_body.hpp"
#include "api/record_json.hpp"
#include "core/base64.hpp"
#include "core/errors.hpp"
#include "core/time_format.hpp"
#include "http/context.hpp"
#include "obs/tracer.hpp"
#include "services/chat_service.hpp"
#include "services/history_service.hpp"
#include "services/user_settings.hpp"
#include "services/voice_replies.hpp"

namespace evolveai::api {
namespace {

namespace json = boost::json;

constexpr std::size_t kMaxMimeTypeChars = 100;
constexpr std::int64_t kDefaultHistoryPage = 50;
constexpr std::int64_t kDefaultSearchLimit = 20;

bool contains_ignoring_case(std::string_view text, std::string_view needle) {
  if (needle.size() > text.size()) {
    return false;
  }
  for (std::size_t i = 0; i + needle.size() <= text.size(); ++i) {
    bool match = true;
    for (std::size_t j = 0; j < needle.size() && match; ++j) {
      match = std::tolower(static_cast<unsigned char>(text[i + j])) == needle[j];
    }
    if (match) {
      return true;
    }
  }
  return false;
}

json::object usage_body(const services::TurnUsage& usage) {
  json::object body;
  body["messages_today"] = usage.messages_today;
  body["daily_limit"] = usage.daily_limit ? json::value(*usage.daily_limit) : json::value(nullptr);
  return body;
}

json::object turn_body(const services::TurnResult& result) {
  json::object body;
  body["reply"] = result.reply;
  body["message_id"] = result.message_id;
  body["user_message_id"] = result.user_message_id;
  body["finish_reason"] = result.finish_reason;
  body["usage"] = usage_body(result.usage);
  return body;
}

/// `"voice"` of a turn's answer: the spoken reply, or why there is none.
json::object voice_body(const services::VoiceReply& voice) {
  json::object body;
  if (voice.speech) {
    body["mime_type"] = services::audio_content_type(voice.speech->format);
    body["data"] = core::base64_encode(voice.speech->audio);
    body["engine"] = voice.speech->engine;
    return body;
  }
  json::object error;
  if (voice.refused) {
    error["code"] = voice.refused->code();
    error["message"] = voice.refused->client_message();
    if (voice.refused->resets_at()) {
      error["resets_at"] = *voice.refused->resets_at();
    }
  }
  body["error"] = std::move(error);
  return body;
}

/// The spoken reply when this turn asked for one (or the user's setting does); nullopt when
/// none was wanted or there is nothing to speak.
Task<std::optional<json::object>> voice_for(services::VoiceReplies* voice, const services::TurnResult& result,
                                            storage::UserId user_id, std::optional<bool> requested,
                                            obs::TraceContext trace) {
  if (voice == nullptr || result.reply.empty() || result.finish_reason == "interrupted") {
    co_return std::nullopt;
  }
  const auto spoken = co_await voice->reply_to(user_id, requested, result.reply, services::AudioFormat::kOgg, trace);
  if (!spoken) {
    co_return std::nullopt;
  }
  co_return voice_body(*spoken);
}

std::optional<services::ChatImage> parse_image(const json::object& body, std::size_t max_bytes) {
  const auto* value = body.if_contains("image");
  if (value == nullptr || value->is_null()) {
    return std::nullopt;
  }
  if (!value->is_object()) {
    throw core::validation_failed("image", "'image' must be an object with 'mime_type' and 'data'");
  }
  const auto& image = value->as_object();
  for (const auto& [key, field] : image) {
    if (key != "mime_type" && key != "data") {
      throw core::validation_failed("image." + std::string(key), "'image' has only 'mime_type' and 'data'");
    }
  }
  services::ChatImage out;
  out.mime_type = require_string(image, "mime_type", 1, kMaxMimeTypeChars);
  const auto* data = image.if_contains("data");
  if (data == nullptr || !data->is_string()) {
    throw core::validation_failed("image.data", "'image.data' must be a base64 string");
  }
  out.bytes = services::decode_image_base64(data->as_string(), max_bytes);
  return out;
}

/// The span of writing a turn's answer (JSON or event stream), under the request's span.
obs::Span reply_span(const services::ChatService& chat, const obs::TraceContext& parent, bool streamed) {
  if (chat.tracer() == nullptr) {
    return {};
  }
  auto span = chat.tracer()->start_span("chat.reply", obs::SpanKind::kInternal, parent);
  span.set_bool("chat.streamed", streamed);
  return span;
}

/// What a POST /api/v1/chat body asks for.
struct ChatCall {
  services::ChatTurnRequest turn;
  bool stream = false;
  std::optional<bool> voice;  ///< the request's `voice` flag; absent: the user's setting decides
};

/// The turn a POST /api/v1/chat body asks for, whether to stream it and whether to speak the reply.
ChatCall parse_chat_request(const http::Request& request, const http::RequestContext& context,
                            const services::ChatLimits& limits) {
  const auto body = parse_json_object(request, {});
  for (const auto& [key, value] : body) {
    if (key != "message" && key != "image" && key != "client_message_id" && key != "stream" && key != "voice") {
      throw core::validation_failed(std::string(key), "unknown field '" + std::string(key) +
                                                          "'; known: message, image, client_message_id, stream, voice");
    }
  }
  services::ChatTurnRequest turn;
  turn.user_id = current_user(context);
  turn.trace = context.trace;
  turn.text = require_string(body, "message", 1, limits.max_message_chars);
  turn.client_message_id = optional_string(body, "client_message_id", 1, 64);
  turn.image = parse_image(body, limits.max_image_bytes);
  bool stream = optional_bool(body, "stream").value_or(false);
  if (const auto accept = request.headers.get("Accept")) {
    stream = stream || contains_ignoring_case(*accept, "text/event-stream");
  }
  return ChatCall{std::move(turn), stream, optional_bool(body, "voice")};
}

/// Runs a prepared turn as server-sent events; a wanted voice reply comes as `voice` before `end`.
http::Response stream_turn(services::ChatService& chat, services::VoiceReplies* voice, services::PreparedTurn prepared,
                           std::optional<bool> voice_requested) {
  auto turn = std::make_shared<services::PreparedTurn>(std::move(prepared));
  return http::Response::event_stream([&chat, voice, voice_requested, turn](http::EventSink& sink) -> Task<void> {
    // Writing the stream is the reply; the turn's own spans are its siblings under the request.
    auto span = reply_span(chat, turn->trace, true);
    const auto user_message_id = turn->user_message_id;
    const auto user_id = turn->user_id;
    services::TurnStartHandler on_start = [&sink, user_message_id]() -> Task<bool> {
      const auto data = json::serialize(json::object{{"user_message_id", user_message_id}});
      co_return co_await sink.send("start", data);
    };
    ai::DeltaHandler on_delta = [&sink](std::string_view text) -> Task<bool> {
      const auto data = json::serialize(json::object{{"text", text}});
      co_return co_await sink.send("delta", data);
    };
    std::optional<core::Error> failure;
    std::exception_ptr unexpected;
    services::TurnResult result;
    try {
      auto call = chat.complete(std::move(*turn), std::move(on_delta), std::move(on_start));
      result = co_await std::move(call);
    } catch (const core::Error& error) {
      failure = error;
    } catch (...) {
      unexpected = std::current_exception();
    }
    if (unexpected) {
      // Tell a client that is still there, then let the server log it.
      if (sink.open()) {
        const auto text = json::serialize(json::object{{"code", "internal"}, {"message", "Something went wrong"}});
        co_await sink.send("error", text);
      }
      std::rethrow_exception(unexpected);
    }
    if (!sink.open()) {
      co_return;
    }
    if (failure) {
      span.set_error(failure->code());
      json::object data{{"code", failure->code()}, {"message", failure->client_message()}};
      const auto text = json::serialize(data);
      co_await sink.send("error", text);
      co_return;
    }
    const auto reply_trace = span.context();
    if (auto spoken = co_await voice_for(voice, result, user_id, voice_requested, reply_trace)) {
      const auto text = json::serialize(*spoken);
      if (!co_await sink.send("voice", text)) {
        co_return;
      }
    }
    json::object end{{"message_id", result.message_id},
                     {"finish_reason", result.finish_reason},
                     {"usage", usage_body(result.usage)}};
    const auto text = json::serialize(end);
    co_await sink.send("end", text);
  });
}

json::object message_body(const storage::Message& message) {
  json::object body;
  body["id"] = message.id;
  body["role"] = storage::to_string(message.role);
  body["content"] = message.content;
  body["has_image"] = message.has_image;
  body["created_at"] = core::format_rfc3339(message.created_at);
  return body;
}

json::object export_body(const storage::UserExport& data) {
  const auto& user = data.user;
  json::object user_body;
  user_body["id"] = user.id;
  user_body["telegram_id"] = user.telegram_id;
  user_body["first_name"] = user.first_name;
  user_body["last_name"] = optional_text(user.last_name);
  user_body["username"] = optional_text(user.username);
  user_body["language_code"] = optional_text(user.language_code);
  user_body["settings"] = services::to_json(services::parse_stored_settings(user.settings_json));
  user_body["premium_until"] = optional_time(user.premium_until);
  user_body["created_at"] = core::format_rfc3339(user.created_at);

  json::array facts;
  for (const auto& fact : data.memory.facts) {
    facts.push_back(json::object{{"id", fact.id}, {"text", fact.text}, {"pinned", fact.pinned}});
  }
  json::object memory;
  memory["summary"] = data.memory.summary;
  memory["facts"] = std::move(facts);
  memory["last_summarized_message_id"] = data.memory.last_summarized_message_id;
  memory["updated_at"] = optional_time(data.memory.updated_at);

  json::array messages;
  for (const auto& message : data.messages) {
    auto body = message_body(message);
    body["status"] = storage::to_string(message.status);
    body["tokens"] = message.tokens;
    body["client_message_id"] = optional_text(message.client_message_id);
    body["reply_to_id"] = message.reply_to_id ? json::value(*message.reply_to_id) : json::value(nullptr);
    body["finish_reason"] = optional_text(message.finish_reason);
    messages.push_back(std::move(body));
  }

  json::array payments;
  for (const auto& payment : data.payments) {
    payments.push_back(payment_json(payment));
  }

  json::object body;
  body["format"] = "evolveai-export-1";
  body["exported_at"] = core::format_rfc3339(std::chrono::system_clock::now());
  body["user"] = std::move(user_body);
  body["memory"] = std::move(memory);
  body["messages"] = std::move(messages);
  body["payments"] = std::move(payments);
  return body;
}

}  // namespace

void add_chat_routes(http::Router& router, services::ChatService& chat, services::VoiceReplies* voice,
                     ChatRouteLimits limits) {
  http::RouteOptions options;
  options.access = http::Access::kUser;
  options.rate_limit_policy = "chat";
  options.body_limit = limits.body_limit;
  options.timeout = limits.timeout;
  router.add(
      "POST", "/api/v1/chat",
      [&chat, voice](http::Request& request, http::RequestContext& context) -> Task<http::Response> {
        auto call = parse_chat_request(request, context, chat.limits());
        const auto user_id = call.turn.user_id;
        // Everything that can be refused is refused here, as an ordinary HTTP error.
        auto preparing = chat.prepare(std::move(call.turn));
        auto prepared = co_await std::move(preparing);
        if (call.stream) {
          co_return stream_turn(chat, voice, std::move(prepared), call.voice);
        }
        auto completing = chat.complete(std::move(prepared));
        const auto result = co_await std::move(completing);
        auto span = reply_span(chat, context.trace, false);
        auto body = turn_body(result);
        const auto reply_trace = span.context();
        if (auto spoken = co_await voice_for(voice, result, user_id, call.voice, reply_trace)) {
          body["voice"] = std::move(*spoken);
        }
        co_return json_response(200, body);
      },
      options);
}

void add_history_routes(http::Router& router, services::HistoryService& history) {
  http::RouteOptions options;
  options.access = http::Access::kUser;
  options.rate_limit_policy = "api";
  const auto& limits = history.limits();

  router.add(
      "GET", "/api/v1/history",
      [&history, &limits](http::Request& request, http::RequestContext& context) -> Task<http::Response> {
        std::optional<storage::MessageId> before_id;
        if (request.query_param("before_id")) {
          before_id = query_integer(request, "before_id", 0, 1, INT64_MAX);
        }
        const auto limit =
            query_integer(request, "limit", kDefaultHistoryPage, 1, static_cast<std::int64_t>(limits.max_page));
        const auto page = co_await history.page(current_user(context), before_id, static_cast<std::size_t>(limit));
        json::array messages;
        for (const auto& message : page.messages) {
          messages.push_back(message_body(message));
        }
        json::object body;
        body["messages"] = std::move(messages);
        body["next_before_id"] = page.next_before_id ? json::value(*page.next_before_id) : json::value(nullptr);
        co_return json_response(200, body);
      },
      options);

  router.add(
      "DELETE", "/api/v1/history",
      [&history](http::Request&, http::RequestContext& context) -> Task<http::Response> {
        co_await history.forget(current_user(context));
        co_return http::Response::empty(204);
      },
      options);

  router.add(
      "GET", "/api/v1/search",
      [&history, &limits](http::Request& request, http::RequestContext& context) -> Task<http::Response> {
        const auto text = request.query_param("q");
        if (!text || text->empty()) {
          throw core::validation_failed("q", "'q' is required");
        }
        const auto limit = query_integer(request, "limit", kDefaultSearchLimit, 1,
                                         static_cast<std::int64_t>(limits.max_search_results));
        const auto hits = co_await history.search(current_user(context), *text, static_cast<std::size_t>(limit));
        json::array results;
        for (const auto& hit : hits) {
          json::object result;
          result["message_id"] = hit.message_id;
          result["role"] = storage::to_string(hit.role);
          result["snippet"] = hit.snippet_html;
          result["created_at"] = core::format_rfc3339(hit.created_at);
          result["rank"] = hit.rank;
          results.push_back(std::move(result));
        }
        co_return json_response(200, json::object{{"results", std::move(results)}});
      },
      options);

  router.add(
      "GET", "/api/v1/export",
      [&history](http::Request&, http::RequestContext& context) -> Task<http::Response> {
        const auto user_id = current_user(context);
        const auto data = co_await history.export_data(user_id);
        auto response = json_response(200, export_body(data));
        response.headers.set("Content-Disposition",
                             "attachment; filename=\"evolveai-export-" + std::to_string(user_id) + ".json\"");
        response.headers.set("Cache-Control", "no-store");
        co_return response;
      },
      options);
}

}  // namespace evolveai::api
