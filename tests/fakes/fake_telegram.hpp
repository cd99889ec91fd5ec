#pragma once

#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace evolveai::testing {

/// A Bot API call as the fake received it.
struct TelegramCall {
  std::string method;
  boost::json::object params;  ///< JSON parameters, or the text fields of a multipart call
  std::string file_field;      ///< multipart: the file's field name ("voice")
  std::string file_name;
  std::string file_content_type;
  std::string file_bytes;
  std::chrono::steady_clock::time_point at;  ///< when the request arrived
  int status = 200;                          ///< what the fake answered
  std::string description;                   ///< the error description when status != 200
  std::string traceparent;                   ///< the request's `traceparent` header, "" when none
};

/// A fake Telegram Bot API on 127.0.0.1 (port 0, own thread) speaking the real wire format:
/// getMe, getUpdates (scripted updates, offsets confirm, long polling), sendMessage,
/// sendMessageDraft, editMessageText, sendChatAction, sendVoice (multipart parsed and kept),
/// sendInvoice, createInvoiceLink, answerPreCheckoutQuery, answerCallbackQuery, refundStarPayment,
/// getFile + file download, setWebhook, deleteWebhook, setMyCommands. Text sent with parse_mode
/// HTML is checked as Telegram does (known tags, nesting, entities) and refused with 400 "can't
/// parse entities"; text over 4096 characters with 400 "message is too long". Failures such as a
/// 429 with retry_after can be injected per method. Every call is recorded. Thread-safe.
class FakeTelegram {
 public:
  /// The default token, and the username the fake answers for.
  static constexpr std::string_view kToken = "4242:FAKE-telegram-token";
  static constexpr std::string_view kUsername = "evolve_test_bot";

  /// A fake answering for `token` (calls with any other token get 401).
  explicit FakeTelegram(std::string token = std::string(kToken));
  ~FakeTelegram();
  FakeTelegram(const FakeTelegram&) = delete;
  FakeTelegram& operator=(const FakeTelegram&) = delete;

  /// "http://127.0.0.1:PORT": the `telegram.api_base_url` to configure.
  [[nodiscard]] std::string base_url() const;

  /// Queues an update for getUpdates; an update without `update_id` gets the next one. Returns its id.
  std::int64_t push_update(boost::json::object update);
  /// Updates queued and not yet confirmed by a getUpdates offset.
  [[nodiscard]] std::size_t pending_updates() const;
  /// Waits until a getUpdates offset has confirmed every queued update; false on timeout.
  bool wait_for_updates_confirmed(std::chrono::milliseconds timeout = std::chrono::seconds(15)) const;
  /// A file getFile and the download path serve.
  void add_file(std::string file_id, std::string bytes);
  /// The next `times` calls of `method` get this error reply instead (status and Bot API body).
  void fail_next(const std::string& method, int status, const std::string& description,
                 std::optional<int> retry_after = std::nullopt, int times = 1);
  /// Whether sendMessageDraft exists (else it answers 404 as an older Bot API would).
  void set_drafts_supported(bool supported);
  /// Charges refundStarPayment treats as already refunded after the first refund.
  [[nodiscard]] std::vector<std::string> refunded_charges() const;

  /// Every call so far, or only those of `method`.
  [[nodiscard]] std::vector<TelegramCall> calls(std::string_view method = {}) const;
  /// Waits until at least `count` calls of `method` (all methods when empty) arrived; false on timeout.
  bool wait_for_calls(std::string_view method, std::size_t count,
                      std::chrono::milliseconds timeout = std::chrono::seconds(15)) const;
  /// Waits until `predicate` holds for the calls so far; false on timeout. The predicate runs under
  /// the fake's (recursive) lock, so it may call the fake's other members.
  bool wait_until(const std::function<bool(const std::vector<TelegramCall>&)>& predicate,
                  std::chrono::milliseconds timeout = std::chrono::seconds(15)) const;
  /// Finished (formatted, so not a streamed preview) replies among `calls` that reached `chat`.
  static std::size_t finished_messages_to(const std::vector<TelegramCall>& calls, std::int64_t chat);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// The outcome of checking text as Telegram parses parse_mode HTML.
struct HtmlCheck {
  bool ok = false;
  std::string plain;  ///< the text without markup (when ok)
  std::string error;  ///< why it does not parse
};

/// Parses Telegram-flavoured HTML (b, strong, i, em, u, ins, s, strike, del, code, pre, a,
/// tg-spoiler, span, blockquote; &lt; &gt; &amp; &quot; and numeric entities).
[[nodiscard]] HtmlCheck check_telegram_html(std::string_view html);

/// A Bot API update of a private text message from `user_id` (chat id = user id).
[[nodiscard]] boost::json::object text_update(std::int64_t user_id, std::string_view text,
                                              std::string_view language_code = "en",
                                              std::string_view first_name = "Ann");

}  // namespace evolveai::testing
