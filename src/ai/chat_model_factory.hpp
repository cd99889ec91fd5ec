#pragma once

#include <memory>

#include "ai/chat_model.hpp"
#include "ai/fallback_model.hpp"
#include "net/circuit_breaker.hpp"
#include "net/retry_policy.hpp"

namespace evolveai::app {
struct LlmConfig;
}  // namespace evolveai::app

namespace evolveai::ai {

/// What the composition root hands the factory besides the configuration.
struct ModelDependencies {
  /// The provider's breaker (e.g. named "llm_gemini"), shared by the whole fallback chain;
  /// not owned, must outlive the model; null for none.
  net::CircuitBreaker* breaker = nullptr;
  FallbackChatModel::FallbackListener on_fallback;
  net::RetryPolicy::Random random;    ///< tests only
  net::RetryPolicy::Sleeper sleeper;  ///< tests only
};

/// Builds the chat model `[llm]` describes: Gemini or OpenAI-compatible with its own HTTP
/// client (connect / first-token / total timeouts; the first-token timeout also bounds a
/// stall mid-stream), max_retries + 1 attempts, and a fallback chain over
/// `fallback_models` (other models of the same provider). Returns nullptr when
/// `provider` is empty: chat then answers `not_configured_error()`. Throws
/// std::invalid_argument for an unknown provider.
[[nodiscard]] std::unique_ptr<ChatModel> make_chat_model(const app::LlmConfig& config,
                                                         ModelDependencies dependencies = {});

/// The 503 `llm_not_configured` error, naming the settings to set.
[[nodiscard]] core::Error not_configured_error();

}  // namespace evolveai::ai
