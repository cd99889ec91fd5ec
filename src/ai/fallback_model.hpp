#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ai/chat_model.hpp"

namespace evolveai::ai {

/// A chain of models tried in order: when one fails in a way another might not (timeout,
/// connection, 429, 5xx, circuit open) and no text was streamed yet, the next one answers.
/// Other failures (a rejected request, a partial stream) end the chain at once.
class FallbackChatModel final : public ChatModel {
 public:
  /// Told when a model failed and the next one is tried (logs, metrics).
  using FallbackListener = std::function<void(const ChatModel& failed, const ModelError& error)>;

  /// `chain` must hold at least one model; the first is the primary.
  explicit FallbackChatModel(std::vector<std::unique_ptr<ChatModel>> chain, FallbackListener listener = {});

  Task<ChatResult> generate(const ChatRequest& request) override;
  Task<ChatResult> stream(const ChatRequest& request, DeltaHandler on_delta) override;
  /// The names of the chain joined by " > ".
  [[nodiscard]] std::string name() const override;

  /// True when `error` lets the next model of a chain be tried.
  [[nodiscard]] static bool falls_back(const ModelError& error) noexcept;

 private:
  std::vector<std::unique_ptr<ChatModel>> chain_;
  FallbackListener listener_;
};

}  // namespace evolveai::ai
