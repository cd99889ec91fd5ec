#pragma once

#include "http/router.hpp"

namespace evolveai::services {
class TtsService;
}

namespace evolveai::api {

/// POST /api/v1/tts `{"text", "voice", "format": "ogg"|"wav"}` -> the audio bytes (`audio/ogg`
/// Opus or `audio/wav`); signed-in users only, rate-limited by the "tts" policy.
void add_tts_routes(http::Router& router, services::TtsService& tts);

}  // namespace evolveai::api
