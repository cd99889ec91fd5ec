#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/fwd.hpp>

namespace evolveai::telegram {

/// A Telegram user or bot.
struct User {
  std::int64_t id = 0;
  bool is_bot = false;
  std::string first_name;
  std::optional<std::string> last_name;
  std::optional<std::string> username;
  std::optional<std::string> language_code;
};

/// A chat: private, group, supergroup or channel.
struct Chat {
  std::int64_t id = 0;
  std::string type;
};

/// One size of a photo.
struct PhotoSize {
  std::string file_id;
  std::int64_t width = 0;
  std::int64_t height = 0;
  std::optional<std::int64_t> file_size;
};

/// A voice note (OGG/Opus).
struct Voice {
  std::string file_id;
  std::int64_t duration = 0;
  std::optional<std::string> mime_type;
  std::optional<std::int64_t> file_size;
};

/// A special part of a message text; offsets count UTF-16 code units.
struct MessageEntity {
  std::string type;
  std::int64_t offset = 0;
  std::int64_t length = 0;
};

/// A payment Telegram confirmed (`message.successful_payment`).
struct SuccessfulPayment {
  std::string currency;
  std::int64_t total_amount = 0;
  std::string invoice_payload;
  std::string telegram_payment_charge_id;
  std::optional<std::string> provider_payment_charge_id;
};

/// A payment Telegram refunded (`message.refunded_payment`).
struct RefundedPayment {
  std::string currency;
  std::int64_t total_amount = 0;
  std::string invoice_payload;
  std::string telegram_payment_charge_id;
};

/// A message; only the fields the bot uses are read, everything else is ignored.
struct Message {
  std::int64_t message_id = 0;
  std::optional<User> from;
  Chat chat;
  std::int64_t date = 0;
  std::optional<std::string> text;
  std::optional<std::string> caption;
  std::vector<MessageEntity> entities;
  std::vector<PhotoSize> photo;
  std::optional<Voice> voice;
  std::optional<SuccessfulPayment> successful_payment;
  std::optional<RefundedPayment> refunded_payment;
  bool other_media = false;  ///< audio, document, sticker, video…: something the bot does not read
};

/// A press on an inline keyboard button.
struct CallbackQuery {
  std::string id;
  User from;
  std::optional<Message> message;
  std::optional<std::string> data;
};

/// The last check before a payment; must be answered within 10 seconds.
struct PreCheckoutQuery {
  std::string id;
  User from;
  std::string currency;
  std::int64_t total_amount = 0;
  std::string invoice_payload;
};

/// Which field of an update is set.
enum class UpdateKind {
  kMessage,
  kEditedMessage,
  kChannelPost,
  kCallbackQuery,
  kPreCheckoutQuery,
  kOther,  ///< a kind the bot does not handle (my_chat_member, poll, …)
};

/// One incoming update.
struct Update {
  std::int64_t update_id = 0;
  UpdateKind kind = UpdateKind::kOther;
  std::string kind_name;           ///< the update's field name ("message", "my_chat_member", …)
  std::optional<Message> message;  ///< message, edited_message or channel_post
  std::optional<CallbackQuery> callback_query;
  std::optional<PreCheckoutQuery> pre_checkout_query;
};

/// An update or API reply that is not shaped as the Bot API documents.
class ParseError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Reads an update; unknown fields and kinds are accepted, explicit nulls read as absent.
/// Throws ParseError when `update_id` is missing or a known field has the wrong type.
[[nodiscard]] Update parse_update(const boost::json::value& json);
/// The same from JSON text (ParseError for text that is not JSON).
[[nodiscard]] Update parse_update_text(std::string_view json_text);
/// A user object (as in `result` of getMe).
[[nodiscard]] User parse_user(const boost::json::value& json);
/// A message object (as in `result` of sendMessage).
[[nodiscard]] Message parse_message(const boost::json::value& json);

/// The failure part of a Bot API reply (`"ok": false`).
struct ApiFailure {
  int error_code = 0;
  std::string description;
  std::optional<std::chrono::seconds> retry_after;  ///< parameters.retry_after (429)
};

/// Reads an error reply; nullopt when the body is not one (not JSON, or `ok` is true).
[[nodiscard]] std::optional<ApiFailure> parse_api_failure(std::string_view body);

/// A bot command at the very start of a message: "/name@bot args".
struct Command {
  std::string name;  ///< lower-cased, without '/' and without the bot's name
  std::string args;  ///< the rest, trimmed
};

/// The command a text starts with. A command addressed to another bot ("/help@other_bot")
/// is not one; with `bot_username` empty any addressee is accepted.
[[nodiscard]] std::optional<Command> parse_command(std::string_view text, std::string_view bot_username);

/// What the bot does with an update.
enum class Route {
  kCommand,
  kText,
  kPhoto,
  kVoice,
  kSuccessfulPayment,
  kRefundedPayment,
  kCallback,
  kPreCheckout,
  kIgnored,
};

/// A route and, for ignored updates, why (for the log line).
struct Routing {
  Route route = Route::kIgnored;
  std::string reason;
};

/// Chooses the handler of an update; pure. Only private chats are talked to; edits, channel
/// posts, other media and unknown kinds are ignored with a reason.
[[nodiscard]] Routing route_update(const Update& update, std::string_view bot_username);

/// The chat an update belongs to, for ordering; nullopt for updates that need no order
/// (pre-checkout queries are answered at once, never queued behind a chat turn).
[[nodiscard]] std::optional<std::int64_t> ordering_key(const Update& update);

/// A route's name for logs and metrics ("text", "command", …).
[[nodiscard]] std::string_view route_name(Route route) noexcept;

}  // namespace evolveai::telegram
