#pragma once

#include <cstddef>

#include "http/router.hpp"

namespace evolveai::services {
class ChatService;
class HistoryService;
}  // namespace evolveai::services

namespace evolveai::api {

/// POST /api/v1/chat (a JSON answer, or server-sent events `start`, `delta`, `end`, `error`
/// when the body says `"stream": true` or the client accepts `text/event-stream`), with a body
/// limit of `chat_body_limit` bytes since it may carry an image. Errors found before the model
/// is called (validation, quota, no model) are ordinary HTTP errors, also when streaming.
void add_chat_routes(http::Router& router, services::ChatService& chat, std::size_t chat_body_limit);

/// GET and DELETE /api/v1/history, GET /api/v1/search, GET /api/v1/export: always the caller's own data.
void add_history_routes(http::Router& router, services::HistoryService& history);

}  // namespace evolveai::api
