#pragma once

#include <chrono>
#include <cstddef>

#include "http/router.hpp"

namespace evolveai::services {
class ChatService;
class HistoryService;
class VoiceReplies;
}  // namespace evolveai::services

namespace evolveai::api {

/// What the chat route allows one request.
struct ChatRouteLimits {
  std::size_t body_limit = 0;            ///< bytes; a turn may carry an image
  std::chrono::milliseconds timeout{0};  ///< a whole (non-streamed) turn, model call included
};

/// POST /api/v1/chat (a JSON answer, or server-sent events `start`, `delta`, `voice`, `end`,
/// `error` when the body says `"stream": true` or the client accepts `text/event-stream`), with a
/// body limit and a deadline of its own (`limits`): a turn may carry an image and waits for the
/// model. Errors found before the model is called (validation, quota, no model) are ordinary
/// HTTP errors, also when streaming.
/// With `voice` (may be null: no speech), a reply the user wants spoken (`"voice": true`, or the
/// user's `voice_replies` setting) also comes as audio.
void add_chat_routes(http::Router& router, services::ChatService& chat, services::VoiceReplies* voice,
                     ChatRouteLimits limits);

/// GET and DELETE /api/v1/history, GET /api/v1/search, GET /api/v1/export: always the caller's own data.
void add_history_routes(http::Router& router, services::HistoryService& history);

}  // namespace evolveai::api
