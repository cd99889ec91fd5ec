#include "telegram/bot.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <atomic>
#include <chrono>
#include <utility>

#include "core/errors.hpp"
#include "core/time_format.hpp"
#include "net/circuit_breaker.hpp"
#include "net/http_client.hpp"
#include "obs/logger.hpp"
#include "obs/metrics.hpp"
#include "obs/tracer.hpp"
#include "services/chat_image.hpp"
#include "services/chat_service.hpp"
#include "services/history_service.hpp"
#include "services/memory_service.hpp"
#include "services/profile_service.hpp"
#include "services/tts_service.hpp"
#include "services/user_settings.hpp"
#include "services/voice_replies.hpp"
#include "storage/store.hpp"
#include "telegram/bot_api.hpp"
#include "telegram/format.hpp"
#include "telegram/payments.hpp"

namespace evolveai::telegram {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kSearchResults = 5;

storage::TelegramIdentity identity_of(const User& user) {
  return storage::TelegramIdentity{user.id, user.first_name, user.last_name, user.username, user.language_code};
}

/// "HH:MM" of an RFC 3339 time ("2024-05-25T00:00:00Z" -> "00:00"); the text itself when shorter.
std::string clock_time(const std::string& rfc3339) {
  return rfc3339.size() >= 16 ? rfc3339.substr(11, 5) : rfc3339;
}

/// "YYYY-MM-DD" of a time.
std::string day_of(storage::Time time) {
  return core::format_rfc3339(time).substr(0, 10);
}

json::object inline_keyboard(json::array rows) {
  json::object markup;
  markup["inline_keyboard"] = std::move(rows);
  return markup;
}

json::object callback_button(const std::string& text, const std::string& data) {
  json::object button;
  button["text"] = text;
  button["callback_data"] = data;
  return button;
}

/// A reply streamed to one chat: previews as the model writes (a draft in private chats where
/// Telegram offers it, else one message edited at most once per interval), then the final text
/// as HTML messages of at most 4096 characters.
class ReplyStream {
 public:
  ReplyStream(BotApi& api, obs::Logger& logger, std::int64_t chat_id, std::int64_t draft_id, bool drafts,
              std::chrono::milliseconds interval, std::atomic<bool>& drafts_supported)
      : api_(api),
        logger_(logger),
        chat_id_(chat_id),
        draft_id_(draft_id),
        drafts_(drafts && drafts_supported.load()),
        interval_(interval),
        drafts_supported_(drafts_supported) {}

  Task<bool> on_delta(std::string_view delta) {
    text_ += delta;
    const auto now = Clock::now();
    if (last_push_ && now - *last_push_ < interval_) {
      co_return true;
    }
    last_push_ = now;
    co_await push();
    co_return true;
  }

  /// Sends the whole reply; returns false when nothing could be sent.
  Task<void> finish(const std::string& reply) {
    const auto pieces = split_message(reply);
    std::size_t first = 0;
    if (preview_message_id_ && !pieces.empty()) {
      bool edited = false;
      try {
        auto editing = api_.edit_text(chat_id_, *preview_message_id_, to_telegram_html(pieces.front()), true);
        co_await std::move(editing);
        edited = true;
      } catch (const std::exception& e) {
        logger_.warn("telegram_final_edit_failed", {{"chat_id", chat_id_}, {"error", e.what()}});
      }
      first = edited ? 1 : 0;
    }
    for (std::size_t i = first; i < pieces.size(); ++i) {
      auto sending = api_.send_text(chat_id_, to_telegram_html(pieces[i]), true);
      co_await std::move(sending);
    }
  }

  /// The preview message, when one was sent (edits replace it by the final text).
  [[nodiscard]] std::optional<std::int64_t> preview_message_id() const { return preview_message_id_; }

