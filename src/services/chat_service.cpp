#include "services/chat_service.hpp"

#include <boost/asio/this_coro.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <exception>
#include <random>
#include <utility>

#include "ai/chat_model_factory.hpp"
#include "core/errors.hpp"
#include "core/time_format.hpp"
#include "core/utf8.hpp"
#include "obs/logger.hpp"
#include "obs/metrics.hpp"
#include "obs/tracer.hpp"
#include "services/feature_flags.hpp"
#include "services/profile_service.hpp"
#include "storage/store.hpp"

namespace evolveai::services {
namespace {

constexpr std::size_t kMaxClientMessageIdChars = 64;
constexpr std::array<double, 11> kModelSecondsBuckets{0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120};
/// Said when the model ended without any text and without a reason fit to show.
constexpr std::string_view kNoAnswerText = "I could not find an answer to that just now. Could you say it another way?";

void validate_text(const std::string& text, std::size_t max_chars) {
  if (!core::is_valid_utf8(text)) {
    throw core::validation_failed("message", "'message' must be valid UTF-8");
  }
  const std::size_t length = core::utf8_length(text);
  if (length < 1 || length > max_chars) {
    throw core::validation_failed("message", fmt::format("'message' must be 1 to {} characters long", max_chars));
  }
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
    throw core::validation_failed("message", "'message' must not be blank");
  }
}

void validate_client_message_id(const std::optional<std::string>& id) {
  if (!id) {
    return;
  }
  const bool printable =
      std::all_of(id->begin(), id->end(), [](char c) { return c > ' ' && c < '\x7f'; });  // visible ASCII
  if (id->empty() || id->size() > kMaxClientMessageIdChars || !printable) {
    throw core::validation_failed("client_message_id", "'client_message_id' must be 1 to 64 visible ASCII characters");
  }
}

std::int64_t tokens_of(const ai::Usage& usage) {
  return usage.total_tokens > 0 ? usage.total_tokens : usage.input_tokens + usage.output_tokens;
}

std::vector<std::string> fact_texts(const storage::Memory& memory) {
  std::vector<std::string> texts;
  texts.reserve(memory.facts.size());
  for (const auto& fact : memory.facts) {
    texts.push_back(fact.text);
  }
  return texts;
}

std::chrono::seconds seconds_until(storage::Time from, storage::Time to) {
  const auto wait = std::chrono::ceil<std::chrono::seconds>(to - from);
  return std::max(wait, std::chrono::seconds(1));
}

/// A span of the turn under `parent`; a span with no ids when there is no tracer.
obs::Span open_span(obs::Tracer* tracer, std::string_view name, obs::SpanKind kind, const obs::TraceContext& parent) {
  if (tracer == nullptr) {
    return {};
  }
  return tracer->start_span(name, kind, parent);
}

/// A client span for one store call, named after its statement (names are built only when recorded).
obs::Span store_span(obs::Tracer* tracer, std::string_view statement, const obs::TraceContext& parent) {
  auto span = open_span(tracer, "store", obs::SpanKind::kClient, parent);
  if (span.recording()) {
    span.set_name("store." + std::string(statement));
    span.set_string("db.statement.name", statement);
  }
  return span;
}

std::string random_prefix() {
  std::random_device entropy;
  return fmt::format("{:08x}{:08x}", entropy(), entropy());
}

}  // namespace

ChatService::ChatService(storage::Store& store, ai::ChatModel* model, ContextBudget budget, ChatLimits limits,
                         ChatClock clock, obs::Logger& logger, obs::MetricsRegistry& metrics,
                         TurnStoredHook on_turn_stored)
    : store_(store),
      model_(model),
      builder_(budget),
      budget_(budget),
      limits_(limits),
      clock_(std::move(clock)),
      logger_(logger),
      on_turn_stored_(std::move(on_turn_stored)),
      claim_prefix_(random_prefix()) {
  auto& turns = metrics.counter("evolveai_chat_turns_total", "Chat turns by outcome", {"outcome"});
  turns_ok_ = &turns.with({"ok"});
  turns_replayed_ = &turns.with({"replayed"});
  turns_refused_ = &turns.with({"refused"});
  turns_failed_ = &turns.with({"failed"});
  turns_interrupted_ = &turns.with({"interrupted"});
  auto& tokens = metrics.counter("evolveai_model_tokens_total", "Model tokens used by chat turns", {"direction"});
  input_tokens_ = &tokens.with({"input"});
  output_tokens_ = &tokens.with({"output"});
  model_seconds_ = &metrics
                        .histogram("evolveai_chat_model_duration_seconds",
                                   "Context loading and model call of a chat turn", {}, kModelSecondsBuckets)
                        .with();
}

