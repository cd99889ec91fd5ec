#include "ai/openai_compat/openai_model.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "ai/json_support.hpp"
#include "ai/provider_support.hpp"
#include "core/errors.hpp"

namespace evolveai::ai::openai_compat {

namespace {

namespace json = boost::json;

constexpr std::string_view kProvider = "openai";

/// The `input_audio.format` for a MIME type; only WAV and MP3 are accepted by the API.
std::string audio_format(std::string_view mime_type) {
  if (mime_type == "audio/wav" || mime_type == "audio/x-wav" || mime_type == "audio/wave") {
    return "wav";
  }
  if (mime_type == "audio/mpeg" || mime_type == "audio/mp3") {
    return "mp3";
  }
  throw core::unsupported_media_type("This model accepts WAV or MP3 audio only");
}

json::value to_content(const Message& message) {
  const bool text_only = std::all_of(message.parts.begin(), message.parts.end(),
                                     [](const Part& part) { return part.kind == Part::Kind::kText; });
  if (text_only) {
    std::string text;
    for (const auto& part : message.parts) {
      text += part.text;
    }
    return json::string(text);
  }
  json::array parts;
  for (const auto& part : message.parts) {
    if (part.kind == Part::Kind::kText) {
      parts.push_back(json::object{{"type", "text"}, {"text", part.text}});
    } else if (part.mime_type.starts_with("audio/")) {
      parts.push_back(json::object{
          {"type", "input_audio"},
          {"input_audio", json::object{{"data", base64_encode(part.data)}, {"format", audio_format(part.mime_type)}}}});
    } else {
      parts.push_back(json::object{
          {"type", "image_url"},
          {"image_url", json::object{{"url", "data:" + part.mime_type + ";base64," + base64_encode(part.data)}}}});
    }
  }
  return parts;
}

/// The error an `{"error": {...}}` object stands for; `http_status` 0 inside a 200 stream.
ModelError error_from_object(const json::value& error_value, int http_status, const net::HttpHeaders* headers) {
  const auto* error = error_value.if_object();
  std::string message;
  std::string type;
  int code = 0;
  if (error != nullptr) {
    message = string_field(*error, "message");
    type = string_field(*error, "type");
    if (const auto number = int_field(*error, "code")) {
      code = static_cast<int>(*number);
    } else if (type.empty()) {
      type = string_field(*error, "code");
    }
  } else if (error_value.is_string()) {
    message = std::string(error_value.get_string());
  }
  const int status = http_status != 0 ? http_status : code;
  std::optional<std::chrono::milliseconds> retry_after;
  if (headers != nullptr) {
    if (const auto millis = headers->get("retry-after-ms")) {
      // The same digits, read as milliseconds rather than seconds.
      if (const auto value = parse_retry_after_seconds(*millis)) {
        retry_after = std::chrono::milliseconds(value->count() / 1000);
      }
    }
    if (!retry_after) {
      if (const auto seconds = headers->get("retry-after")) {
        retry_after = parse_retry_after_seconds(*seconds);
      }
    }
  }
  const auto failure = status != 0 ? failure_for_status(status) : ModelFailure::kServer;
  ModelError result(
      failure, std::string(kProvider) + ": HTTP " + std::to_string(status) + " " + type + ": " + clip_for_log(message),
      status);
  result.with_upstream_status(type);
  if (retry_after) {
    result.with_retry_after_hint(*retry_after);
  }
  return result;
}

class OpenAiReader final : public ReplyReader {
 public:
  void read_body(std::string_view body) override {
    const auto value = parse_json(body);
    if (!value || !value->is_object()) {
      throw ModelError(ModelFailure::kBadResponse, std::string(kProvider) + ": the response is not a JSON object");
    }
    const auto& response = value->get_object();
    read_common(response);
    const auto* choice = first_choice(response);
    if (choice == nullptr) {
      return;
    }
    if (const auto* message = choice->if_contains("message"); message != nullptr && message->is_object()) {
      const auto& fields = message->get_object();
      reply_.text += content_text(fields.if_contains("content"));
      refusal_ += string_field(fields, "refusal");
    }
    read_finish(*choice);
    apply_refusal();
  }

  std::string read_event(const SseEvent& event) override {
    if (event.data == "[DONE]") {
      return {};
    }
    const auto value = parse_json(event.data);
    if (!value || !value->is_object()) {
      throw ModelError(ModelFailure::kBadResponse, std::string(kProvider) + ": a stream chunk is not a JSON object");
    }
    const auto& chunk = value->get_object();
    read_common(chunk);
    std::string delta;
    if (const auto* choice = first_choice(chunk)) {
      if (const auto* fields = choice->if_contains("delta"); fields != nullptr && fields->is_object()) {
        delta = content_text(fields->get_object().if_contains("content"));
        refusal_ += string_field(fields->get_object(), "refusal");
      }
      read_finish(*choice);
    }
    reply_.text += delta;
    return delta;
  }

  void end_of_stream(std::string_view stray_text) override {
    if (!reply_.saw_reply && !is_blank(stray_text)) {
      // A JSON body where events were expected (an error, or a non-streamed reply).
      read_body(stray_text);
    }
    apply_refusal();
  }

  [[nodiscard]] const ReplyAccumulator& reply() const override { return reply_; }

 private:
  /// A refusal with no content is the model declining: reported like a safety stop.
  void apply_refusal() {
    if (!refusal_.empty() && reply_.text.empty()) {
      reply_.finish = FinishReason::kSafety;
      reply_.raw_finish = "refusal";
    }
  }

