#pragma once

#include <memory>

#include "app/config.hpp"
#include "services/chat_service.hpp"

namespace evolveai::ai {
class ChatModel;
}

namespace evolveai::http {
class Router;
}

namespace evolveai::obs {
class HealthChecks;
class Logger;
class MetricsRegistry;
}  // namespace evolveai::obs

namespace evolveai::storage {
class Store;
}

namespace evolveai::services {
class HistoryService;
class VoiceReplies;
}  // namespace evolveai::services

namespace evolveai::app {

/// The chat side of a node: the model `[llm]` describes behind one circuit breaker (exported as
/// `evolveai_circuit_breaker_state{name="llm_<provider>"}`), the ChatService and HistoryService,
/// their routes, and an "llm" readiness check (degraded, never down: without a model chat
/// answers 503 `llm_not_configured` and everything else works).
class ChatLayer {
 public:
  ChatLayer(const Config& config, storage::Store& store, obs::MetricsRegistry& metrics, obs::Logger& logger,
            obs::HealthChecks& health, services::TurnStoredHook on_turn_stored = {});
  ~ChatLayer();
  ChatLayer(const ChatLayer&) = delete;
  ChatLayer& operator=(const ChatLayer&) = delete;

  /// POST /api/v1/chat (replies spoken through `voice` when wanted; null: never), GET/DELETE
  /// /api/v1/history, GET /api/v1/search, GET /api/v1/export.
  void add_routes(http::Router& router, services::VoiceReplies* voice);
  /// One turn end to end, for every front door.
  [[nodiscard]] services::ChatService& chat();
  /// The user's own history.
  [[nodiscard]] services::HistoryService& history();
  /// The configured model, or null when `llm.provider` is empty (e.g. for summaries).
  [[nodiscard]] ai::ChatModel* model();

 private:
  struct Parts;
  std::unique_ptr<Parts> parts_;
};

}  // namespace evolveai::app
