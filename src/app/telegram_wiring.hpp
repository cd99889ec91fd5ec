#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <memory>

#include "api/premium_routes.hpp"
#include "app/config.hpp"
#include "core/task.hpp"

namespace evolveai::cache {
class RateLimiter;
}

namespace evolveai::http {
class Router;
}

namespace evolveai::obs {
class ErrorReporter;
class Logger;
class MetricsRegistry;
}  // namespace evolveai::obs

namespace evolveai::services {
class ChatService;
class HistoryService;
class MemoryService;
class PremiumPlans;
class ProfileService;
class StarRefunds;
class VoiceReplies;
}  // namespace evolveai::services

namespace evolveai::storage {
class Store;
}

namespace evolveai::app {

/// What the Telegram front door talks to; every reference must outlive the layer.
struct TelegramServices {
  storage::Store& store;
  services::ChatService& chat;
  services::HistoryService& history;
  services::MemoryService& memory;
  services::ProfileService& profiles;
  services::VoiceReplies& voice;
  const services::PremiumPlans& plans;
  cache::RateLimiter& limiter;
  obs::ErrorReporter* errors = nullptr;  ///< told about updates whose handling threw; may be null
};

/// The Telegram front door from `[telegram]`: with a bot token, the Bot API client (its own HTTP
/// client, retry policy and `telegram` circuit breaker), the bot's handlers and the dispatcher,
/// receiving by long polling (leased, one node at a time) or by webhook (`POST /telegram/webhook`,
/// `setWebhook` at start). Without a token it only offers refunds and invoice links that say
/// 503 `bot_not_configured`.
class TelegramLayer {
 public:
  TelegramLayer(const Config& config, TelegramServices services, obs::MetricsRegistry& metrics, obs::Logger& logger,
                boost::asio::any_io_executor executor);
  ~TelegramLayer();
  TelegramLayer(const TelegramLayer&) = delete;
  TelegramLayer& operator=(const TelegramLayer&) = delete;

  /// POST /telegram/webhook (404 unless the bot is in webhook mode).
  void add_routes(http::Router& router);
  /// Registers the bot (getMe, setMyCommands, setWebhook) and starts polling in polling mode.
  void start();
  /// Stops polling and gives its lease up, then waits up to `timeout` for updates in hand.
  Task<void> stop(std::chrono::milliseconds timeout);

  /// Refunds of Stars payments for the operators' API (available() is false without a bot).
  [[nodiscard]] services::StarRefunds& star_refunds();
  /// Invoice links for POST /api/v1/premium/invoice; empty without a bot.
  [[nodiscard]] api::InvoiceLinkMaker invoice_links();
  /// True when a bot token is configured.
  [[nodiscard]] bool enabled() const noexcept;

 private:
  struct Parts;
  std::unique_ptr<Parts> parts_;
};

}  // namespace evolveai::app