 private:
  Task<void> push() {
    const auto shown = preview(text_);
    if (shown.empty()) {
      co_return;
    }
    if (drafts_) {
      json::object params;
      params["chat_id"] = chat_id_;
      params["draft_id"] = draft_id_;
      params["text"] = shown;
      bool unsupported = false;
      try {
        auto calling = api_.call("sendMessageDraft", std::move(params), OnFlood::kFail);
        co_await std::move(calling);
        co_return;
      } catch (const BotApiError& e) {
        if (e.error_code() == 429) {
          co_return;  // the next preview will do
        }
        unsupported = e.error_code() == 404 || e.error_code() == 400;
        logger_.info("telegram_drafts_unavailable", {{"error", e.description()}});
      } catch (const std::exception& e) {
        logger_.debug("telegram_preview_failed", {{"error", e.what()}});
        co_return;
      }
      if (unsupported) {
        drafts_ = false;
        drafts_supported_ = false;
      }
    }
    try {
      if (!preview_message_id_) {
        auto sending = api_.send_text(chat_id_, shown, false, std::nullopt, OnFlood::kFail);
        preview_message_id_ = co_await std::move(sending);
      } else {
        auto editing = api_.edit_text(chat_id_, *preview_message_id_, shown, false, OnFlood::kFail);
        co_await std::move(editing);
      }
    } catch (const std::exception& e) {
      logger_.debug("telegram_preview_failed", {{"error", e.what()}});
    }
  }

  BotApi& api_;
  obs::Logger& logger_;
  std::int64_t chat_id_;
  std::int64_t draft_id_;
  bool drafts_;
  std::chrono::milliseconds interval_;
  std::atomic<bool>& drafts_supported_;
  std::string text_;
  std::optional<Clock::time_point> last_push_;
  std::optional<std::int64_t> preview_message_id_;
};

/// What one incoming message asks the model.
struct TurnInput {
  std::string text;
  std::optional<services::ChatImage> image;
  std::optional<services::ChatAudio> audio;
};

}  // namespace

struct Bot::Impl {
  Impl(BotApi& bot_api, BotServices svc, BotOptions opts, obs::MetricsRegistry& metrics, obs::Logger& log)
      : api(bot_api),
        services(svc),
        options(std::move(opts)),
        logger(log),
        updates(metrics.counter("evolveai_telegram_updates_total", "Telegram updates handled, by route", {"route"})),
        duplicates(metrics
                       .counter("evolveai_telegram_duplicate_updates_total",
                                "Telegram updates seen again and skipped (redelivery, another node)")
                       .with()) {}

  BotApi& api;
  BotServices services;
  BotOptions options;
  obs::Logger& logger;
  obs::Family<obs::Counter>& updates;
  obs::Counter& duplicates;
  std::string username;
  std::atomic<bool> drafts_supported{true};

  // --- helpers --------------------------------------------------------------------------

  Task<void> say(std::int64_t chat_id, std::string text, std::optional<json::object> markup = std::nullopt) {
    try {
      auto sending = api.send_text(chat_id, escape_html(text), true, std::move(markup));
      co_await std::move(sending);
    } catch (const std::exception& e) {
      logger.warn("telegram_send_failed", {{"chat_id", chat_id}, {"error", e.what()}});
    }
  }

  Task<void> say_html(std::int64_t chat_id, std::string html) {
    try {
      for (const auto& piece : split_message(html)) {
        auto sending = api.send_text(chat_id, piece, true);
        co_await std::move(sending);
      }
    } catch (const std::exception& e) {
      logger.warn("telegram_send_failed", {{"chat_id", chat_id}, {"error", e.what()}});
    }
  }

  Task<void> typing(std::int64_t chat_id) {
    json::object params;
    params["chat_id"] = chat_id;
    params["action"] = "typing";
    try {
      auto calling = api.call("sendChatAction", std::move(params), OnFlood::kFail);
      co_await std::move(calling);
    } catch (const std::exception& e) {
      logger.debug("telegram_chat_action_failed", {{"error", e.what()}});
    }
  }

  /// Creates or refreshes the sender's user; nullopt (and a log line) for banned users.
  Task<std::optional<storage::User>> user_of(const User& from) {
    const auto identity = identity_of(from);
    auto upserting = services.store.upsert_user(identity);
    auto user = co_await std::move(upserting);
    if (user.banned) {
      logger.info("telegram_banned_user_ignored", {{"user_id", user.id}});
      co_return std::nullopt;
    }
    co_return user;
  }

  json::object invoice_params(storage::UserId user_id, const services::PremiumPlan& plan, Lang lang) const {
    json::object params;
    params["title"] = tr(lang, Text::kInvoiceTitle, plan.days);
    params["description"] = tr(lang, Text::kInvoiceDescription, plan.days);
    params["payload"] = invoice_payload(user_id, plan.id);
    params["provider_token"] = "";
    params["currency"] = std::string(services::kStarsCurrency);
    json::object price;
    price["label"] = tr(lang, Text::kInvoiceTitle, plan.days);
    price["amount"] = plan.stars;
    params["prices"] = json::array{std::move(price)};
    return params;
  }

