// JSON at the API edge, with the code the chat and history routes use (api::parse_json_object and
// its field readers, core::format_rfc3339, api::json_response): reading a POST /api/v1/chat body,
// and building a chat answer and a 50-message history page as API.md shapes them.
#include <benchmark/benchmark.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/json_body.hpp"
#include "core/time_format.hpp"
#include "http/message.hpp"
#include "services/chat_service.hpp"
#include "storage/records.hpp"

namespace {

namespace api = evolveai::api;
namespace http = evolveai::http;
namespace json = boost::json;
namespace services = evolveai::services;
namespace storage = evolveai::storage;

constexpr std::size_t kHistoryPage = 50;
constexpr std::int64_t kMaxClientMessageIdChars = 64;

constexpr std::string_view kChatMessage =
    "Hi! Yesterday I told you about the jazz records my grandfather left me. I finally found the "
    "Coltrane one, \"Blue Train\", and the sleeve has a note in Russian: \"Для Ани, когда вырастет\". "
    "Can you help me figure out which pressing it is, and what I should listen to next?";

constexpr std::string_view kReply =
    "Oh, that's wonderful, Anna! A note like «Для Ани, когда вырастет» makes the record twice as "
    "precious. To tell the pressing, look at the label: an original 1957 Blue Note has \"47 West 63rd\" "
    "on it, a deep groove ring and an \"ear\" (a small P) stamped in the dead wax. Later pressings say "
    "\"New York, USA\" or show a Liberty logo. As for what's next, since you loved the title track, try "
    "\"Moment's Notice\" again with headphones, then Lee Morgan's \"The Sidewinder\" — the trumpet on "
    "Blue Train is his. Tell me what the label says and we'll narrow it down together.";

std::string chat_body() {
  json::object body;
  body["message"] = kChatMessage;
  body["client_message_id"] = "c-1f2e9a7b-3c4d-4e5f-8a9b-0c1d2e3f4a5b";
  body["stream"] = false;
  return json::serialize(body);
}

/// What the chat route reads from a body (the same field readers and limits).
struct ChatFields {
  std::string message;
  std::optional<std::string> client_message_id;
  bool stream = false;
  std::optional<bool> voice;
};

ChatFields read_chat_body(const http::Request& request, const services::ChatLimits& limits) {
  const auto body = api::parse_json_object(request, {});
  ChatFields fields;
  fields.message = api::require_string(body, "message", 1, limits.max_message_chars);
  fields.client_message_id = api::optional_string(body, "client_message_id", 1, kMaxClientMessageIdChars);
  fields.stream = api::optional_bool(body, "stream").value_or(false);
  fields.voice = api::optional_bool(body, "voice");
  return fields;
}

// Parsing and validating a realistic POST /api/v1/chat body (about 400 bytes, English and Russian).
void micro_json_chat_request_parse(benchmark::State& state) {
  http::Request request;
  request.method = "POST";
  request.target = "/api/v1/chat";
  request.path = "/api/v1/chat";
  request.headers.set("Content-Type", "application/json; charset=utf-8");
  request.body = chat_body();
  const services::ChatLimits limits;

  const auto checked = read_chat_body(request, limits);
  if (checked.message != kChatMessage || !checked.client_message_id || checked.stream) {
    state.SkipWithError("the chat body did not read back as written");
    return;
  }
  for ([[maybe_unused]] auto iteration : state) {
    auto fields = read_chat_body(request, limits);
    benchmark::DoNotOptimize(fields);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(request.body.size()));
}
BENCHMARK(micro_json_chat_request_parse);

/// The answer of a non-streamed turn, keyed as the chat route writes it.
http::Response chat_answer(const services::TurnResult& result) {
  json::object usage;
  usage["messages_today"] = result.usage.messages_today;
  usage["daily_limit"] = result.usage.daily_limit ? json::value(*result.usage.daily_limit) : json::value(nullptr);
  json::object body;
  body["reply"] = result.reply;
  body["message_id"] = result.message_id;
  body["user_message_id"] = result.user_message_id;
  body["finish_reason"] = result.finish_reason;
  body["usage"] = std::move(usage);
  return api::json_response(200, body);
}

// Building and serializing the 200 answer of POST /api/v1/chat (a 600-character reply).
void micro_json_chat_answer_build(benchmark::State& state) {
  services::TurnResult result;
  result.reply = std::string(kReply);
  result.message_id = 902;
  result.user_message_id = 901;
  result.finish_reason = "stop";
  result.usage.messages_today = 4;
  result.usage.daily_limit = 50;

  const auto checked = json::parse(chat_answer(result).body);
  if (checked.at("reply").as_string() != kReply || checked.at("usage").at("daily_limit").as_int64() != 50) {
    state.SkipWithError("the chat answer did not parse back as built");
    return;
  }
  std::size_t bytes = 0;
  for ([[maybe_unused]] auto iteration : state) {
    auto response = chat_answer(result);
    bytes = response.body.size();
    benchmark::DoNotOptimize(response);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(bytes));
}
BENCHMARK(micro_json_chat_answer_build);

/// A GET /api/v1/history answer, keyed as the history route writes it.
http::Response history_answer(const storage::HistoryPage& page) {
  json::array messages;
  for (const auto& message : page.messages) {
    json::object item;
    item["id"] = message.id;
    item["role"] = storage::to_string(message.role);
    item["content"] = message.content;
    item["has_image"] = message.has_image;
    item["created_at"] = evolveai::core::format_rfc3339(message.created_at);
    messages.push_back(std::move(item));
  }
  json::object body;
  body["messages"] = std::move(messages);
  body["next_before_id"] = page.next_before_id ? json::value(*page.next_before_id) : json::value(nullptr);
  return api::json_response(200, body);
}

storage::HistoryPage history_page() {
  const std::vector<std::string_view> texts = {
      kChatMessage,
      kReply,
      "Спасибо! Я посмотрю на этикетку вечером и напишу тебе.",
      "Sure — and if the label has a small \"R\" in a circle, that's a later reissue.",
      "Today was long. The train was late again and I missed the meeting with Oleg.",
      "Мне жаль, что день выдался таким тяжёлым. Хочешь рассказать, что случилось на встрече?",
  };
  storage::HistoryPage page;
  const auto start = std::chrono::system_clock::time_point(std::chrono::seconds(1764150000));
  for (std::size_t i = 0; i < kHistoryPage; ++i) {
    storage::Message message;
    message.id = static_cast<storage::MessageId>(900 - i);
    message.user_id = 42;
    message.role = i % 2 == 0 ? storage::Role::kAssistant : storage::Role::kUser;
    message.content = std::string(texts[i % texts.size()]);
    message.has_image = i % 17 == 3;
    message.created_at = start - std::chrono::minutes(3 * i);
    page.messages.push_back(std::move(message));
  }
  page.next_before_id = 851;
  return page;
}

// Building and serializing a GET /api/v1/history page of 50 messages (newest first).
void micro_json_history_page_build(benchmark::State& state) {
  const auto page = history_page();

  const auto checked = json::parse(history_answer(page).body);
  const auto& messages = checked.at("messages").as_array();
  if (messages.size() != kHistoryPage || messages.at(0).at("content").as_string() != page.messages[0].content ||
      checked.at("next_before_id").as_int64() != 851) {
    state.SkipWithError("the history page did not parse back as built");
    return;
  }
  std::size_t bytes = 0;
  for ([[maybe_unused]] auto iteration : state) {
    auto response = history_answer(page);
    bytes = response.body.size();
    benchmark::DoNotOptimize(response);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kHistoryPage));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(bytes));
  state.counters["body_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(micro_json_history_page_build);

}  // namespace
