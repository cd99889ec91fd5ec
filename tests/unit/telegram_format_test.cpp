// Telegram HTML, message splitting, invoice payloads and pre-checkout decisions: the pure parts of
// the bot, checked against the fake's Telegram-style HTML parser.
#include <gtest/gtest.h>

#include <string>

#include "fakes/fake_telegram.hpp"
#include "services/premium_plans.hpp"
#include "telegram/bot_api.hpp"
#include "telegram/format.hpp"
#include "telegram/payments.hpp"
#include "telegram/texts.hpp"

namespace evolveai::telegram {
namespace {

std::string without_spaces(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c != ' ' && c != '\n') {
      out += c;
    }
  }
  return out;
}

TEST(TelegramFormat, ModelTextFullOfMarkupCharactersAlwaysParses) {
  const std::string nasty =
      "if a < b && c > d then *x* _y_ <b>not a tag</b> &amp; &nope; & ** unpaired ` tick \"q\" <script>x</script>";
  const auto html = to_telegram_html(nasty);
  const auto check = testing::check_telegram_html(html);
  ASSERT_TRUE(check.ok) << check.error << "\n" << html;
  EXPECT_EQ(check.plain, nasty);
}

TEST(TelegramFormat, LightMarkdownBecomesTags) {
  EXPECT_EQ(to_telegram_html("**bold** and `a<b`"), "<b>bold</b> and <code>a&lt;b</code>");
  EXPECT_EQ(to_telegram_html("```cpp\nint a = b < c;\n```"), "<pre>int a = b &lt; c;\n</pre>");
  EXPECT_TRUE(testing::check_telegram_html(to_telegram_html("**a `b` c** ```x")).ok);
}

TEST(TelegramFormat, TenThousandCharactersSplitAtParagraphsWithinTheLimit) {
  std::string text;
  int paragraph = 0;
  while (text.size() < 10'000) {
    text += "Paragraph " + std::to_string(paragraph++) + ". " + std::string(300, 'x') + " end.\n\n";
  }
  text.resize(10'000);
  const auto pieces = split_message(text);
  ASSERT_EQ(pieces.size(), 3U);
  std::string joined;
  for (const auto& piece : pieces) {
    EXPECT_LE(utf16_length(piece), kMaxMessageUnits);
    EXPECT_TRUE(piece.starts_with("Paragraph")) << piece.substr(0, 40);
    joined += piece;
  }
  EXPECT_EQ(without_spaces(joined), without_spaces(text));
}

TEST(TelegramFormat, SplittingFallsBackToSentencesThenSpacesThenAnywhere) {
  const std::string sentences = std::string(3000, 'a') + ". " + std::string(3000, 'b') + ".";
  const auto by_sentence = split_message(sentences);
  ASSERT_EQ(by_sentence.size(), 2U);
  EXPECT_EQ(by_sentence[0], std::string(3000, 'a') + ".");
  const auto one_word = split_message(std::string(9000, 'z'));
  ASSERT_EQ(one_word.size(), 3U);
  EXPECT_EQ(one_word[0].size(), kMaxMessageUnits);
}

TEST(TelegramFormat, UnitsCountAsTelegramDoesAndCutsNeverSplitACharacter) {
  EXPECT_EQ(utf16_length("h\xC3\xA9"), 2U);         // é
  EXPECT_EQ(utf16_length("\xF0\x9F\x98\x80"), 2U);  // an emoji: a surrogate pair
  std::string emojis;
  for (int i = 0; i < 3000; ++i) {
    emojis += "\xF0\x9F\x98\x80";
  }
  for (const auto& piece : split_message(emojis)) {
    EXPECT_LE(utf16_length(piece), kMaxMessageUnits);
    EXPECT_EQ(piece.size() % 4, 0U);
  }
  EXPECT_EQ(utf16_length(preview(emojis, 10)), 9U);
}

TEST(TelegramFormat, PlainFallbackDropsTagsAndDecodesEntities) {
  EXPECT_EQ(html_to_plain("<b>a &lt; b</b> &amp; c"), "a < b & c");
}

TEST(TelegramBotApi, MultipartBodyCarriesFieldsAndFileBytesVerbatim) {
  const std::string bytes("OggS\0\x01\r\n--x", 11);
  const auto body = multipart_body("BOUNDARY", {{"chat_id", "42"}}, InputFile{"voice", "r.ogg", "audio/ogg", bytes});
  EXPECT_NE(body.find("name=\"chat_id\"\r\n\r\n42\r\n"), std::string::npos);
  EXPECT_NE(body.find("filename=\"r.ogg\"\r\nContent-Type: audio/ogg\r\n\r\n" + bytes + "\r\n--BOUNDARY--"),
            std::string::npos);
}

TEST(TelegramPayments, PayloadsRoundTripAndRejectForeignOnes) {
  const auto payload = invoice_payload(17, "month");
  const auto parsed = parse_invoice_payload(payload);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->user_id, 17);
  EXPECT_EQ(parsed->plan, "month");
  EXPECT_FALSE(parse_invoice_payload("thedata"));
  EXPECT_FALSE(parse_invoice_payload("premium:x:month"));
  EXPECT_FALSE(parse_invoice_payload("premium:17:"));
  EXPECT_FALSE(parse_invoice_payload("premium:-3:month"));
}