  Task<void> send_invoice(std::int64_t chat_id, storage::UserId user_id, const services::PremiumPlan& plan, Lang lang) {
    auto params = invoice_params(user_id, plan, lang);
    params["chat_id"] = chat_id;
    try {
      auto calling = api.call("sendInvoice", std::move(params));
      co_await std::move(calling);
    } catch (const std::exception& e) {
      logger.warn("telegram_invoice_failed", {{"chat_id", chat_id}, {"error", e.what()}});
    }
  }

  // --- conversation ---------------------------------------------------------------------

  Task<void> converse(const Update& update, const Message& message, const storage::User& user, Lang lang,
                      TurnInput input) {
    const auto chat_id = message.chat.id;
    const auto key = "tg:" + std::to_string(user.id);
    auto acquiring = services.limiter.acquire(key, options.rate_policy);
    const auto decision = co_await std::move(acquiring);
    if (!decision.allowed) {
      auto say_call = say(chat_id, tr(lang, Text::kRateLimited, decision.retry_after.count()));
      co_await std::move(say_call);
      co_return;
    }
    auto typing_call = typing(chat_id);
    co_await std::move(typing_call);

    // An update is where a trace begins: the turn's spans and the reply's Bot API calls hang under it.
    obs::Span update_span;
    if (auto* tracer = services.chat.tracer()) {
      update_span = tracer->start_span("telegram.update", obs::SpanKind::kServer, obs::TraceContext{});
      update_span.set_int("telegram.update_id", update.update_id);
      update_span.set_int("enduser.id", user.id);
    }
    auto traced_api = api.with_trace(update_span.context());

    services::ChatTurnRequest request;
    request.trace = update_span.context();
    request.user_id = user.id;
    request.text = std::move(input.text);
    request.image = std::move(input.image);
    request.audio = std::move(input.audio);
    request.client_message_id = "tg-" + std::to_string(update.update_id);
    std::optional<services::PreparedTurn> prepared;
    std::optional<core::Error> refusal;
    try {
      auto preparing = services.chat.prepare(std::move(request));
      prepared = co_await std::move(preparing);
    } catch (const core::Error& e) {
      refusal = e;
    }
    if (refusal) {
      auto refuse_call = refuse(chat_id, user, lang, *refusal);
      co_await std::move(refuse_call);
      co_return;
    }

    ReplyStream stream(traced_api, logger, chat_id, update.update_id,
                       options.use_drafts && message.chat.type == "private", options.stream_edit_interval,
                       drafts_supported);
    ai::DeltaHandler on_delta = [&stream](std::string_view delta) { return stream.on_delta(delta); };
    std::optional<services::TurnResult> result;
    try {
      auto completing = services.chat.complete(std::move(*prepared), on_delta);
      result = co_await std::move(completing);
    } catch (const core::Error& e) {
      refusal = e;
    }
    if (refusal) {
      update_span.set_error(refusal->code());
      logger.warn("telegram_turn_failed", {{"user_id", user.id}, {"error", refusal->log_message()}});
      const auto text = tr(lang, Text::kUpstreamFailed);
      if (const auto preview_id = stream.preview_message_id()) {
        try {
          auto editing = traced_api.edit_text(chat_id, *preview_id, escape_html(text), true);
          co_await std::move(editing);
          co_return;
        } catch (const std::exception&) {  // fall through to a new message
        }
      }
      auto say_call = say(chat_id, text);
      co_await std::move(say_call);
      co_return;
    }
    if (result->reply.empty()) {
      co_return;
    }
    co_await stream.finish(result->reply);
    auto voice_reply_call = voice_reply(chat_id, user, lang, result->reply);
    co_await std::move(voice_reply_call);
  }