  void read_common(const json::object& object) {
    if (const auto* error = object.if_contains("error"); error != nullptr && !error->is_null()) {
      throw error_from_object(*error, 0, nullptr);
    }
    if (object.contains("choices") || object.contains("usage")) {
      reply_.saw_reply = true;
    }
    if (const auto* usage = object.if_contains("usage"); usage != nullptr && usage->is_object()) {
      const auto& fields = usage->get_object();
      reply_.usage.input_tokens = token_count(fields, "prompt_tokens");
      reply_.usage.output_tokens = token_count(fields, "completion_tokens");
      reply_.usage.total_tokens = token_count(fields, "total_tokens");
    }
    if (const std::string model = string_field(object, "model"); !model.empty()) {
      reply_.model = model;
    }
  }

  static const json::object* first_choice(const json::object& object) {
    const auto* choices = object.if_contains("choices");
    if (choices == nullptr || !choices->is_array() || choices->get_array().empty()) {
      return nullptr;
    }
    return choices->get_array().front().if_object();
  }

  /// Content as a string, or as an array of text parts (some compatible servers).
  static std::string content_text(const json::value* content) {
    if (content == nullptr) {
      return {};
    }
    if (content->is_string()) {
      return std::string(content->get_string());
    }
    std::string text;
    if (const auto* parts = content->if_array()) {
      for (const auto& part : *parts) {
        if (const auto* fields = part.if_object(); fields != nullptr && string_field(*fields, "type") == "text") {
          text += string_field(*fields, "text");
        }
      }
    }
    return text;
  }

  void read_finish(const json::object& choice) {
    const std::string finish = string_field(choice, "finish_reason");
    if (!finish.empty()) {
      reply_.raw_finish = finish;
      reply_.finish = map_finish_reason(finish);
    }
  }

  ReplyAccumulator reply_;
  std::string refusal_;
};

class OpenAiDialect final : public ProviderDialect {
 public:
  explicit OpenAiDialect(OpenAiSettings settings) : settings_(std::move(settings)) {
    while (settings_.base_url.ends_with('/')) {
      settings_.base_url.pop_back();
    }
  }

  [[nodiscard]] std::string_view provider() const override { return kProvider; }
  [[nodiscard]] const std::string& model() const override { return settings_.model; }

  [[nodiscard]] net::HttpRequest build(const ChatRequest& request, bool stream) const override {
    json::array messages;
    if (!request.system_instruction.empty()) {
      messages.push_back(json::object{{"role", "system"}, {"content", request.system_instruction}});
    }
    for (const auto& message : request.messages) {
      messages.push_back(json::object{{"role", message.role == Role::kAssistant ? "assistant" : "user"},
                                      {"content", to_content(message)}});
    }
    json::object root{{"model", settings_.model}, {"messages", std::move(messages)}, {"stream", stream}};
    if (stream && settings_.include_usage) {
      root["stream_options"] = json::object{{"include_usage", true}};
    }
    if (request.options.max_output_tokens) {
      root[settings_.max_tokens_field] = *request.options.max_output_tokens;
    }
    if (request.options.temperature) {
      root["temperature"] = *request.options.temperature;
    }
    if (request.options.json_output) {
      if (request.options.json_schema.empty()) {
        root["response_format"] = json::object{{"type", "json_object"}};
      } else {
        root["response_format"] = json::object{
            {"type", "json_schema"},
            {"json_schema", json::object{{"name", "reply"}, {"schema", parse_schema(request.options.json_schema)}}}};
      }
    }

    net::HttpRequest http;
    http.method = "POST";
    http.url = settings_.base_url + "/chat/completions";
    http.headers.set("Content-Type", "application/json");
    http.headers.set("Accept", stream ? "text/event-stream" : "application/json");
    if (!settings_.api_key.empty()) {
      http.headers.set("Authorization", "Bearer " + settings_.api_key);
    }
    http.body = json::serialize(root);
    return http;
  }

  [[nodiscard]] ModelError error_from_response(const net::HttpResponse& response) const override {
    if (const auto value = parse_json(response.body); value && value->is_object()) {
      if (const auto* error = value->get_object().if_contains("error")) {
        return error_from_object(*error, response.status, &response.headers);
      }
    }
    return error_without_json_body(response, kProvider);
  }

  [[nodiscard]] std::unique_ptr<ReplyReader> reader() const override { return std::make_unique<OpenAiReader>(); }

 private:
  OpenAiSettings settings_;
};

}  // namespace

FinishReason map_finish_reason(std::string_view reason) noexcept {
  if (reason == "stop") {
    return FinishReason::kStop;
  }
  if (reason == "length") {
    return FinishReason::kLength;
  }
  if (reason == "content_filter") {
    return FinishReason::kSafety;
  }
  return FinishReason::kError;
}

std::unique_ptr<ProviderDialect> make_dialect(OpenAiSettings settings) {
  return std::make_unique<OpenAiDialect>(std::move(settings));
}

std::unique_ptr<ChatModel> make_model(OpenAiSettings settings, std::shared_ptr<net::HttpClient> client,
                                      ModelCallOptions options) {
  return std::make_unique<HttpChatModel>(make_dialect(std::move(settings)), std::move(client), std::move(options));
}

}  // namespace evolveai::ai::openai_compat
