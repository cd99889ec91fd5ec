// Bot API updates and error replies as Telegram (and the nutgram fixtures) shape them: every
// fixture parses, every update is routed to a handler or deliberately ignored.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "telegram/update.hpp"

namespace evolveai::telegram {
namespace {

namespace fs = std::filesystem;

fs::path fixtures() {
  return fs::path(EVOLVEAI_FIXTURES_DIR) / "telegram-nutgram";
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

Update fixture(const std::string& name) {
  return parse_update_text(read_file(fixtures() / "Updates" / name));
}

TEST(TelegramUpdates, EveryFixtureUpdateParsesAndIsRoutedOrIgnoredWithAReason) {
  std::size_t seen = 0;
  for (const auto& entry : fs::directory_iterator(fixtures() / "Updates")) {
    SCOPED_TRACE(entry.path().filename().string());
    Update update;
    ASSERT_NO_THROW(update = parse_update_text(read_file(entry.path())));
    const auto routing = route_update(update, "foo_bot");
    if (routing.route == Route::kIgnored) {
      EXPECT_FALSE(routing.reason.empty());
    }
    ++seen;
  }
  EXPECT_EQ(seen, 24U);
}

TEST(TelegramUpdates, FixturesGoToTheHandlersTheirContentAsksFor) {
  const std::map<std::string, Route> expected{
      {"message.json", Route::kText},
      {"text.json", Route::kText},
      {"photo.json", Route::kPhoto},
      {"voice.json", Route::kVoice},
      {"command.json", Route::kCommand},
      {"command_tag_valid.json", Route::kCommand},
      {"command_tag_wrong.json", Route::kIgnored},
      {"command_message.json", Route::kCommand},
      {"command_with_parameters.json", Route::kCommand},
      {"not_command.json", Route::kText},
      {"pre_checkout_query.json", Route::kPreCheckout},
      {"successful_payment.json", Route::kSuccessfulPayment},
      {"refunded_payment.json", Route::kRefundedPayment},
      {"callback_query.json", Route::kCallback},
      {"edited_message.json", Route::kIgnored},
      {"my_chat_member.json", Route::kIgnored},
      {"channel_post.json", Route::kIgnored},
      {"sticker.json", Route::kIgnored},
      {"document.json", Route::kIgnored},
      {"audio.json", Route::kIgnored},
      {"video_note.json", Route::kIgnored},
      {"invoice.json", Route::kIgnored},
      {"web_app_data.json", Route::kIgnored},
  };
  for (const auto& [name, route] : expected) {
    SCOPED_TRACE(name);
    EXPECT_EQ(route_name(route_update(fixture(name), "foo_bot").route), route_name(route));
  }
}

TEST(TelegramUpdates, PhotoKeepsEverySizeAndTheCaption) {
  const auto update = fixture("photo.json");
  ASSERT_TRUE(update.message);
  EXPECT_EQ(update.update_id, 144011148);
  ASSERT_EQ(update.message->photo.size(), 3U);
  EXPECT_EQ(update.message->photo[1].file_id, "SAAS");
  EXPECT_EQ(update.message->photo[1].width, 720);
  EXPECT_EQ(update.message->caption.value_or(""), "asdasdasdasdasdasd");
}

TEST(TelegramUpdates, PaymentsReadChargeIdsAndExplicitNullsAsAbsent) {
  const auto paid = fixture("successful_payment.json");
  ASSERT_TRUE(paid.message && paid.message->successful_payment);
  EXPECT_EQ(paid.message->successful_payment->telegram_payment_charge_id, "thepaymentid");
  EXPECT_EQ(paid.message->successful_payment->total_amount, 100);
  const auto query = fixture("pre_checkout_query.json");
  ASSERT_TRUE(query.pre_checkout_query);
  EXPECT_EQ(query.pre_checkout_query->id, "999728699048485871");
  EXPECT_EQ(query.pre_checkout_query->invoice_payload, "thedata");
  EXPECT_EQ(query.pre_checkout_query->from.id, 222222222);
}

TEST(TelegramUpdates, VoiceAndCallbackFieldsAreRead) {
  const auto voice = fixture("voice.json");
  ASSERT_TRUE(voice.message && voice.message->voice);
  EXPECT_FALSE(voice.message->voice->file_id.empty());
  const auto callback = fixture("callback_query.json");
  ASSERT_TRUE(callback.callback_query);
  EXPECT_EQ(callback.callback_query->data.value_or(""), "thedata");
  EXPECT_TRUE(callback.callback_query->message.has_value());
}

TEST(TelegramUpdates, EveryFixtureErrorBodyParsesWithItsCode) {
  const std::map<std::string, int> expected{{"too_many_requests.json", 429},
                                            {"too_long.json", 400},
                                            {"wrong_file_id.json", 400},
                                            {"user_deactivated.json", 403}};
  for (const auto& [name, code] : expected) {
    SCOPED_TRACE(name);
    const auto failure = parse_api_failure(read_file(fixtures() / "Responses" / name));
    ASSERT_TRUE(failure);
    EXPECT_EQ(failure->error_code, code);
    EXPECT_FALSE(failure->description.empty());
  }
  const auto flood = parse_api_failure(read_file(fixtures() / "Responses" / "too_many_requests.json"));
  EXPECT_EQ(flood->retry_after, std::chrono::seconds(14));
}

TEST(TelegramUpdates, MalformedUpdatesThrowParseErrorNotSomethingElse) {
  EXPECT_THROW((void)parse_update_text("not json"), ParseError);
  EXPECT_THROW((void)parse_update_text(R"({"message": {}})"), ParseError);
  EXPECT_THROW((void)parse_update_text(R"({"update_id": "x"})"), ParseError);
  EXPECT_THROW((void)parse_update_text(R"({"update_id": 1, "message": {"message_id": 1}})"), ParseError);
  EXPECT_THROW((void)parse_update_text(R"({"update_id": 1, "message": 5})"), ParseError);
  const auto unknown = parse_update_text(R"({"update_id": 7, "business_message": {"x": 1}, "extra": true})");
  EXPECT_EQ(unknown.kind, UpdateKind::kOther);
  EXPECT_EQ(route_update(unknown, "").route, Route::kIgnored);
}

TEST(TelegramUpdates, CommandsAreReadOnlyAtTheStartAndForThisBot) {
  EXPECT_EQ(parse_command("/start abc", "")->name, "start");
  EXPECT_EQ(parse_command("/start abc", "")->args, "abc");
  EXPECT_EQ(parse_command("/Search  hello world ", "")->args, "hello world");
  EXPECT_EQ(parse_command("/help@Foo_Bot", "foo_bot")->name, "help");
  EXPECT_FALSE(parse_command("/help@other_bot", "foo_bot"));
  EXPECT_FALSE(parse_command("aa /test", "foo_bot"));
  EXPECT_FALSE(parse_command("/", ""));
  EXPECT_FALSE(parse_command("/ü", ""));
}

TEST(TelegramUpdates, OrderingKeysAreChatsAndPreCheckoutHasNone) {
  EXPECT_EQ(ordering_key(fixture("message.json")), fixture("message.json").message->chat.id);
  EXPECT_FALSE(ordering_key(fixture("pre_checkout_query.json")));
  EXPECT_TRUE(ordering_key(fixture("callback_query.json")));
}

}  // namespace
}  // namespace evolveai::telegram