Task<TurnResult> ChatService::send(ChatTurnRequest request, ai::DeltaHandler on_delta) {
  auto preparing = prepare(std::move(request));
  auto turn = co_await std::move(preparing);
  auto completing = complete(std::move(turn), std::move(on_delta));
  co_return co_await std::move(completing);
}

Task<PreparedTurn> ChatService::prepare(ChatTurnRequest request) {
  validate_text(request.text, limits_.max_message_chars);
  validate_client_message_id(request.client_message_id);
  PreparedTurn turn;
  turn.user_id = request.user_id;
  turn.trace = request.trace;
  if (request.image) {
    turn.image = check_image(std::move(request.image->bytes), request.image->mime_type, limits_.max_image_bytes);
  }
  if (request.audio) {
    if (request.audio->bytes.empty() || !request.audio->mime_type.starts_with("audio/")) {
      throw core::validation_failed("audio", "Send audio bytes with an audio/* type");
    }
    if (request.audio->bytes.size() > limits_.max_audio_bytes) {
      throw core::payload_too_large("The voice message is too large");
    }
    turn.audio = std::move(request.audio);
  }
  if (model_ == nullptr) {
    turns_refused_->inc();
    throw ai::not_configured_error();
  }

  // Storing the user message and taking the quota unit: one span with a child per store call.
  auto prepare_span = open_span(tracer_, "chat.prepare", obs::SpanKind::kInternal, request.trace);
  prepare_span.set_int("enduser.id", request.user_id);
  storage::NewMessage message;
  message.user_id = request.user_id;
  message.role = storage::Role::kUser;
  message.content = std::move(request.text);
  message.has_image = turn.image.has_value();
  message.status = storage::MessageStatus::kPending;
  message.client_message_id = std::move(request.client_message_id);
  auto insert_span = store_span(tracer_, "insert_message", prepare_span.context());
  const auto inserted = co_await store_.insert_message(message);
  insert_span.end();
  turn.user_message_id = inserted.message.id;
  turn.text = inserted.message.content;  // a repeat runs the text first sent
  if (!inserted.created) {
    co_await resume_repeat(turn, inserted.message);
    if (turn.replay) {
      prepare_span.set_bool("chat.replayed", true);
      co_return turn;
    }
  }

  std::exception_ptr failure;
  auto quota_span = store_span(tracer_, "take_quota_unit", prepare_span.context());
  try {
    turn.grant = co_await store_.take_quota_unit(turn.user_id, limits_.free_daily_messages);
  } catch (...) {
    quota_span.set_error("the quota unit could not be taken");
    failure = std::current_exception();
  }
  quota_span.end();
  if (failure) {
    co_await abandon(turn, false);
    std::rethrow_exception(failure);
  }
  if (!turn.grant.granted) {
    prepare_span.set_error("quota_exceeded");
    co_await abandon(turn, false);
    turns_refused_->inc();
    throw core::quota_exceeded(core::format_rfc3339(turn.grant.resets_at),
                               seconds_until(clock_(), turn.grant.resets_at));
  }
  co_return turn;
}