  Task<void> refuse(std::int64_t chat_id, const storage::User& user, Lang lang, const core::Error& error) {
    switch (error.kind()) {
      case core::ErrorKind::kQuotaExceeded: {
        auto say_call = say(chat_id, tr(lang, Text::kQuotaExceeded, clock_time(error.resets_at().value_or(""))));
        co_await std::move(say_call);
        if (!services.plans.all().empty()) {
          auto send_invoice_call = send_invoice(chat_id, user.id, services.plans.all().front(), lang);
          co_await std::move(send_invoice_call);
        }
        co_return;
      }
      case core::ErrorKind::kConflict: co_return;  // the same message is being answered already
      case core::ErrorKind::kValidation:
      case core::ErrorKind::kPayloadTooLarge:
      case core::ErrorKind::kUnsupportedMediaType:
      case core::ErrorKind::kBadRequest: {
        auto say_call = say(chat_id, tr(lang, Text::kInvalidInput, error.client_message()));
        co_await std::move(say_call);
        co_return;
      }
      default: break;
    }
    if (error.code() == "llm_not_configured") {
      auto say_call = say(chat_id, tr(lang, Text::kNotConfigured));
      co_await std::move(say_call);
      co_return;
    }
    logger.warn("telegram_turn_refused", {{"user_id", user.id}, {"code", error.code()}});
    auto say_call = say(chat_id, tr(lang, Text::kUpstreamFailed));
    co_await std::move(say_call);
  }

  Task<void> voice_reply(std::int64_t chat_id, const storage::User& user, Lang lang, const std::string& reply) {
    auto speaking = services.voice.reply_to(user.id, std::nullopt, reply);
    auto wanted = co_await std::move(speaking);
    if (!wanted) {
      co_return;
    }
    auto& voice = *wanted;
    if (!voice.speech) {
      if (voice.refused && voice.refused->kind() == core::ErrorKind::kPremiumRequired) {
        auto say_call = say(chat_id, tr(lang, Text::kVoiceQuotaUsed));
        co_await std::move(say_call);
      } else if (voice.refused) {
        logger.warn("telegram_voice_reply_failed", {{"user_id", user.id}, {"error", voice.refused->log_message()}});
      }
      co_return;
    }
    try {
      std::vector<std::pair<std::string, std::string>> fields{{"chat_id", std::to_string(chat_id)}};
      InputFile file{"voice", "reply.ogg", "audio/ogg", std::move(voice.speech->audio)};
      auto calling = api.call_with_file("sendVoice", std::move(fields), std::move(file));
      co_await std::move(calling);
    } catch (const std::exception& e) {
      logger.warn("telegram_voice_send_failed", {{"chat_id", chat_id}, {"error", e.what()}});
    }
  }

  /// Downloads a file by id, refusing ones over the limit; nullopt (and a message) when it cannot.
  Task<std::optional<std::string>> download(std::int64_t chat_id, Lang lang, const std::string& file_id,
                                            std::optional<std::int64_t> declared_size) {
    if (declared_size && *declared_size > static_cast<std::int64_t>(options.max_file_bytes)) {
      auto say_call = say(chat_id, tr(lang, Text::kFileTooLarge));
      co_await std::move(say_call);
      co_return std::nullopt;
    }
    std::optional<std::string> bytes;
    try {
      auto locating = api.file_path(file_id);
      auto path = co_await std::move(locating);
      auto downloading = api.download_file(std::move(path), options.max_file_bytes);
      bytes = co_await std::move(downloading);
    } catch (const std::exception& e) {
      logger.warn("telegram_download_failed", {{"chat_id", chat_id}, {"error", e.what()}});
    }
    if (!bytes) {
      auto say_call = say(chat_id, tr(lang, Text::kUpstreamFailed));
      co_await std::move(say_call);
    }
    co_return bytes;
  }

  Task<void> on_photo(const Update& update, const Message& message, const storage::User& user, Lang lang) {
    // The largest size that may be downloaded; sizes without a stated size count by their area.
    const PhotoSize* best = nullptr;
    for (const auto& size : message.photo) {
      if (size.file_size && *size.file_size > static_cast<std::int64_t>(options.max_file_bytes)) {
        continue;
      }
      if (best == nullptr || size.width * size.height > best->width * best->height) {
        best = &size;
      }
    }
    if (best == nullptr) {
      auto say_call = say(message.chat.id, tr(lang, Text::kFileTooLarge));
      co_await std::move(say_call);
      co_return;
    }
    auto downloading = download(message.chat.id, lang, best->file_id, best->file_size);
    auto bytes = co_await std::move(downloading);
    if (!bytes) {
      co_return;
    }
    TurnInput input;
    input.text = message.caption && !message.caption->empty() ? *message.caption : tr(lang, Text::kPhotoDefaultPrompt);
    const auto type = services::sniff_image_type(*bytes);
    input.image = services::ChatImage{std::string(services::image_mime_type(type.value_or(services::ImageType::kJpeg))),
                                      std::move(*bytes)};
    auto converse_call = converse(update, message, user, lang, std::move(input));
    co_await std::move(converse_call);
  }

