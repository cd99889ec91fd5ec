#include "ai/chat_model_factory.hpp"

#include <stdexcept>
#include <utility>
#include <vector>

#include "ai/gemini/gemini_model.hpp"
#include "ai/openai_compat/openai_model.hpp"
#include "app/config.hpp"
#include "net/http_client.hpp"

namespace evolveai::ai {

namespace {

net::HttpClientOptions client_options(const app::LlmConfig& config) {
  net::HttpClientOptions options;
  options.connect_timeout = config.connect_timeout;
  options.first_byte_timeout = config.first_token_timeout;
  options.read_timeout = config.first_token_timeout;
  options.total_timeout = config.total_timeout;
  return options;
}

ModelCallOptions call_options(const app::LlmConfig& config, const ModelDependencies& dependencies) {
  ModelCallOptions options;
  options.retry.max_attempts = static_cast<unsigned>(std::max(config.max_retries, 0)) + 1;
  options.breaker = dependencies.breaker;
  options.random = dependencies.random;
  options.sleeper = dependencies.sleeper;
  return options;
}

std::unique_ptr<ChatModel> make_one(const app::LlmConfig& config, const std::string& model,
                                    const std::shared_ptr<net::HttpClient>& client,
                                    const ModelDependencies& dependencies) {
  if (config.provider == "gemini") {
    gemini::GeminiSettings settings;
    if (!config.base_url.empty()) {
      settings.base_url = config.base_url;
    }
    if (!model.empty()) {
      settings.model = model;
    }
    settings.api_key = config.api_key;
    return gemini::make_model(std::move(settings), client, call_options(config, dependencies));
  }
  if (config.provider == "openai") {
    openai_compat::OpenAiSettings settings;
    if (!config.base_url.empty()) {
      settings.base_url = config.base_url;
    }
    if (!model.empty()) {
      settings.model = model;
    }
    settings.api_key = config.api_key;
    // OpenAI itself wants the newer name (reasoning models reject max_tokens); other
    // compatible servers know only the older one.
    if (settings.base_url.find("api.openai.com") != std::string::npos) {
      settings.max_tokens_field = "max_completion_tokens";
    }
    return openai_compat::make_model(std::move(settings), client, call_options(config, dependencies));
  }
  throw std::invalid_argument("llm.provider must be empty, gemini or openai, not '" + config.provider + "'");
}

}  // namespace

std::unique_ptr<ChatModel> make_chat_model(const app::LlmConfig& config, ModelDependencies dependencies) {
  if (config.provider.empty()) {
    return nullptr;
  }
  auto client = std::make_shared<net::HttpClient>(client_options(config));
  auto primary = make_one(config, config.model, client, dependencies);
  if (config.fallback_models.empty()) {
    return primary;
  }
  std::vector<std::unique_ptr<ChatModel>> chain;
  chain.push_back(std::move(primary));
  for (const auto& model : config.fallback_models) {
    chain.push_back(make_one(config, model, client, dependencies));
  }
  return std::make_unique<FallbackChatModel>(std::move(chain), std::move(dependencies.on_fallback));
}

core::Error not_configured_error() {
  return core::llm_not_configured(
      "No chat model is configured: set llm.provider (gemini or openai) and llm.api_key "
      "(EVOLVEAI_LLM__PROVIDER, EVOLVEAI_LLM__API_KEY)");
}

}  // namespace evolveai::ai
