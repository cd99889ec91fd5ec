#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ai/chat_model.hpp"
#include "services/user_settings.hpp"
#include "storage/records.hpp"

namespace evolveai::services {

/// How much context one turn may send; from `[chat]`.
struct ContextBudget {
  /// The whole request (instruction, quoted messages, history, new message), estimated as
  /// characters / 4.
  std::size_t token_budget = 6000;
  /// At most this many older relevant messages are quoted.
  std::size_t relevant_messages = 3;
  /// Each quoted older message is cut to this many characters.
  std::size_t relevant_message_chars = 600;
};

/// What a turn's context is built from; all of it already loaded.
struct ContextInput {
  UserSettings settings;
  std::string user_name;                   ///< the user's first name; empty when unknown
  std::vector<std::string> facts;          ///< what is known about the user
  std::string summary;                     ///< the rolling summary of older talk
  std::vector<storage::Message> recent;    ///< the newest messages, oldest first (may hold the new one)
  std::vector<storage::Message> relevant;  ///< older messages matching the new one, best first
  storage::MessageId current_message_id = 0;
  std::string current_text;
  std::optional<ai::Part> current_image;  ///< inline image sent with the new message
  std::optional<ai::Part> current_audio;  ///< inline audio (a voice message) sent with the new message
};

/// A built request and what went into it.
struct BuiltContext {
  ai::ChatRequest request;
  std::size_t recent_used = 0;    ///< earlier messages sent as conversation turns
  std::size_t relevant_used = 0;  ///< older messages quoted in the system instruction
  std::size_t estimated_tokens = 0;
};

/// Estimated tokens of a text: its characters / 4, rounded up.
[[nodiscard]] std::size_t estimate_tokens(std::string_view text) noexcept;

/// Builds the model request of a chat turn; pure, no I/O. The system instruction holds the
/// persona and rules, the reply language, the user's name and facts, the rolling summary and
/// up to K older relevant messages (quoted, de-duplicated against the recent ones and the new
/// message). The conversation holds the newest finished messages that fit the budget, oldest
/// first, starting with a user turn and alternating (neighbours of one role are merged), then
/// the new message with its image. Relevant messages may use at most a quarter of what the
/// fixed parts leave; the newest messages get the rest.
class ContextBuilder {
 public:
  explicit ContextBuilder(ContextBudget budget);

  /// The request for one turn.
  [[nodiscard]] BuiltContext build(const ContextInput& input) const;

  /// The persona, rules and language part of the system instruction.
  [[nodiscard]] static std::string persona_instruction(const UserSettings& settings, std::string_view user_name);

 private:
  ContextBudget budget_;
};

}  // namespace evolveai::services