  Task<void> on_voice(const Update& update, const Message& message, const storage::User& user, Lang lang) {
    const auto& voice = *message.voice;
    auto downloading = download(message.chat.id, lang, voice.file_id, voice.file_size);
    auto bytes = co_await std::move(downloading);
    if (!bytes) {
      co_return;
    }
    TurnInput input;
    input.text = tr(lang, Text::kVoiceDefaultPrompt);
    input.audio = services::ChatAudio{voice.mime_type.value_or("audio/ogg"), std::move(*bytes)};
    auto converse_call = converse(update, message, user, lang, std::move(input));
    co_await std::move(converse_call);
  }

  // --- commands -------------------------------------------------------------------------

  Task<void> on_command(const Update& update, const Message& message, const storage::User& user, Lang lang) {
    const auto command = *parse_command(*message.text, username);
    const auto chat_id = message.chat.id;
    if (command.name == "start") {
      auto on_start_call = on_start(chat_id, *message.from, lang, command.args);
      co_await std::move(on_start_call);
    } else if (command.name == "help") {
      auto say_call = say(chat_id, tr(lang, Text::kHelp));
      co_await std::move(say_call);
    } else if (command.name == "profile") {
      auto on_profile_call = on_profile(chat_id, user, lang);
      co_await std::move(on_profile_call);
    } else if (command.name == "premium") {
      auto on_premium_call = on_premium(chat_id, user, lang);
      co_await std::move(on_premium_call);
    } else if (command.name == "reset") {
      json::array row;
      row.push_back(callback_button(tr(lang, Text::kResetYes), "reset:yes"));
      row.push_back(callback_button(tr(lang, Text::kResetNo), "reset:no"));
      json::array rows;
      rows.push_back(std::move(row));
      auto say_call = say(chat_id, tr(lang, Text::kResetConfirm), inline_keyboard(std::move(rows)));
      co_await std::move(say_call);
    } else if (command.name == "memory") {
      auto on_memory_call = on_memory(chat_id, user, lang);
      co_await std::move(on_memory_call);
    } else if (command.name == "voice") {
      const auto settings = services::parse_stored_settings(user.settings_json);
      json::object patch;
      patch["voice_replies"] = !settings.voice_replies;
      auto updating = services.profiles.update_settings(user.id, patch);
      const auto profile = co_await std::move(updating);
      auto say_call = say(chat_id, tr(lang, profile.settings.voice_replies ? Text::kVoiceOn : Text::kVoiceOff));
      co_await std::move(say_call);
    } else if (command.name == "search") {
      auto on_search_call = on_search(chat_id, user, lang, command.args);
      co_await std::move(on_search_call);
    } else if (command.name == "paysupport") {
      auto say_call = say(chat_id, tr(lang, Text::kPaySupport));
      co_await std::move(say_call);
    } else {
      logger.info("telegram_unknown_command", {{"update_id", update.update_id}, {"command", command.name}});
      auto say_call = say(chat_id, tr(lang, Text::kUnknownCommand));
      co_await std::move(say_call);
    }
  }

  Task<void> on_start(std::int64_t chat_id, const User& from, Lang lang, const std::string& payload) {
    std::string text = tr(lang, Text::kWelcome, from.first_name);
    if (!payload.empty()) {
      logger.info("telegram_start_payload", {{"chat_id", chat_id}, {"payload", payload}});
      text += "\n" + tr(lang, Text::kWelcomeDeepLink, payload);
    }
    std::optional<json::object> markup;
    if (!options.public_url.empty()) {
      std::string url = options.public_url;
      if (!payload.empty()) {
        url += (url.find('?') == std::string::npos ? "?startapp=" : "&startapp=") + payload;
      }
      json::object web_app;
      web_app["url"] = url;
      json::object button;
      button["text"] = tr(lang, Text::kOpenApp);
      button["web_app"] = std::move(web_app);
      json::array row;
      row.push_back(std::move(button));
      json::array rows;
      rows.push_back(std::move(row));
      markup = inline_keyboard(std::move(rows));
    }
    auto say_call = say(chat_id, text, std::move(markup));
    co_await std::move(say_call);
  }

