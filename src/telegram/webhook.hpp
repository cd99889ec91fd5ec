#pragma once

#include <string>
#include <string_view>

namespace evolveai::http {
class Router;
}

namespace evolveai::obs {
class Logger;
}

namespace evolveai::telegram {

class Dispatcher;

/// True when `given` equals `expected`, compared in time independent of where they differ.
[[nodiscard]] bool secret_matches(std::string_view given, std::string_view expected) noexcept;

/// POST /telegram/webhook: 404 `not_found` when `dispatcher` is null (no bot, or polling mode);
/// 401 unless `X-Telegram-Bot-Api-Secret-Token` equals `secret`; a body that is not an update is
/// logged and acknowledged (Telegram would only send it again); an update is handed to the
/// dispatcher and acknowledged with 200 (the handlers dedupe repeats).
void add_webhook_route(http::Router& router, Dispatcher* dispatcher, std::string secret, obs::Logger& logger);

}  // namespace evolveai::telegram
