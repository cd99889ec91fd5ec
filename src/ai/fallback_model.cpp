#include "ai/fallback_model.hpp"

#include <stdexcept>
#include <utility>

namespace evolveai::ai {

FallbackChatModel::FallbackChatModel(std::vector<std::unique_ptr<ChatModel>> chain, FallbackListener listener)
    : chain_(std::move(chain)), listener_(std::move(listener)) {
  if (chain_.empty()) {
    throw std::invalid_argument("a fallback chain needs at least one model");
  }
}

bool FallbackChatModel::falls_back(const ModelError& error) noexcept {
  return !error.partial() && (error.retryable() || error.failure() == ModelFailure::kUnavailable ||
                              error.failure() == ModelFailure::kRateLimited);
}

Task<ChatResult> FallbackChatModel::generate(const ChatRequest& request) {
  for (std::size_t i = 0;; ++i) {
    try {
      co_return co_await chain_[i]->generate(request);
    } catch (const ModelError& error) {
      if (i + 1 == chain_.size() || !falls_back(error)) {
        throw;
      }
      if (listener_) {
        listener_(*chain_[i], error);
      }
    }
  }
}

Task<ChatResult> FallbackChatModel::stream(const ChatRequest& request, DeltaHandler on_delta) {
  for (std::size_t i = 0;; ++i) {
    try {
      co_return co_await chain_[i]->stream(request, on_delta);
    } catch (const ModelError& error) {
      if (i + 1 == chain_.size() || !falls_back(error)) {
        throw;
      }
      if (listener_) {
        listener_(*chain_[i], error);
      }
    }
  }
}

std::string FallbackChatModel::name() const {
  std::string joined;
  for (const auto& model : chain_) {
    if (!joined.empty()) {
      joined += " > ";
    }
    joined += model->name();
  }
  return joined;
}

}  // namespace evolveai::ai