  Task<void> on_profile(std::int64_t chat_id, const storage::User& user, Lang lang) {
    auto getting = services.profiles.get(user.id);
    const auto profile = co_await std::move(getting);
    const auto premium = profile.premium.active && profile.premium.until
                             ? tr(lang, Text::kPremiumActive, day_of(*profile.premium.until))
                             : tr(lang, Text::kPremiumInactive);
    const auto usage = profile.usage.daily_limit
                           ? tr(lang, Text::kUsageLimited, profile.usage.messages_today, *profile.usage.daily_limit)
                           : tr(lang, Text::kUsageUnlimited, profile.usage.messages_today);
    auto say_call = say(chat_id, tr(lang, Text::kProfile, user.first_name, premium, usage));
    co_await std::move(say_call);
  }

  Task<void> on_premium(std::int64_t chat_id, const storage::User& user, Lang lang) {
    std::string text = tr(lang, Text::kPremiumPlans);
    for (const auto& plan : services.plans.all()) {
      text += "\n" + tr(lang, Text::kPlanLine, plan.days, plan.stars);
    }
    auto say_call = say(chat_id, text);
    co_await std::move(say_call);
    for (const auto& plan : services.plans.all()) {
      auto send_invoice_call = send_invoice(chat_id, user.id, plan, lang);
      co_await std::move(send_invoice_call);
    }
  }

  Task<void> on_memory(std::int64_t chat_id, const storage::User& user, Lang lang) {
    auto getting = services.memory.get(user.id);
    const auto memory = co_await std::move(getting);
    if (memory.facts.empty() && memory.summary.empty()) {
      auto say_call = say(chat_id, tr(lang, Text::kMemoryEmpty));
      co_await std::move(say_call);
      co_return;
    }
    std::string html;
    if (!memory.facts.empty()) {
      html += "<b>" + escape_html(tr(lang, Text::kMemoryFacts)) + "</b>";
      for (const auto& fact : memory.facts) {
        html += "\n• " + escape_html(fact.text);
      }
    }
    if (!memory.summary.empty()) {
      html += (html.empty() ? "" : "\n\n") + std::string("<b>") + escape_html(tr(lang, Text::kMemorySummary)) +
              "</b>\n" + escape_html(memory.summary);
    }
    auto say_html_call = say_html(chat_id, html);
    co_await std::move(say_html_call);
  }

  Task<void> on_search(std::int64_t chat_id, const storage::User& user, Lang lang, const std::string& query) {
    if (query.empty()) {
      auto say_call = say(chat_id, tr(lang, Text::kSearchUsage));
      co_await std::move(say_call);
      co_return;
    }
    std::vector<storage::SearchHit> hits;
    std::optional<core::Error> refusal;
    try {
      auto searching = services.history.search(user.id, query, kSearchResults);
      hits = co_await std::move(searching);
    } catch (const core::Error& e) {
      refusal = e;
    }
    if (refusal) {
      auto say_call = say(chat_id, tr(lang, Text::kInvalidInput, refusal->client_message()));
      co_await std::move(say_call);
      co_return;
    }
    if (hits.empty()) {
      auto say_call = say(chat_id, tr(lang, Text::kSearchNothing));
      co_await std::move(say_call);
      co_return;
    }
    // Snippets are escaped HTML with <mark> around matches; Telegram has no <mark>, so use <b>.
    std::string html = "<b>" + escape_html(tr(lang, Text::kSearchResults)) + "</b>";
    for (const auto& hit : hits) {
      std::string snippet = hit.snippet_html;
      for (const auto& [from, to] : {std::pair<std::string, std::string>{"<mark>", "<b>"}, {"</mark>", "</b>"}}) {
        for (auto at = snippet.find(from); at != std::string::npos; at = snippet.find(from, at + to.size())) {
          snippet.replace(at, from.size(), to);
        }
      }
      html += "\n\n" + day_of(hit.created_at) + " — " + snippet;
    }
    auto say_html_call = say_html(chat_id, html);
    co_await std::move(say_html_call);
  }

  // --- callbacks and payments -----------------------------------------------------------