Task<void> ChatService::resume_repeat(PreparedTurn& turn, const storage::Message& stored) {
  if (auto reply = co_await store_.find_reply(turn.user_id, stored.id)) {
    turn.replay = co_await replay_of(stored, *reply);
    co_return;
  }
  const auto still_running = [this](const storage::Message& message) {
    return message.status == storage::MessageStatus::kPending &&
           clock_() - message.created_at < limits_.abandoned_turn_after;
  };
  if (still_running(stored)) {
    throw core::conflict("This message is still being answered; ask again in a moment");
  }
  // A failed or abandoned message runs again, but only under a claim: concurrent repeats
  // must not both reach the model.
  std::pair<std::string, std::string> claim{fmt::format("chat_turn:{}", stored.id), next_claim_owner()};
  if (!co_await store_.acquire_lease(claim.first, claim.second, limits_.abandoned_turn_after)) {
    throw core::conflict("This message is still being answered; ask again in a moment");
  }
  turn.claim = std::move(claim);
  std::exception_ptr failure;
  try {
    // Under the claim, look again: another repeat may have answered it meanwhile.
    if (auto reply = co_await store_.find_reply(turn.user_id, stored.id)) {
      turn.replay = co_await replay_of(stored, *reply);
    } else {
      const std::string client_id = stored.client_message_id.value_or("");
      const auto current = co_await store_.find_message_by_client_id(turn.user_id, client_id);
      if (!current || still_running(*current)) {
        throw core::conflict("This message is still being answered; ask again in a moment");
      }
      co_await store_.set_message_status(turn.user_id, stored.id, storage::MessageStatus::kPending, std::nullopt);
    }
  } catch (...) {
    failure = std::current_exception();
  }
  if (turn.replay || failure) {
    co_await release_claim(turn);
    turn.claim.reset();
  }
  if (failure) {
    std::rethrow_exception(failure);
  }
}

Task<TurnResult> ChatService::replay_of(const storage::Message& user_message, const storage::Message& reply) {
  TurnResult result;
  result.reply = reply.content;
  result.message_id = reply.id;
  result.user_message_id = user_message.id;
  result.finish_reason = reply.finish_reason.value_or("stop");
  result.replayed = true;
  const auto now = clock_();
  if (const auto user = co_await store_.find_user(user_message.user_id)) {
    const auto usage = usage_of(*user, limits_.free_daily_messages, now);
    result.usage = TurnUsage{usage.messages_today, usage.daily_limit, usage.resets_at};
  }
  co_return result;
}

