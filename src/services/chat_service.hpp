#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "ai/chat_model.hpp"
#include "core/task.hpp"
#include "obs/trace_context.hpp"
#include "services/chat_image.hpp"
#include "services/context_builder.hpp"
#include "storage/records.hpp"

namespace evolveai::obs {
class Counter;
class Histogram;
class Logger;
class MetricsRegistry;
class Tracer;
}  // namespace evolveai::obs

namespace evolveai::storage {
class Store;
}

namespace evolveai::services {

class FeatureFlags;

/// What a client may send in one turn, and how turns are paced; from `[limits]` and `[chat]`.
struct ChatLimits {
  std::size_t max_message_chars = 8000;
  std::size_t max_image_bytes = std::size_t{10} * 1024 * 1024;
  std::size_t max_audio_bytes = std::size_t{20} * 1024 * 1024;
  std::int64_t free_daily_messages = 50;
  std::size_t recent_messages = 40;  ///< newest messages read for the context
  /// A user message still pending this long after it was stored belongs to a turn that died
  /// (crash, lost client before streaming began): a repeat may run it again.
  std::chrono::milliseconds abandoned_turn_after = std::chrono::minutes(15);
};

/// An image as the client sent it: raw bytes and the type it claims.
struct ChatImage {
  std::string mime_type;
  std::string bytes;
};

/// A voice note sent with a message (Telegram voice messages: OGG/Opus), passed to the model as audio.
struct ChatAudio {
  std::string mime_type;  ///< "audio/ogg", "audio/mpeg", "audio/wav", …
  std::string bytes;
};

/// One message from a user, from either front door (HTTP or Telegram).
struct ChatTurnRequest {
  storage::UserId user_id = 0;
  std::string text;
  std::optional<ChatImage> image;
  std::optional<ChatAudio> audio;
  std::optional<std::string> client_message_id;  ///< 1..64 printable ASCII characters
  /// The front door's span (HTTP request, Telegram update): the turn's spans are its children.
  obs::TraceContext trace;
};

/// The user's daily allowance after a turn.
struct TurnUsage {
  std::int64_t messages_today = 0;
  std::optional<std::int64_t> daily_limit;  ///< nullopt: premium, unlimited
  storage::Time resets_at{};
};

/// The answer to a turn.
struct TurnResult {
  std::string reply;
  storage::MessageId message_id = 0;  ///< the stored reply; 0 when nothing was stored (interrupted before any text)
  storage::MessageId user_message_id = 0;
  std::string finish_reason;  ///< "stop", "length", "safety", "recitation", "error" or "interrupted"
  TurnUsage usage;
  bool replayed = false;  ///< a repeated client_message_id: the stored reply, nothing new was done
};

/// A turn whose user message is stored and whose quota unit is taken: what is left is the
/// model call. Made by ChatService::prepare, finished by ChatService::complete.
struct PreparedTurn {
  storage::UserId user_id = 0;
  storage::MessageId user_message_id = 0;
  std::string text;
  std::optional<CheckedImage> image;
  std::optional<ChatAudio> audio;
  storage::QuotaGrant grant;
  /// Set when a repeated client_message_id found its stored reply: complete() only replays it.
  std::optional<TurnResult> replay;
  /// The claim held while a failed or abandoned message is run again (lease name and owner).
  std::optional<std::pair<std::string, std::string>> claim;
  /// The span the turn's work hangs under (the request's).
  obs::TraceContext trace;
};

/// Called after a reply is stored (e.g. to queue summarisation); failures are logged, never fatal.
using TurnStoredHook = std::function<Task<void>(storage::UserId)>;

/// Called once when a prepared turn starts running (a stream sends its `start` event); false,
/// or a throw, means the caller is gone: the turn is then abandoned before any model call.
using TurnStartHandler = std::function<Task<bool>()>;

/// Where ChatService reads the time; tests inject a fixed one.
using ChatClock = std::function<storage::Time()>;

/// One chat turn end to end, for every front door: validate, store the user message first
/// (idempotent by client_message_id), take one unit of the daily quota atomically, load the
/// turn's context in one read, build the request, call the model (whole or streamed), store
/// the reply with its token usage and finish reason, answer. A model failure gives the quota
/// unit back and leaves the user message stored as failed; a repeat of a message whose reply
/// is stored replays it and costs nothing; a repeat while the first is still running is 409
/// `conflict`; a repeat of a failed message runs it again (claimed so that only one does).
/// Knows nothing of HTTP.
class ChatService {
 public:
  /// `model` may be null (no provider configured): turns then fail with 503 `llm_not_configured`.
  ChatService(storage::Store& store, ai::ChatModel* model, ContextBudget budget, ChatLimits limits, ChatClock clock,
              obs::Logger& logger, obs::MetricsRegistry& metrics, TurnStoredHook on_turn_stored = {});

