#include "ai/gemini/gemini_model.hpp"

#include <boost/json.hpp>

#include <array>
#include <stdexcept>
#include <utility>

#include "ai/json_support.hpp"
#include "ai/provider_support.hpp"

namespace evolveai::ai::gemini {

namespace {

namespace json = boost::json;

constexpr std::string_view kProvider = "gemini";
constexpr std::array<std::string_view, 4> kHarmCategories = {"HARM_CATEGORY_HARASSMENT", "HARM_CATEGORY_HATE_SPEECH",
                                                             "HARM_CATEGORY_SEXUALLY_EXPLICIT",
                                                             "HARM_CATEGORY_DANGEROUS_CONTENT"};

json::object to_part(const Part& part) {
  if (part.kind == Part::Kind::kInlineData) {
    return json::object{
        {"inline_data", json::object{{"mime_type", part.mime_type}, {"data", base64_encode(part.data)}}}};
  }
  return json::object{{"text", part.text}};
}

/// The error an `{"error": {...}}` object stands for; `http_status` 0 when it came inside
/// a 200 stream (its own code is used then).
ModelError error_from_object(const json::value& error_value, int http_status, const net::HttpHeaders* headers) {
  const auto* error = error_value.if_object();
  const int code = error != nullptr ? static_cast<int>(int_field(*error, "code").value_or(0)) : 0;
  const int status = http_status != 0 ? http_status : code;
  const std::string upstream_status = error != nullptr ? string_field(*error, "status") : std::string();
  const std::string message = error != nullptr ? string_field(*error, "message") : std::string();
  std::optional<std::chrono::milliseconds> retry_after;
  if (error != nullptr) {
    if (const auto* details = error->if_contains("details"); details != nullptr && details->is_array()) {
      for (const auto& detail : details->get_array()) {
        const auto* object = detail.if_object();
        if (object == nullptr || !string_field(*object, "@type").ends_with("google.rpc.RetryInfo")) {
          continue;
        }
        retry_after = parse_proto_duration(string_field(*object, "retryDelay"));
      }
    }
  }
  if (!retry_after && headers != nullptr) {
    if (const auto value = headers->get("retry-after")) {
      retry_after = parse_retry_after_seconds(*value);
    }
  }
  const auto failure = status != 0 ? failure_for_status(status) : ModelFailure::kServer;
  ModelError result(failure,
                    std::string(kProvider) + ": HTTP " + std::to_string(status) + " " + upstream_status + ": " +
                        clip_for_log(message),
                    status);
  result.with_upstream_status(upstream_status);
  if (retry_after) {
    result.with_retry_after_hint(*retry_after);
  }
  return result;
}

class GeminiReader final : public ReplyReader {
 public:
  void read_body(std::string_view body) override {
    const auto value = parse_json(body);
    if (!value) {
      throw ModelError(ModelFailure::kBadResponse, std::string(kProvider) + ": the response is not JSON");
    }
    read_value(*value);
  }

  std::string read_event(const SseEvent& event) override {
    if (event.data == "[DONE]") {
      return {};
    }
    const auto value = parse_json(event.data);
    if (!value) {
      throw ModelError(ModelFailure::kBadResponse, std::string(kProvider) + ": a stream event is not JSON");
    }
    return read_value(*value);
  }

  void end_of_stream(std::string_view stray_text) override {
    const auto value = parse_json(stray_text);
    if (value) {
      // A JSON body where events were expected: an error appended to the stream, or a
      // reply sent without SSE framing.
      read_value(*value);
    } else if (!reply_.saw_reply && !is_blank(stray_text)) {
      throw ModelError(ModelFailure::kBadResponse, std::string(kProvider) + ": the stream is neither SSE nor JSON");
    }
  }

  [[nodiscard]] const ReplyAccumulator& reply() const override { return reply_; }

 private:
  std::string read_value(const json::value& value) {
    if (const auto* array = value.if_array()) {
      std::string text;
      for (const auto& element : *array) {
        text += read_value(element);
      }
      return text;
    }
    const auto* object = value.if_object();
    if (object == nullptr) {
      throw ModelError(ModelFailure::kBadResponse, std::string(kProvider) + ": the response is not a JSON object");
    }
    return read_response(*object);
  }

  std::string read_response(const json::object& response) {
    if (const auto* error = response.if_contains("error")) {
      throw error_from_object(*error, 0, nullptr);
    }
    std::string delta;
    bool has_candidate = false;
    if (const auto* candidates = response.if_contains("candidates"); candidates != nullptr && candidates->is_array()) {
      reply_.saw_reply = true;
      const auto& list = candidates->get_array();
      if (!list.empty() && list.front().is_object()) {
        has_candidate = true;
        const auto& candidate = list.front().get_object();
        if (const auto* content = candidate.if_contains("content"); content != nullptr && content->is_object()) {
          if (const auto* parts = content->get_object().if_contains("parts"); parts != nullptr && parts->is_array()) {
            for (const auto& part : parts->get_array()) {
              const auto* fields = part.if_object();
              if (fields == nullptr || bool_field(*fields, "thought")) {
                continue;
              }
              if (const auto* text = fields->if_contains("text"); text != nullptr && text->is_string()) {
                delta.append(text->get_string().data(), text->get_string().size());
              }
            }
          }
        }
        const std::string finish = string_field(candidate, "finishReason");
        if (!finish.empty()) {
          reply_.raw_finish = finish;
          reply_.finish = map_finish_reason(finish);
        }
      }
    }
    if (const auto* feedback = response.if_contains("promptFeedback"); feedback != nullptr && feedback->is_object()) {
      reply_.saw_reply = true;
      const auto& fields = feedback->get_object();
      const std::string reason = string_field(fields, "blockReason");
      if (!has_candidate && (!reason.empty() || fields.contains("blockReasonMessage"))) {
        reply_.prompt_blocked = true;
        reply_.block_reason = reason.empty() ? std::string("BLOCKED") : reason;
      }
    }
    if (const auto* usage = response.if_contains("usageMetadata"); usage != nullptr && usage->is_object()) {
      const auto& fields = usage->get_object();
      reply_.usage.input_tokens = token_count(fields, "promptTokenCount");
      reply_.usage.output_tokens =
          token_count(fields, "candidatesTokenCount") + token_count(fields, "thoughtsTokenCount");
      reply_.usage.total_tokens = token_count(fields, "totalTokenCount");
    }
    if (const std::string version = string_field(response, "modelVersion"); !version.empty()) {
      reply_.model = version;
    }
    reply_.text += delta;
    return delta;
  }