Task<TurnResult> ChatService::complete(PreparedTurn turn, ai::DeltaHandler on_delta, TurnStartHandler on_start) {
  if (turn.replay) {
    turns_replayed_->inc();
    bool started = true;
    if (on_start) {
      started = co_await on_start();
    }
    if (started && on_delta) {
      const std::string text = turn.replay->reply;
      co_await on_delta(text);
    }
    co_return *turn.replay;
  }
  if (model_ == nullptr) {
    co_await abandon(turn, true);
    throw ai::not_configured_error();
  }

  const auto started = std::chrono::steady_clock::now();
  ai::ChatResult result;
  std::exception_ptr failure;
  bool caller_gone = false;
  try {
    if (on_start) {
      caller_gone = !co_await on_start();
    }
  } catch (...) {
    caller_gone = true;
  }
  try {
    if (!caller_gone) {
      result = co_await call_model(turn, on_delta);
    }
  } catch (...) {
    failure = std::current_exception();
  }
  // A caller that went away mid-stream cancels this coroutine; without this every later await
  // would fail at once and the outcome could not be recorded.
  co_await boost::asio::this_coro::reset_cancellation_state();
  model_seconds_->observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  if (!caller_gone) {
    co_await record_model_call(turn.user_id, result, failure == nullptr, std::chrono::steady_clock::now() - started);
  }

  if (caller_gone) {
    co_await abandon(turn, true);
    turns_interrupted_->inc();
    TurnResult answer;
    answer.user_message_id = turn.user_message_id;
    answer.finish_reason = std::string(ai::finish_reason_name(ai::FinishReason::kInterrupted));
    answer.usage = usage_after(turn.grant);
    co_return answer;
  }
  if (failure) {
    co_await abandon(turn, true);
    turns_failed_->inc();
    try {
      std::rethrow_exception(failure);
    } catch (const ai::ModelError& error) {
      logger_.warn("chat_model_failed", {{"user_id", turn.user_id},
                                         {"message_id", turn.user_message_id},
                                         {"failure", ai::model_failure_name(error.failure())},
                                         {"partial", error.partial()},
                                         {"error", error.what()}});
      throw;
    }
  }

  input_tokens_->inc(static_cast<double>(result.usage.input_tokens));
  output_tokens_->inc(static_cast<double>(result.usage.output_tokens));
  const bool interrupted = result.finish_reason == ai::FinishReason::kInterrupted;
  std::string reply = result.text;
  std::string addition;
  if (result.blocked && !result.friendly_text.empty()) {
    addition = result.friendly_text;
  } else if (reply.empty() && !interrupted) {
    addition = kNoAnswerText;
  }
  if (!addition.empty()) {
    std::string piece = reply.empty() ? addition : "\n\n" + addition;
    reply += piece;
    if (on_delta) {
      co_await on_delta(piece);
    }
  }

  TurnResult answer;
  answer.user_message_id = turn.user_message_id;
  answer.finish_reason = std::string(ai::finish_reason_name(result.finish_reason));
  answer.usage = usage_after(turn.grant);
  if (reply.empty()) {
    // Stopped before any text: nothing to keep, nothing to charge.
    co_await abandon(turn, true);
    turns_interrupted_->inc();
    logger_.info("chat_turn_interrupted", {{"user_id", turn.user_id}, {"message_id", turn.user_message_id}});
    co_return answer;
  }

  storage::NewMessage message;
  message.user_id = turn.user_id;
  message.role = storage::Role::kAssistant;
  message.content = reply;
  message.tokens = tokens_of(result.usage);
  message.status = storage::MessageStatus::kComplete;
  message.reply_to_id = turn.user_message_id;
  message.finish_reason = answer.finish_reason;
  storage::InsertedMessage stored;
  auto reply_span = open_span(tracer_, "chat.store_reply", obs::SpanKind::kInternal, turn.trace);
  auto insert_span = store_span(tracer_, "insert_message", reply_span.context());
  try {
    stored = co_await store_.insert_message(message);
  } catch (...) {
    insert_span.set_error("the reply could not be stored");
    failure = std::current_exception();
  }
  insert_span.end();
  if (failure) {
    reply_span.set_error("the reply could not be stored");
    reply_span.end();
    co_await abandon(turn, true);
    turns_failed_->inc();
    std::rethrow_exception(failure);
  }
  auto status_span = store_span(tracer_, "set_message_status", reply_span.context());
  try {
    co_await store_.set_message_status(turn.user_id, turn.user_message_id, storage::MessageStatus::kComplete,
                                       std::nullopt);
  } catch (const std::exception& e) {
    // The reply is stored and found by find_reply; the user message's status only lags.
    status_span.set_error(e.what());
    logger_.error("chat_status_update_failed", {{"user_id", turn.user_id}, {"error", e.what()}});
  }
  status_span.end();
  reply_span.end();
  co_await release_claim(turn);
  if (on_turn_stored_) {
    try {
      co_await on_turn_stored_(turn.user_id);
    } catch (const std::exception& e) {
      logger_.error("chat_turn_hook_failed", {{"user_id", turn.user_id}, {"error", e.what()}});
    }
  }

  (interrupted ? turns_interrupted_ : turns_ok_)->inc();
  logger_.info("chat_turn", {{"user_id", turn.user_id},
                             {"message_id", stored.message.id},
                             {"finish_reason", answer.finish_reason},
                             {"model", result.model},
                             {"input_tokens", result.usage.input_tokens},
                             {"output_tokens", result.usage.output_tokens},
                             {"streamed", static_cast<bool>(on_delta)}});
  answer.reply = std::move(reply);
  answer.message_id = stored.message.id;
  co_return answer;
}

