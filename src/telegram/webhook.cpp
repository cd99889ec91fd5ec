#include "telegram/webhook.hpp"

#include "core/errors.hpp"
#include "http/context.hpp"
#include "http/router.hpp"
#include "obs/logger.hpp"
#include "telegram/dispatcher.hpp"
#include "telegram/update.hpp"

namespace evolveai::telegram {
namespace {

/// Updates are small; a larger body is not Telegram's.
constexpr std::size_t kWebhookBodyLimit = std::size_t{1} * 1024 * 1024;

}  // namespace

bool secret_matches(std::string_view given, std::string_view expected) noexcept {
  unsigned char difference = given.size() == expected.size() ? 0 : 1;
  for (std::size_t i = 0; i < given.size(); ++i) {
    const char other = expected.empty() ? '\0' : expected[i % expected.size()];
    difference |= static_cast<unsigned char>(given[i] ^ other);
  }
  return difference == 0 && !expected.empty();
}

void add_webhook_route(http::Router& router, Dispatcher* dispatcher, std::string secret, obs::Logger& logger) {
  http::RouteOptions options;
  options.body_limit = kWebhookBodyLimit;
  router.add(
      "POST", "/telegram/webhook",
      [dispatcher, &logger, secret = std::move(secret)](http::Request& request,
                                                        http::RequestContext&) -> Task<http::Response> {
        if (dispatcher == nullptr) {
          throw core::not_found("The bot does not take updates by webhook");
        }
        const auto given = request.headers.get("X-Telegram-Bot-Api-Secret-Token");
        if (!given || !secret_matches(*given, secret)) {
          throw core::unauthorized("Wrong webhook secret", "telegram webhook: secret token missing or wrong");
        }
        std::optional<Update> update;
        try {
          update = parse_update_text(request.body);
        } catch (const ParseError& e) {
          logger.warn("telegram_webhook_unparsable", {{"error", e.what()}});
        }
        if (update) {
          auto submitting = dispatcher->submit(std::move(*update));
          co_await std::move(submitting);
        }
        co_return http::Response::json(200, "{}");
      },
      options);
}

}  // namespace evolveai::telegram
