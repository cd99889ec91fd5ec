#include "fakes/fake_openai.hpp"

#include <boost/json.hpp>

namespace evolveai::testing {

namespace {

namespace json = boost::json;

std::string chunk_json(std::string_view content, std::string_view finish_reason) {
  json::object delta;
  if (!content.empty()) {
    delta["content"] = content;
  }
  json::object choice{{"index", 0}, {"delta", std::move(delta)}};
  choice["finish_reason"] = finish_reason.empty() ? json::value(nullptr) : json::value(finish_reason);
  return json::serialize(json::object{{"id", "chatcmpl-fake"},
                                      {"object", "chat.completion.chunk"},
                                      {"created", 1700000000},
                                      {"model", "gpt-fake"},
                                      {"choices", json::array{std::move(choice)}}});
}

std::vector<std::string> tokens_of(std::string_view text) {
  std::vector<std::string> tokens;
  std::size_t start = 0;
  while (start < text.size()) {
    auto next = text.find(' ', start + 1);
    if (next == std::string_view::npos) {
      next = text.size();
    }
    tokens.emplace_back(text.substr(start, next - start));
    start = next;
  }
  return tokens;
}

}  // namespace

FakeOpenAi::FakeOpenAi() : FakeOpenAi(Options{}) {}

FakeOpenAi::FakeOpenAi(Options options) : FakeUpstream(options.tls), options_(std::move(options)) {
  // The responder runs on the server's thread: it holds its own copy of the options.
  set_responder([options = options_](const RecordedRequest& request) { return unscripted(options, request); });
}

std::string FakeOpenAi::base_url() const {
  return origin() + "/v1";
}

FakeReply FakeOpenAi::completion(std::string_view text, std::string_view finish_reason, int prompt_tokens,
                                 int completion_tokens) {
  const json::object body{
      {"id", "chatcmpl-fake"},
      {"object", "chat.completion"},
      {"created", 1700000000},
      {"model", "gpt-fake"},
      {"choices", json::array{json::object{{"index", 0},
                                           {"message", json::object{{"role", "assistant"}, {"content", text}}},
                                           {"finish_reason", finish_reason}}}},
      {"usage", json::object{{"prompt_tokens", prompt_tokens},
                             {"completion_tokens", completion_tokens},
                             {"total_tokens", prompt_tokens + completion_tokens}}}};
  return FakeReply::json(200, json::serialize(body));
}

FakeReply FakeOpenAi::stream_reply(const std::vector<std::string>& deltas, std::chrono::milliseconds interval,
                                   std::string_view finish_reason, bool usage) {
  std::vector<std::string> chunks;
  chunks.reserve(deltas.size() + 3);
  for (const auto& delta : deltas) {
    chunks.push_back("data: " + chunk_json(delta, "") + "\n\n");
  }
  chunks.push_back("data: " + chunk_json("", finish_reason) + "\n\n");
  if (usage) {
    const auto count = static_cast<std::int64_t>(deltas.size());
    chunks.push_back("data: " +
                     json::serialize(json::object{{"id", "chatcmpl-fake"},
                                                  {"object", "chat.completion.chunk"},
                                                  {"model", "gpt-fake"},
                                                  {"choices", json::array{}},
                                                  {"usage", json::object{{"prompt_tokens", 11},
                                                                         {"completion_tokens", count},
                                                                         {"total_tokens", 11 + count}}}}) +
                     "\n\n");
  }
  chunks.emplace_back("data: [DONE]\n\n");
  return FakeReply::event_stream(std::move(chunks), interval);
}

FakeReply FakeOpenAi::rate_limited(std::optional<std::chrono::seconds> retry_after) {
  auto reply = error(429, "rate_limit_exceeded", "Rate limit reached for requests");
  if (retry_after) {
    reply.headers.emplace_back("Retry-After", std::to_string(retry_after->count()));
  }
  return reply;
}

FakeReply FakeOpenAi::error(int status, std::string_view type, std::string_view message) {
  return FakeReply::json(
      status,
      json::serialize(json::object{
          {"error", json::object{{"message", message}, {"type", type}, {"param", nullptr}, {"code", nullptr}}}}));
}

FakeReply FakeOpenAi::malformed_json(bool streaming) {
  const std::string body = R"({"id":"chatcmpl-fake","choices":[{"index":0,"delta":{"content":"Hel)";
  if (streaming) {
    return FakeReply::event_stream({"data: " + body + "\n\n", "data: [DONE]\n\n"});
  }
  return FakeReply::json(200, body);
}

FakeReply FakeOpenAi::from_chunk_lines(std::string_view lines, std::size_t piece) {
  std::string wire;
  std::size_t start = 0;
  while (start < lines.size()) {
    auto end = lines.find('\n', start);
    if (end == std::string_view::npos) {
      end = lines.size();
    }
    const auto line = lines.substr(start, end - start);
    if (!line.empty()) {
      wire += "data: ";
      wire += line;
      wire += "\n\n";
    }
    start = end + 1;
  }
  wire += "data: [DONE]\n\n";
  return FakeReply::bytes_in_pieces(200, "text/event-stream", wire, piece);
}

FakeReply FakeOpenAi::recorded(std::string_view bytes, int status, std::size_t piece) {
  const auto first = bytes.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && bytes[first] == '{') {
    return FakeReply::json(status, std::string(bytes));
  }
  return FakeReply::bytes_in_pieces(status, "text/event-stream", bytes, piece);
}

FakeReply FakeOpenAi::from_cassette(const CassetteExchange& exchange, std::size_t piece) {
  std::string content_type = exchange.header("content-type");
  if (content_type.empty()) {
    content_type = "application/json";
  }
  if (content_type.starts_with("text/event-stream")) {
    return FakeReply::bytes_in_pieces(exchange.status, content_type, exchange.body, piece);
  }
  return FakeReply::whole(exchange.status, content_type, exchange.body);
}

FakeReply FakeOpenAi::unscripted(const Options& options, const RecordedRequest& request) {
  if (request.method != "POST" || request.path != "/v1/chat/completions") {
    return error(404, "invalid_request_error", "Unknown request URL");
  }
  boost::system::error_code ec;
  const auto body = json::parse(request.body, ec);
  const auto* stream = !ec && body.is_object() ? body.get_object().if_contains("stream") : nullptr;
  if (stream != nullptr && stream->is_bool() && stream->get_bool()) {
    return stream_reply(tokens_of(options.reply_text), options.token_interval);
  }
  return completion(options.reply_text);
}

}  // namespace evolveai::testing