TEST(TelegramPayments, PreCheckoutAcceptsOnlyTheExactPlanPriceForTheRightUnbannedUser) {
  const auto plans = services::PremiumPlans::parse({"month:30:250", "year:365:2000"});
  storage::User user;
  user.id = 17;
  const auto payload = invoice_payload(17, "month");
  EXPECT_FALSE(check_pre_checkout(plans, {payload, "XTR", 250, user}));
  EXPECT_EQ(check_pre_checkout(plans, {payload, "XTR", 249, user}), Text::kCheckoutWrongPrice);
  EXPECT_EQ(check_pre_checkout(plans, {payload, "USD", 250, user}), Text::kCheckoutWrongPrice);
  EXPECT_EQ(check_pre_checkout(plans, {invoice_payload(17, "week"), "XTR", 250, user}), Text::kCheckoutUnknownPlan);
  EXPECT_EQ(check_pre_checkout(plans, {"thedata", "XTR", 250, user}), Text::kCheckoutNotAllowed);
  EXPECT_EQ(check_pre_checkout(plans, {invoice_payload(18, "month"), "XTR", 250, user}), Text::kCheckoutNotAllowed);
  EXPECT_EQ(check_pre_checkout(plans, {payload, "XTR", 250, std::nullopt}), Text::kCheckoutNotAllowed);
  user.banned = true;
  EXPECT_EQ(check_pre_checkout(plans, {payload, "XTR", 250, user}), Text::kCheckoutNotAllowed);
}

TEST(PremiumPlans, SpecsParseAndBadOnesAreNamed) {
  const auto plans = services::PremiumPlans::parse({"month:30:250"});
  ASSERT_EQ(plans.all().size(), 1U);
  EXPECT_EQ(*plans.find("month"), (services::PremiumPlan{"month", 30, 250}));
  EXPECT_EQ(plans.find("year"), nullptr);
  EXPECT_THROW(services::PremiumPlans::parse({"month:30"}), std::invalid_argument);
  EXPECT_THROW(services::PremiumPlans::parse({"Month:30:250"}), std::invalid_argument);
  EXPECT_THROW(services::PremiumPlans::parse({"month:0:250"}), std::invalid_argument);
  EXPECT_THROW(services::PremiumPlans::parse({"month:30:-1"}), std::invalid_argument);
  EXPECT_THROW(services::PremiumPlans::parse({"m:1:1", "m:2:2"}), std::invalid_argument);
  EXPECT_FALSE(services::PremiumPlans::spec_problem("month:30:x").empty());
}

TEST(TelegramTexts, EveryTextExistsInEnglishAndRussian) {
  for (int i = 0; i <= static_cast<int>(Text::kVoiceQuotaUsed); ++i) {
    const auto text = static_cast<Text>(i);
    EXPECT_FALSE(text_template(Lang::kEn, text).empty()) << i;
    EXPECT_FALSE(text_template(Lang::kRu, text).empty()) << i;
  }
  EXPECT_EQ(language_of(std::string("ru-RU")), Lang::kRu);
  EXPECT_EQ(language_of(std::string("it")), Lang::kEn);
  EXPECT_EQ(language_of(std::nullopt), Lang::kEn);
  EXPECT_EQ(command_menu(Lang::kRu)[0].command, "start");
}

}  // namespace
}  // namespace evolveai::telegram