  Task<void> on_callback(const CallbackQuery& query) {
    const auto lang = language_of(query.from.language_code);
    json::object answer;
    answer["callback_query_id"] = query.id;
    try {
      auto answering = api.call("answerCallbackQuery", std::move(answer));
      co_await std::move(answering);
    } catch (const std::exception& e) {
      logger.debug("telegram_callback_answer_failed", {{"error", e.what()}});
    }
    auto finding = user_of(query.from);
    const auto user = co_await std::move(finding);
    if (!user || !query.message) {
      co_return;
    }
    const auto chat_id = query.message->chat.id;
    const auto data = query.data.value_or("");
    std::optional<Text> outcome;
    if (data == "reset:yes") {
      auto forgetting = services.history.forget(user->id);
      const auto deleted = co_await std::move(forgetting);
      logger.info("telegram_user_forgotten", {{"user_id", user->id}, {"messages", deleted.messages}});
      outcome = Text::kResetDone;
    } else if (data == "reset:no") {
      outcome = Text::kResetCancelled;
    } else {
      logger.info("telegram_callback_ignored", {{"data", data}});
      co_return;
    }
    bool edited = false;
    try {
      auto editing = api.edit_text(chat_id, query.message->message_id, escape_html(tr(lang, *outcome)), true);
      co_await std::move(editing);
      edited = true;
    } catch (const std::exception& e) {
      logger.debug("telegram_callback_edit_failed", {{"error", e.what()}});
    }
    if (!edited) {
      auto say_call = say(chat_id, tr(lang, *outcome));
      co_await std::move(say_call);
    }
  }

  Task<void> on_pre_checkout(const PreCheckoutQuery& query) {
    auto finding = services.store.find_user_by_telegram_id(query.from.id);
    const auto payer = co_await std::move(finding);
    const auto lang = language_of(query.from.language_code);
    const auto refusal = check_pre_checkout(
        services.plans, CheckoutFacts{query.invoice_payload, query.currency, query.total_amount, payer});
    json::object params;
    params["pre_checkout_query_id"] = query.id;
    params["ok"] = !refusal.has_value();
    if (refusal) {
      params["error_message"] = tr(lang, *refusal);
      logger.info("telegram_checkout_refused", {{"telegram_id", query.from.id}, {"payload", query.invoice_payload}});
    }
    auto answering = api.call("answerPreCheckoutQuery", std::move(params));
    co_await std::move(answering);
  }

  Task<void> on_successful_payment(const Message& message) {
    const auto& paid = *message.successful_payment;
    const auto lang = language_of(message.from ? message.from->language_code : std::nullopt);
    const auto payload = parse_invoice_payload(paid.invoice_payload);
    const auto* plan = payload ? services.plans.find(payload->plan) : nullptr;
    if (!payload || plan == nullptr) {
      logger.error("telegram_payment_unmatched",
                   {{"charge_id", paid.telegram_payment_charge_id}, {"payload", paid.invoice_payload}});
      co_return;
    }
    storage::NewPayment payment;
    payment.charge_id = paid.telegram_payment_charge_id;
    payment.provider_charge_id = paid.provider_payment_charge_id;
    payment.user_id = payload->user_id;
    payment.currency = paid.currency;
    payment.amount = paid.total_amount;
    payment.plan = plan->id;
    payment.days = plan->days;
    auto applying = services.store.apply_payment(payment);
    const auto outcome = co_await std::move(applying);
    if (!outcome.applied) {
      logger.info("telegram_payment_repeated", {{"charge_id", paid.telegram_payment_charge_id}});
      co_return;
    }
    logger.info("telegram_payment_applied",
                {{"user_id", payload->user_id}, {"plan", plan->id}, {"amount", paid.total_amount}});
    if (outcome.premium_until) {
      auto say_call = say(message.chat.id, tr(lang, Text::kPaymentThanks, day_of(*outcome.premium_until)));
      co_await std::move(say_call);
    }
  }

  Task<void> on_refunded_payment(const Message& message) {
    const auto& refund = *message.refunded_payment;
    auto refunding = services.store.refund_payment(refund.telegram_payment_charge_id);
    const auto outcome = co_await std::move(refunding);
    logger.info("telegram_payment_refunded",
                {{"charge_id", refund.telegram_payment_charge_id}, {"changed", outcome.refunded}});
    if (outcome.refunded) {
      const auto lang = language_of(message.from ? message.from->language_code : std::nullopt);
      auto say_call = say(message.chat.id, tr(lang, Text::kPaymentRefunded));
      co_await std::move(say_call);
    }
  }