Task<ai::ChatResult> ChatService::call_model(const PreparedTurn& turn, const ai::DeltaHandler& on_delta) {
  std::size_t relevant_limit = budget_.relevant_messages;
  if (flags_ != nullptr && !co_await flags_->enabled(kFlagRelevantPast, turn.user_id)) {
    relevant_limit = 0;
  }
  auto context_span = store_span(tracer_, "load_turn_context", turn.trace);
  const auto context =
      co_await store_.load_turn_context(turn.user_id, limits_.recent_messages, turn.text, relevant_limit);
  context_span.set_int("chat.recent_messages", static_cast<std::int64_t>(context.recent.size()));
  context_span.end();
  ContextInput input;
  if (context.user) {
    input.settings = parse_stored_settings(context.user->settings_json);
    input.user_name = context.user->first_name;
  }
  input.facts = fact_texts(context.memory);
  input.summary = context.memory.summary;
  input.recent = context.recent;
  input.relevant = context.relevant;
  input.current_message_id = turn.user_message_id;
  input.current_text = turn.text;
  if (turn.image) {
    input.current_image = ai::Part::inline_data(turn.image->mime_type, turn.image->bytes);
  }
  if (turn.audio) {
    input.current_audio = ai::Part::inline_data(turn.audio->mime_type, turn.audio->bytes);
  }
  auto built = builder_.build(input);
  logger_.debug("chat_context", {{"user_id", turn.user_id},
                                 {"recent", built.recent_used},
                                 {"relevant", built.relevant_used},
                                 {"estimated_tokens", built.estimated_tokens}});
  auto model_span =
      open_span(tracer_, on_delta ? "model.stream" : "model.generate", obs::SpanKind::kClient, turn.trace);
  if (model_span.recording()) {
    model_span.set_string("gen_ai.request.model", model_->name());
    model_span.set_int("enduser.id", turn.user_id);
  }
  // The provider sends this span's ids upstream as `traceparent`.
  built.request.trace = model_span.context();
  auto call = on_delta ? model_->stream(built.request, on_delta) : model_->generate(built.request);
  ai::ChatResult result;
  try {
    result = co_await std::move(call);
  } catch (const std::exception& e) {
    model_span.set_error(e.what());
    throw;
  }
  if (model_span.recording()) {
    model_span.set_string("gen_ai.response.model", result.model);
    model_span.set_int("gen_ai.usage.input_tokens", result.usage.input_tokens);
    model_span.set_int("gen_ai.usage.output_tokens", result.usage.output_tokens);
    model_span.set_string("gen_ai.response.finish_reason", ai::finish_reason_name(result.finish_reason));
  }
  co_return result;
}

Task<void> ChatService::abandon(const PreparedTurn& turn, bool quota_taken) {
  if (quota_taken && turn.grant.granted) {
    try {
      co_await store_.give_back_quota_unit(turn.user_id, turn.grant.day);
    } catch (const std::exception& e) {
      logger_.error("chat_quota_give_back_failed", {{"user_id", turn.user_id}, {"error", e.what()}});
    }
  }
  try {
    co_await store_.set_message_status(turn.user_id, turn.user_message_id, storage::MessageStatus::kFailed,
                                       std::nullopt);
  } catch (const std::exception& e) {
    logger_.error("chat_status_update_failed", {{"user_id", turn.user_id}, {"error", e.what()}});
  }
  co_await release_claim(turn);
}

Task<void> ChatService::release_claim(const PreparedTurn& turn) {
  if (!turn.claim) {
    co_return;
  }
  try {
    co_await store_.release_lease(turn.claim->first, turn.claim->second);
  } catch (const std::exception& e) {
    // The claim expires by itself after abandoned_turn_after.
    logger_.warn("chat_claim_release_failed", {{"user_id", turn.user_id}, {"error", e.what()}});
  }
}

Task<void> ChatService::record_model_call(storage::UserId user_id, const ai::ChatResult& result, bool ok,
                                          std::chrono::steady_clock::duration took) {
  storage::NewModelCall call;
  call.user_id = user_id;
  call.ok = ok;
  call.input_tokens = ok ? result.usage.input_tokens : 0;
  call.output_tokens = ok ? result.usage.output_tokens : 0;
  call.latency_ms = std::chrono::duration_cast<std::chrono::milliseconds>(took).count();
  try {
    co_await store_.record_model_call(call);
  } catch (const std::exception& e) {
    // Statistics only: a lost record never fails the turn.
    logger_.warn("chat_model_call_record_failed", {{"user_id", user_id}, {"error", e.what()}});
  }
}

TurnUsage ChatService::usage_after(const storage::QuotaGrant& grant) const {
  TurnUsage usage;
  usage.messages_today = grant.used;
  if (!grant.unlimited) {
    usage.daily_limit = limits_.free_daily_messages;
  }
  usage.resets_at = grant.resets_at;
  return usage;
}

std::string ChatService::next_claim_owner() {
  return fmt::format("{}-{}", claim_prefix_, claims_.fetch_add(1));
}

}  // namespace evolveai::services
