#include "fakes/fake_gemini.hpp"

#include <boost/json.hpp>

#include <regex>

namespace evolveai::testing {

namespace {

namespace json = boost::json;

std::string google_error(int status, std::string_view grpc_status, std::string_view message, json::array details = {}) {
  json::object error{{"code", status}, {"message", message}, {"status", grpc_status}};
  if (!details.empty()) {
    error["details"] = std::move(details);
  }
  return json::serialize(json::object{{"error", std::move(error)}});
}

/// The reply text cut into word-sized tokens, spaces kept with the word that follows.
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

FakeGemini::FakeGemini() : FakeGemini(Options{}) {}

FakeGemini::FakeGemini(Options options) : FakeUpstream(options.tls), options_(std::move(options)) {
  // The responder runs on the server's thread: it holds its own copy of the options.
  set_responder([options = options_](const RecordedRequest& request) { return unscripted(options, request); });
}

std::string FakeGemini::base_url() const {
  return origin() + "/v1beta";
}

std::string FakeGemini::response_json(std::string_view text, std::string_view finish_reason, int prompt_tokens,
                                      int output_tokens) {
  json::object candidate{
      {"content", json::object{{"parts", json::array{json::object{{"text", text}}}}, {"role", "model"}}}, {"index", 0}};
  if (!finish_reason.empty()) {
    candidate["finishReason"] = finish_reason;
  }
  json::object response{{"candidates", json::array{std::move(candidate)}}, {"modelVersion", "gemini-fake-001"}};
  if (prompt_tokens != 0 || output_tokens != 0) {
    response["usageMetadata"] = json::object{{"promptTokenCount", prompt_tokens},
                                             {"candidatesTokenCount", output_tokens},
                                             {"totalTokenCount", prompt_tokens + output_tokens}};
  }
  return json::serialize(response);
}

FakeReply FakeGemini::text_reply(std::string_view text, int prompt_tokens, int output_tokens) {
  return FakeReply::json(200, response_json(text, "STOP", prompt_tokens, output_tokens));
}

FakeReply FakeGemini::stream_reply(const std::vector<std::string>& deltas, std::chrono::milliseconds interval,
                                   std::string_view finish_reason) {
  std::vector<std::string> chunks;
  chunks.reserve(deltas.size());
  for (std::size_t i = 0; i < deltas.size(); ++i) {
    const bool last = i + 1 == deltas.size();
    chunks.push_back(
        "data: " + response_json(deltas[i], last ? finish_reason : "", 7, last ? static_cast<int>(deltas.size()) : 0) +
        "\r\n\r\n");
  }
  return FakeReply::event_stream(std::move(chunks), interval);
}

FakeReply FakeGemini::rate_limited(std::optional<std::chrono::milliseconds> retry_delay) {
  json::array details;
  if (retry_delay) {
    const auto millis = retry_delay->count();
    const std::string delay =
        std::to_string(millis / 1000) + "." + std::to_string(1000 + millis % 1000).substr(1) + "s";
    details.push_back(json::object{{"@type", "type.googleapis.com/google.rpc.RetryInfo"}, {"retryDelay", delay}});
  }
  return FakeReply::json(429, google_error(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota).",
                                           std::move(details)));
}

FakeReply FakeGemini::error(int status, std::string_view grpc_status, std::string_view message) {
  return FakeReply::json(status, google_error(status, grpc_status, message));
}

FakeReply FakeGemini::blocked_prompt(bool streaming) {
  const std::string body =
      R"({"promptFeedback":{"blockReason":"SAFETY","safetyRatings":[{"category":"HARM_CATEGORY_HARASSMENT","probability":"HIGH"}]},)"
      R"("usageMetadata":{"promptTokenCount":9,"totalTokenCount":9},"modelVersion":"gemini-fake-001"})";
  if (streaming) {
    return FakeReply::event_stream({"data: " + body + "\r\n\r\n"});
  }
  return FakeReply::json(200, body);
}

FakeReply FakeGemini::malformed_json(bool streaming) {
  const std::string body = R"({"candidates": [{"content": {"parts": [{"text": "Hel)";
  if (streaming) {
    return FakeReply::event_stream({"data: " + body + "\r\n\r\n"});
  }
  return FakeReply::json(200, body);
}

FakeReply FakeGemini::recorded(std::string_view file_bytes, std::size_t piece) {
  const auto first = file_bytes.find_first_not_of(" \t\r\n");
  const char lead = first == std::string_view::npos ? ' ' : file_bytes[first];
  if (lead == '<') {
    std::match_results<std::string_view::const_iterator> match;
    static const std::regex title(R"(Error (\d{3}))");
    int status = 500;
    if (std::regex_search(file_bytes.begin(), file_bytes.end(), match, title)) {
      status = std::stoi(match[1].str());
    }
    return FakeReply::whole(status, "text/html; charset=UTF-8", std::string(file_bytes));
  }
  if (lead == '{' || lead == '[') {
    int status = 200;
    boost::system::error_code ec;
    const auto value = json::parse(file_bytes, ec);
    if (!ec) {
      const json::value* error = nullptr;
      if (value.is_object()) {
        error = value.get_object().if_contains("error");
      } else if (value.is_array() && !value.get_array().empty() && value.get_array().front().is_object()) {
        error = value.get_array().front().get_object().if_contains("error");
      }
      if (error != nullptr && error->is_object()) {
        if (const auto* code = error->get_object().if_contains("code"); code != nullptr && code->is_int64()) {
          status = static_cast<int>(code->get_int64());
        }
      }
    }
    return FakeReply::json(status, std::string(file_bytes));
  }
  return FakeReply::bytes_in_pieces(200, "text/event-stream", file_bytes, piece);
}

FakeReply FakeGemini::unscripted(const Options& options, const RecordedRequest& request) {
  if (request.method == "POST" && request.path.ends_with(":streamGenerateContent")) {
    return stream_reply(tokens_of(options.reply_text), options.token_interval);
  }
  if (request.method == "POST" && request.path.ends_with(":generateContent")) {
    return text_reply(options.reply_text);
  }
  return error(404, "NOT_FOUND", "Method not found.");
}

}  // namespace evolveai::testing