  // --- routing --------------------------------------------------------------------------

  Task<void> handle(Update update) {
    const auto routing = route_update(update, username);
    updates.with({route_name(routing.route)}).inc();
    if (routing.route == Route::kIgnored) {
      logger.info("telegram_update_ignored",
                  {{"update_id", update.update_id}, {"kind", update.kind_name}, {"reason", routing.reason}});
      co_return;
    }
    auto marking = services.store.mark_update_processed(update.update_id);
    if (!co_await std::move(marking)) {
      duplicates.inc();
      logger.info("telegram_update_repeated", {{"update_id", update.update_id}});
      co_return;
    }
    switch (routing.route) {
      case Route::kPreCheckout: {
        auto on_pre_checkout_call = on_pre_checkout(*update.pre_checkout_query);
        co_await std::move(on_pre_checkout_call);
        co_return;
      }
      case Route::kCallback: {
        auto on_callback_call = on_callback(*update.callback_query);
        co_await std::move(on_callback_call);
        co_return;
      }
      case Route::kSuccessfulPayment: {
        auto on_successful_payment_call = on_successful_payment(*update.message);
        co_await std::move(on_successful_payment_call);
        co_return;
      }
      case Route::kRefundedPayment: {
        auto on_refunded_payment_call = on_refunded_payment(*update.message);
        co_await std::move(on_refunded_payment_call);
        co_return;
      }
      default: break;
    }
    const auto& message = *update.message;
    auto finding = user_of(*message.from);
    const auto user = co_await std::move(finding);
    if (!user) {
      co_return;
    }
    const auto lang = language_of(message.from->language_code);
    switch (routing.route) {
      case Route::kCommand: {
        auto on_command_call = on_command(update, message, *user, lang);
        co_await std::move(on_command_call);
        break;
      }
      case Route::kText: {
        TurnInput input;
        input.text = *message.text;
        auto converse_call = converse(update, message, *user, lang, std::move(input));
        co_await std::move(converse_call);
        break;
      }
      case Route::kPhoto: {
        auto on_photo_call = on_photo(update, message, *user, lang);
        co_await std::move(on_photo_call);
        break;
      }
      case Route::kVoice: {
        auto on_voice_call = on_voice(update, message, *user, lang);
        co_await std::move(on_voice_call);
        break;
      }
      default: break;
    }
  }
};

Bot::Bot(BotApi& api, BotServices services, BotOptions options, obs::MetricsRegistry& metrics, obs::Logger& logger)
    : impl_(std::make_unique<Impl>(api, services, std::move(options), metrics, logger)) {}

Bot::~Bot() = default;

Task<void> Bot::handle(Update update) {
  auto handling = impl_->handle(std::move(update));
  co_await std::move(handling);
}

Task<void> Bot::set_up() {
  auto asking = impl_->api.get_me();
  const auto me = co_await std::move(asking);
  impl_->username = me.username.value_or("");
  for (const auto lang : {Lang::kEn, Lang::kRu}) {
    json::array commands;
    for (const auto& info : command_menu(lang)) {
      json::object command;
      command["command"] = info.command;
      command["description"] = info.description;
      commands.push_back(std::move(command));
    }
    json::object params;
    params["commands"] = std::move(commands);
    if (lang == Lang::kRu) {
      params["language_code"] = "ru";
    }
    auto registering = impl_->api.call("setMyCommands", std::move(params));
    co_await std::move(registering);
  }
  impl_->logger.info("telegram_bot_ready", {{"username", impl_->username}});
}

Task<std::string> Bot::create_invoice_link(storage::UserId user_id, const services::PremiumPlan& plan, Lang lang,
                                           obs::TraceContext trace) {
  auto params = impl_->invoice_params(user_id, plan, lang);
  // Asked for by an HTTP request: the Bot API call joins that request's trace.
  auto api = impl_->api.with_trace(trace);
  auto calling = api.call("createInvoiceLink", std::move(params));
  const auto result = co_await std::move(calling);
  if (!result.is_string()) {
    throw BotApiError("createInvoiceLink", 502, "result is not a link");
  }
  co_return std::string(result.get_string());
}

}  // namespace evolveai::telegram
