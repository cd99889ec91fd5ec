#include "telegram/update.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

namespace evolveai::telegram {
namespace {

namespace json = boost::json;

/// The field, or null when it is missing or an explicit JSON null.
const json::value* field(const json::object& object, std::string_view name) {
  const auto* value = object.if_contains(name);
  return value == nullptr || value->is_null() ? nullptr : value;
}

const json::object& as_object(const json::value& value, std::string_view what) {
  if (!value.is_object()) {
    throw ParseError(std::string(what) + " is not an object");
  }
  return value.get_object();
}

std::optional<std::string> opt_string(const json::object& object, std::string_view name) {
  const auto* value = field(object, name);
  if (value == nullptr) {
    return std::nullopt;
  }
  if (!value->is_string()) {
    throw ParseError(std::string(name) + " is not a string");
  }
  return std::string(value->get_string());
}

std::string req_string(const json::object& object, std::string_view name) {
  auto value = opt_string(object, name);
  if (!value) {
    throw ParseError(std::string(name) + " is missing");
  }
  return std::move(*value);
}

std::optional<std::int64_t> opt_int(const json::object& object, std::string_view name) {
  const auto* value = field(object, name);
  if (value == nullptr) {
    return std::nullopt;
  }
  if (value->is_int64()) {
    return value->get_int64();
  }
  if (value->is_uint64() && value->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    return static_cast<std::int64_t>(value->get_uint64());
  }
  throw ParseError(std::string(name) + " is not an integer");
}

std::int64_t req_int(const json::object& object, std::string_view name) {
  const auto value = opt_int(object, name);
  if (!value) {
    throw ParseError(std::string(name) + " is missing");
  }
  return *value;
}

bool opt_bool(const json::object& object, std::string_view name) {
  const auto* value = field(object, name);
  return value != nullptr && value->is_bool() && value->get_bool();
}

}  // namespace

User parse_user(const json::value& value) {
  const auto& object = as_object(value, "user");
  User user;
  user.id = req_int(object, "id");
  user.is_bot = opt_bool(object, "is_bot");
  user.first_name = opt_string(object, "first_name").value_or("");
  user.last_name = opt_string(object, "last_name");
  user.username = opt_string(object, "username");
  user.language_code = opt_string(object, "language_code");
  return user;
}

namespace {

Chat parse_chat(const json::value& value) {
  const auto& object = as_object(value, "chat");
  return Chat{req_int(object, "id"), opt_string(object, "type").value_or("")};
}

std::vector<MessageEntity> parse_entities(const json::object& object, std::string_view name) {
  std::vector<MessageEntity> entities;
  const auto* value = field(object, name);
  if (value == nullptr) {
    return entities;
  }
  if (!value->is_array()) {
    throw ParseError(std::string(name) + " is not an array");
  }
  for (const auto& item : value->get_array()) {
    const auto& entity = as_object(item, "entity");
    entities.push_back(
        MessageEntity{opt_string(entity, "type").value_or(""), req_int(entity, "offset"), req_int(entity, "length")});
  }
  return entities;
}

std::vector<PhotoSize> parse_photo(const json::value& value) {
  if (!value.is_array()) {
    throw ParseError("photo is not an array");
  }
  std::vector<PhotoSize> sizes;
  for (const auto& item : value.get_array()) {
    const auto& size = as_object(item, "photo size");
    sizes.push_back(PhotoSize{req_string(size, "file_id"), opt_int(size, "width").value_or(0),
                              opt_int(size, "height").value_or(0), opt_int(size, "file_size")});
  }
  return sizes;
}

Voice parse_voice(const json::value& value) {
  const auto& object = as_object(value, "voice");
  return Voice{req_string(object, "file_id"), opt_int(object, "duration").value_or(0), opt_string(object, "mime_type"),
               opt_int(object, "file_size")};
}

SuccessfulPayment parse_successful_payment(const json::value& value) {
  const auto& object = as_object(value, "successful_payment");
  return SuccessfulPayment{req_string(object, "currency"), req_int(object, "total_amount"),
                           opt_string(object, "invoice_payload").value_or(""),
                           req_string(object, "telegram_payment_charge_id"),
                           opt_string(object, "provider_payment_charge_id")};
}

RefundedPayment parse_refunded_payment(const json::value& value) {
  const auto& object = as_object(value, "refunded_payment");
  return RefundedPayment{req_string(object, "currency"), req_int(object, "total_amount"),
                         opt_string(object, "invoice_payload").value_or(""),
                         req_string(object, "telegram_payment_charge_id")};
}

constexpr std::array kOtherMedia{"audio",     "document", "sticker",  "video", "video_note",
                                 "animation", "contact",  "location", "venue", "poll",
                                 "dice",      "game",     "invoice",  "story", "web_app_data"};

PreCheckoutQuery parse_pre_checkout(const json::value& value) {
  const auto& object = as_object(value, "pre_checkout_query");
  const auto* from = field(object, "from");
  if (from == nullptr) {
    throw ParseError("pre_checkout_query.from is missing");
  }
  return PreCheckoutQuery{req_string(object, "id"), parse_user(*from), req_string(object, "currency"),
                          req_int(object, "total_amount"), opt_string(object, "invoice_payload").value_or("")};
}

CallbackQuery parse_callback(const json::value& value) {
  const auto& object = as_object(value, "callback_query");
  const auto* from = field(object, "from");
  if (from == nullptr) {
    throw ParseError("callback_query.from is missing");
  }
  CallbackQuery query;
  query.id = req_string(object, "id");
  query.from = parse_user(*from);
  if (const auto* message = field(object, "message")) {
    query.message = parse_message(*message);
  }
  query.data = opt_string(object, "data");
  return query;
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim(std::string_view text) {
  const auto space = [](char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; };
  while (!text.empty() && space(text.front())) {
    text.remove_prefix(1);
  }
  while (!text.empty() && space(text.back())) {
    text.remove_suffix(1);
  }
  return text;
}

}  // namespace

Message parse_message(const json::value& json) {
  const auto& object = as_object(json, "message");
  Message message;
  message.message_id = req_int(object, "message_id");
  if (const auto* from = field(object, "from")) {
    message.from = parse_user(*from);
  }
  const auto* chat = field(object, "chat");
  if (chat == nullptr) {
    throw ParseError("message.chat is missing");
  }
  message.chat = parse_chat(*chat);
  message.date = opt_int(object, "date").value_or(0);
  message.text = opt_string(object, "text");
  message.caption = opt_string(object, "caption");
  message.entities = parse_entities(object, message.text ? "entities" : "caption_entities");
  if (const auto* photo = field(object, "photo")) {
    message.photo = parse_photo(*photo);
  }
  if (const auto* voice = field(object, "voice")) {
    message.voice = parse_voice(*voice);
  }
  if (const auto* payment = field(object, "successful_payment")) {
    message.successful_payment = parse_successful_payment(*payment);
  }
  if (const auto* refund = field(object, "refunded_payment")) {
    message.refunded_payment = parse_refunded_payment(*refund);
  }
  message.other_media = std::any_of(kOtherMedia.begin(), kOtherMedia.end(),
                                    [&object](const char* name) { return field(object, name) != nullptr; });
  return message;
}

Update parse_update(const json::value& json) {
  const auto& object = as_object(json, "update");
  Update update;
  update.update_id = req_int(object, "update_id");
  for (const auto& [key, value] : object) {
    if (key == "update_id" || value.is_null()) {
      continue;
    }
    update.kind_name = std::string(key);
    if (key == "message" || key == "edited_message" || key == "channel_post" || key == "edited_channel_post") {
      update.kind = key == "message"          ? UpdateKind::kMessage
                    : key == "edited_message" ? UpdateKind::kEditedMessage
                                              : UpdateKind::kChannelPost;
      update.message = parse_message(value);
    } else if (key == "callback_query") {
      update.kind = UpdateKind::kCallbackQuery;
      update.callback_query = parse_callback(value);
    } else if (key == "pre_checkout_query") {
      update.kind = UpdateKind::kPreCheckoutQuery;
      update.pre_checkout_query = parse_pre_checkout(value);
    } else {
      update.kind = UpdateKind::kOther;
    }
    break;  // an update carries exactly one of its optional fields
  }
  return update;
}

Update parse_update_text(std::string_view json_text) {
  boost::system::error_code error;
  const auto value = json::parse(json_text, error);
  if (error) {
    throw ParseError("update is not JSON: " + error.message());
  }
  return parse_update(value);
}

std::optional<ApiFailure> parse_api_failure(std::string_view body) {
  boost::system::error_code error;
  const auto value = json::parse(body, error);
  if (error || !value.is_object()) {
    return std::nullopt;
  }
  const auto& object = value.get_object();
  const auto* ok = object.if_contains("ok");
  if (ok == nullptr || !ok->is_bool() || ok->get_bool()) {
    return std::nullopt;
  }
  ApiFailure failure;
  try {
    failure.error_code = static_cast<int>(opt_int(object, "error_code").value_or(0));
    failure.description = opt_string(object, "description").value_or("");
    if (const auto* parameters = field(object, "parameters"); parameters != nullptr && parameters->is_object()) {
      if (const auto retry = opt_int(parameters->get_object(), "retry_after")) {
        failure.retry_after = std::chrono::seconds(std::max<std::int64_t>(0, *retry));
      }
    }
  } catch (const ParseError&) {
    return failure;  // odd types inside an error reply: keep what was read
  }
  return failure;
}

std::optional<Command> parse_command(std::string_view text, std::string_view bot_username) {
  if (text.empty() || text.front() != '/') {
    return std::nullopt;
  }
  const auto end = text.find_first_of(" \n\t");
  std::string_view head = text.substr(1, end == std::string_view::npos ? std::string_view::npos : end - 1);
  std::string_view addressee;
  if (const auto at = head.find('@'); at != std::string_view::npos) {
    addressee = head.substr(at + 1);
    head = head.substr(0, at);
  }
  if (head.empty() || head.size() > 32 || !std::all_of(head.begin(), head.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
      })) {
    return std::nullopt;
  }
  if (!addressee.empty() && !bot_username.empty() && lower(addressee) != lower(bot_username)) {
    return std::nullopt;
  }
  Command command;
  command.name = lower(head);
  if (end != std::string_view::npos) {
    command.args = std::string(trim(text.substr(end)));
  }
  return command;
}

Routing route_update(const Update& update, std::string_view bot_username) {
  switch (update.kind) {
    case UpdateKind::kPreCheckoutQuery: return {Route::kPreCheckout, {}};
    case UpdateKind::kCallbackQuery: return {Route::kCallback, {}};
    case UpdateKind::kEditedMessage: return {Route::kIgnored, "edited messages are not answered again"};
    case UpdateKind::kChannelPost: return {Route::kIgnored, "channel posts are not answered"};
    case UpdateKind::kOther: return {Route::kIgnored, "update kind '" + update.kind_name + "' is not handled"};
    case UpdateKind::kMessage: break;
  }
  const auto& message = *update.message;
  if (message.successful_payment) {
    return {Route::kSuccessfulPayment, {}};
  }
  if (message.refunded_payment) {
    return {Route::kRefundedPayment, {}};
  }
  if (message.chat.type != "private") {
    return {Route::kIgnored, "only private chats are answered"};
  }
  if (!message.from || message.from->is_bot) {
    return {Route::kIgnored, "messages from bots are not answered"};
  }
  if (message.text) {
    if (parse_command(*message.text, bot_username)) {
      return {Route::kCommand, {}};
    }
    if (!message.text->empty() && message.text->front() == '/') {
      return {Route::kIgnored, "a command for another bot"};
    }
    return {Route::kText, {}};
  }
  if (!message.photo.empty()) {
    return {Route::kPhoto, {}};
  }
  if (message.voice) {
    return {Route::kVoice, {}};
  }
  return {Route::kIgnored, message.other_media ? "media the bot does not read" : "a message without text"};
}

std::optional<std::int64_t> ordering_key(const Update& update) {
  if (update.message) {
    return update.message->chat.id;
  }
  if (update.callback_query) {
    return update.callback_query->message ? update.callback_query->message->chat.id : update.callback_query->from.id;
  }
  return std::nullopt;
}

std::string_view route_name(Route route) noexcept {
  switch (route) {
    case Route::kCommand: return "command";
    case Route::kText: return "text";
    case Route::kPhoto: return "photo";
    case Route::kVoice: return "voice";
    case Route::kSuccessfulPayment: return "successful_payment";
    case Route::kRefundedPayment: return "refunded_payment";
    case Route::kCallback: return "callback";
    case Route::kPreCheckout: return "pre_checkout";
    case Route::kIgnored: return "ignored";
  }
  return "ignored";
}

}  // namespace evolveai::telegram