  ReplyAccumulator reply_;
};

class GeminiDialect final : public ProviderDialect {
 public:
  explicit GeminiDialect(GeminiSettings settings) : settings_(std::move(settings)) {
    while (settings_.base_url.ends_with('/')) {
      settings_.base_url.pop_back();
    }
    if (settings_.model.starts_with("models/")) {
      settings_.model.erase(0, 7);
    }
  }

  [[nodiscard]] std::string_view provider() const override { return kProvider; }
  [[nodiscard]] const std::string& model() const override { return settings_.model; }

  [[nodiscard]] net::HttpRequest build(const ChatRequest& request, bool stream) const override {
    json::object root;
    if (!request.system_instruction.empty()) {
      root["systemInstruction"] =
          json::object{{"parts", json::array{json::object{{"text", request.system_instruction}}}}};
    }
    json::array contents;
    for (const auto& message : request.messages) {
      json::array parts;
      for (const auto& part : message.parts) {
        parts.push_back(to_part(part));
      }
      contents.push_back(
          json::object{{"role", message.role == Role::kAssistant ? "model" : "user"}, {"parts", std::move(parts)}});
    }
    root["contents"] = std::move(contents);
    json::object config;
    if (request.options.max_output_tokens) {
      config["maxOutputTokens"] = *request.options.max_output_tokens;
    }
    if (request.options.temperature) {
      config["temperature"] = *request.options.temperature;
    }
    if (request.options.json_output) {
      config["responseMimeType"] = "application/json";
      if (!request.options.json_schema.empty()) {
        config["responseSchema"] = parse_schema(request.options.json_schema);
      }
    }
    if (!config.empty()) {
      root["generationConfig"] = std::move(config);
    }
    if (!settings_.safety_threshold.empty()) {
      json::array safety;
      for (const auto category : kHarmCategories) {
        safety.push_back(json::object{{"category", category}, {"threshold", settings_.safety_threshold}});
      }
      root["safetySettings"] = std::move(safety);
    }

    net::HttpRequest http;
    http.method = "POST";
    http.url = settings_.base_url + "/models/" + settings_.model +
               (stream ? ":streamGenerateContent?alt=sse" : ":generateContent");
    http.headers.set("Content-Type", "application/json");
    http.headers.set("Accept", stream ? "text/event-stream" : "application/json");
    if (!settings_.api_key.empty()) {
      http.headers.set("x-goog-api-key", settings_.api_key);
    }
    http.body = json::serialize(root);
    return http;
  }

  [[nodiscard]] ModelError error_from_response(const net::HttpResponse& response) const override {
    if (const auto value = parse_json(response.body)) {
      const json::value* error = nullptr;
      if (const auto* object = value->if_object()) {
        error = object->if_contains("error");
      } else if (const auto* array = value->if_array();
                 array != nullptr && !array->empty() && array->front().is_object()) {
        error = array->front().get_object().if_contains("error");
      }
      if (error != nullptr) {
        return error_from_object(*error, response.status, &response.headers);
      }
    }
    return error_without_json_body(response, kProvider);
  }

  [[nodiscard]] std::unique_ptr<ReplyReader> reader() const override { return std::make_unique<GeminiReader>(); }

 private:
  GeminiSettings settings_;
};

}  // namespace

FinishReason map_finish_reason(std::string_view reason) noexcept {
  if (reason == "STOP") {
    return FinishReason::kStop;
  }
  if (reason == "MAX_TOKENS") {
    return FinishReason::kLength;
  }
  if (reason == "SAFETY" || reason == "BLOCKLIST" || reason == "PROHIBITED_CONTENT" || reason == "SPII" ||
      reason == "IMAGE_SAFETY") {
    return FinishReason::kSafety;
  }
  if (reason == "RECITATION") {
    return FinishReason::kRecitation;
  }
  return FinishReason::kError;
}

std::unique_ptr<ProviderDialect> make_dialect(GeminiSettings settings) {
  return std::make_unique<GeminiDialect>(std::move(settings));
}

std::unique_ptr<ChatModel> make_model(GeminiSettings settings, std::shared_ptr<net::HttpClient> client,
                                      ModelCallOptions options) {
  return std::make_unique<HttpChatModel>(make_dialect(std::move(settings)), std::move(client), std::move(options));
}

}  // namespace evolveai::ai::gemini
