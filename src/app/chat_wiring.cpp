#include "app/chat_wiring.hpp"

#include "ai/chat_model_factory.hpp"
#include "api/chat_routes.hpp"
#include "net/circuit_breaker.hpp"
#include "obs/health.hpp"
#include "obs/logger.hpp"
#include "services/history_service.hpp"

namespace evolveai::app {
namespace {

services::ContextBudget context_budget(const Config& config) {
  services::ContextBudget budget;
  budget.token_budget = static_cast<std::size_t>(config.chat.context_token_budget);
  budget.relevant_messages = static_cast<std::size_t>(config.chat.relevant_messages);
  budget.relevant_message_chars = static_cast<std::size_t>(config.chat.relevant_message_chars);
  return budget;
}

services::ChatLimits chat_limits(const Config& config) {
  services::ChatLimits limits;
  limits.max_message_chars = static_cast<std::size_t>(config.limits.message_max_chars);
  limits.max_image_bytes = config.limits.image_max_bytes;
  limits.free_daily_messages = config.limits.free_daily_messages;
  limits.recent_messages = static_cast<std::size_t>(config.chat.recent_messages);
  limits.abandoned_turn_after = config.chat.abandoned_turn_after;
  return limits;
}

}  // namespace

/// Members in construction order: the breaker outlives the model that reports to it.
struct ChatLayer::Parts {
  std::size_t chat_body_limit = 0;
  std::chrono::milliseconds turn_timeout{0};
  std::unique_ptr<net::CircuitBreaker> breaker;
  std::unique_ptr<ai::ChatModel> model;
  std::unique_ptr<services::ChatService> chat;
  std::unique_ptr<services::HistoryService> history;
};

ChatLayer::ChatLayer(const Config& config, storage::Store& store, obs::MetricsRegistry& metrics, obs::Logger& logger,
                     obs::HealthChecks& health, services::TurnStoredHook on_turn_stored)
    : parts_(std::make_unique<Parts>()) {
  auto& p = *parts_;
  p.chat_body_limit = config.server.chat_body_limit;
  // A whole answer waits for the model (llm.total_timeout) plus the usual storage and TTS work.
  p.turn_timeout = config.llm.total_timeout + config.server.request_timeout;
  if (!config.llm.provider.empty()) {
    net::BreakerSettings settings;
    settings.failure_threshold = static_cast<unsigned>(config.llm.breaker_failures);
    settings.open_duration = config.llm.breaker_open_duration;
    p.breaker = std::make_unique<net::CircuitBreaker>("llm_" + config.llm.provider, settings, metrics, logger);
    ai::ModelDependencies dependencies;
    dependencies.breaker = p.breaker.get();
    dependencies.on_fallback = [&logger](const ai::ChatModel& failed, const ai::ModelError& error) {
      logger.warn(
          "llm_fallback",
          {{"model", failed.name()}, {"failure", ai::model_failure_name(error.failure())}, {"error", error.what()}});
    };
    p.model = ai::make_chat_model(config.llm, std::move(dependencies));
  }
  p.chat = std::make_unique<services::ChatService>(
      store, p.model.get(), context_budget(config), chat_limits(config),
      [] { return std::chrono::system_clock::now(); }, logger, metrics, std::move(on_turn_stored));
  p.history = std::make_unique<services::HistoryService>(store);
  health.add("llm", [breaker = p.breaker.get()]() -> Task<obs::CheckResult> {
    if (breaker == nullptr) {
      co_return obs::CheckResult{false, true, "no model configured (llm.provider); chat answers 503"};
    }
    if (breaker->state() == net::BreakerState::kOpen) {
      co_return obs::CheckResult{false, true, "the model's circuit breaker is open"};
    }
    co_return obs::CheckResult{true, false, ""};
  });
}

ChatLayer::~ChatLayer() = default;

void ChatLayer::add_routes(http::Router& router, services::VoiceReplies* voice) {
  api::add_chat_routes(router, *parts_->chat, voice, {parts_->chat_body_limit, parts_->turn_timeout});
  api::add_history_routes(router, *parts_->history);
}

services::ChatService& ChatLayer::chat() {
  return *parts_->chat;
}

services::HistoryService& ChatLayer::history() {
  return *parts_->history;
}

ai::ChatModel* ChatLayer::model() {
  return parts_->model.get();
}

}  // namespace evolveai::app