  /// Everything that may be refused with an ordinary error, before any reply text exists:
  /// validation (400/413/415), `llm_not_configured`, `conflict`, `quota_exceeded`.
  Task<PreparedTurn> prepare(ChatTurnRequest request);

  /// Runs a prepared turn: streamed when `on_delta` is given (it gets the reply text as it
  /// arrives; false stops the model), whole otherwise; `on_start` runs first. Throws the
  /// model's error (`upstream_unavailable`) after giving the quota unit back. When the caller is
  /// cancelled or stops mid-stream, the text so far is stored with finish_reason
  /// `interrupted`; with no text yet the turn is abandoned and `message_id` is 0. Always
  /// finishes the turn's bookkeeping, also for a caller that was cancelled.
  Task<TurnResult> complete(PreparedTurn turn, ai::DeltaHandler on_delta = {}, TurnStartHandler on_start = {});

  /// prepare() then complete().
  Task<TurnResult> send(ChatTurnRequest request, ai::DeltaHandler on_delta = {});

  /// True when a model is configured.
  [[nodiscard]] bool model_configured() const noexcept { return model_ != nullptr; }
  /// The limits turns are checked against.
  [[nodiscard]] const ChatLimits& limits() const noexcept { return limits_; }
  /// Reads the `relevant_past` flag (off: no older messages are searched for or injected) from
  /// `flags`; set once while wiring, before turns run. Without flags every feature is on.
  void use_feature_flags(FeatureFlags* flags) noexcept { flags_ = flags; }
  /// Opens the turn's spans (store work, model call) with `tracer`; set once while wiring.
  /// Without one no spans are made and no `traceparent` goes to the model.
  void use_tracer(obs::Tracer* tracer) noexcept { tracer_ = tracer; }
  /// The tracer set by use_tracer (null: none), for the front doors' own spans.
  [[nodiscard]] obs::Tracer* tracer() const noexcept { return tracer_; }

 private:
  Task<void> resume_repeat(PreparedTurn& turn, const storage::Message& stored);
  Task<TurnResult> replay_of(const storage::Message& user_message, const storage::Message& reply);
  /// Loads the turn's context, builds the request and calls the model.
  Task<ai::ChatResult> call_model(const PreparedTurn& turn, const ai::DeltaHandler& on_delta);
  /// Gives the quota unit back, marks the user message failed and drops the claim; never throws.
  Task<void> abandon(const PreparedTurn& turn, bool quota_taken);
  Task<void> release_claim(const PreparedTurn& turn);
  /// Records the model call for the operators' statistics; never throws.
  Task<void> record_model_call(storage::UserId user_id, const ai::ChatResult& result, bool ok,
                               std::chrono::steady_clock::duration took);
  [[nodiscard]] TurnUsage usage_after(const storage::QuotaGrant& grant) const;
  [[nodiscard]] std::string next_claim_owner();

  storage::Store& store_;
  ai::ChatModel* model_;
  ContextBuilder builder_;
  ContextBudget budget_;
  ChatLimits limits_;
  ChatClock clock_;
  obs::Logger& logger_;
  TurnStoredHook on_turn_stored_;
  std::string claim_prefix_;
  std::atomic<std::uint64_t> claims_{0};
  obs::Counter* turns_ok_;
  obs::Counter* turns_replayed_;
  obs::Counter* turns_refused_;
  obs::Counter* turns_failed_;
  obs::Counter* turns_interrupted_;
  obs::Counter* input_tokens_;
  obs::Counter* output_tokens_;
  obs::Histogram* model_seconds_;
  FeatureFlags* flags_ = nullptr;
  obs::Tracer* tracer_ = nullptr;
};

}  // namespace evolveai::services
