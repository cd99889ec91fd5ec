#include "api/tts_routes.hpp"

#include "api/auth_routes.hpp"
#include "api/json_body.hpp"
#include "core/errors.hpp"
#include "services/tts_service.hpp"

namespace evolveai::api {
namespace {

/// Field length caps before the service's own checks, so that huge strings are refused early.
constexpr std::size_t kMaxNameChars = 32;

}  // namespace

void add_tts_routes(http::Router& router, services::TtsService& tts) {
  http::RouteOptions options;
  options.access = http::Access::kUser;
  options.rate_limit_policy = "tts";
  router.add(
      "POST", "/api/v1/tts",
      [&tts](http::Request& request, http::RequestContext& context) -> Task<http::Response> {
        const auto body = parse_json_object(request, {});
        for (const auto& [key, value] : body) {
          if (key != "text" && key != "voice" && key != "format") {
            throw core::validation_failed(std::string(key), "Unknown field; send text, voice and format");
          }
        }
        services::SpeechRequest speech_request;
        speech_request.user_id = current_user(context);
        speech_request.trace = context.trace;
        // Length and UTF-8 are the service's to check, so that every front door says the same.
        const auto* text = body.if_contains("text");
        if (text == nullptr || text->is_null()) {
          throw core::validation_failed("text", "'text' is required");
        }
        if (!text->is_string()) {
          throw core::validation_failed("text", "'text' must be a string");
        }
        speech_request.text = std::string(text->as_string());
        speech_request.voice = optional_string(body, "voice", 1, kMaxNameChars).value_or("default");
        speech_request.format = optional_string(body, "format", 1, kMaxNameChars).value_or("ogg");
        auto speech = co_await tts.speak(speech_request);
        auto response = http::Response::text(200, std::move(speech.audio),
                                             std::string(services::audio_content_type(speech.format)));
        response.headers.set("Cache-Control", "private, max-age=86400");
        response.headers.set("X-Tts-Engine", speech.engine);
        co_return response;
      },
      options);
}

}  // namespace evolveai::api
