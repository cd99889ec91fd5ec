#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "cache/rate_limiter.hpp"
#include "core/task.hpp"
#include "obs/trace_context.hpp"
#include "services/premium_plans.hpp"
#include "storage/records.hpp"
#include "telegram/texts.hpp"
#include "telegram/update.hpp"

namespace evolveai::obs {
class Counter;
class Logger;
class MetricsRegistry;
template <typename Metric>
class Family;
}  // namespace evolveai::obs

namespace evolveai::services {
class ChatService;
class HistoryService;
class MemoryService;
class ProfileService;
class VoiceReplies;
}  // namespace evolveai::services

namespace evolveai::storage {
class Store;
}

namespace evolveai::telegram {

class BotApi;

/// How the bot behaves; from `[telegram]`.
struct BotOptions {
  std::string public_url;                                      ///< the Mini App link; empty: no app button
  std::chrono::milliseconds stream_edit_interval{1000};        ///< least time between streamed previews of a chat
  bool use_drafts = true;                                      ///< stream with sendMessageDraft in private chats
  std::size_t max_file_bytes = std::size_t{20} * 1024 * 1024;  ///< largest photo or voice note downloaded
  cache::RatePolicy rate_policy{"telegram", 20, std::chrono::minutes(1)};  ///< messages per user
};

/// The services the bot talks to; every reference must outlive the bot.
struct BotServices {
  storage::Store& store;
  services::ChatService& chat;
  services::HistoryService& history;
  services::MemoryService& memory;
  services::ProfileService& profiles;
  services::VoiceReplies& voice;
  const services::PremiumPlans& plans;
  cache::RateLimiter& limiter;
};

/// The Telegram front door's handlers: each update is handled at most once cluster-wide (its id
/// is marked processed first), routed by route_update, and answered through the same services
/// as the HTTP API. Counts updates in `evolveai_telegram_updates_total{route}`.
class Bot {
 public:
  Bot(BotApi& api, BotServices services, BotOptions options, obs::MetricsRegistry& metrics, obs::Logger& logger);
  ~Bot();
  Bot(const Bot&) = delete;
  Bot& operator=(const Bot&) = delete;

  /// Handles one update; never throws for anything an update may contain.
  Task<void> handle(Update update);
  /// Learns the bot's username (getMe) and registers the command menu in English and Russian.
  Task<void> set_up();
  /// An invoice link (createInvoiceLink, Telegram Stars) for a user's plan.
  Task<std::string> create_invoice_link(storage::UserId user_id, const services::PremiumPlan& plan, Lang lang,
                                        obs::TraceContext trace = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace evolveai::telegram
