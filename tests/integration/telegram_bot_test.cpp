// The Telegram front door end to end on both storage engines: a real application polls a fake Bot
// API server (long polling, leased), talks to a fake Gemini, and answers through the same services
// as the HTTP API — conversations with memory, photos, voice in and out, every command, Stars
// payments exactly once, refunds, bans, the free limit, flood waits, long and hostile replies.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <sys/wait.h>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "fakes/fake_telegram.hpp"
#include "obs/trace_context.hpp"
#include "services/user_settings.hpp"
#include "storage/store.hpp"
#include "support/chat_test_env.hpp"
#include "telegram/poller.hpp"
#include "tts/audio_encoding.hpp"

namespace evolveai {
namespace {

using testing::ChatAppTest;
using testing::FakeGemini;
using testing::FakeTelegram;
using testing::TelegramCall;
namespace json = boost::json;
using namespace std::chrono_literals;

constexpr std::int64_t kAnn = 5101;
constexpr std::int64_t kBob = 5102;

std::string param(const TelegramCall& call, std::string_view name) {
  const auto* value = call.params.if_contains(name);
  if (value == nullptr) {
    return {};
  }
  return value->is_string() ? std::string(value->get_string()) : json::serialize(*value);
}

std::int64_t chat_of(const TelegramCall& call) {
  const auto* value = call.params.if_contains("chat_id");
  if (value == nullptr) {
    return 0;
  }
  return value->is_int64() ? value->get_int64() : std::stoll(std::string(value->get_string()));
}

/// Texts the chat received as finished messages (HTML sendMessage calls Telegram accepted), as plain text.
std::vector<std::string> texts_to(const std::vector<TelegramCall>& calls, std::int64_t chat) {
  std::vector<std::string> texts;
  for (const auto& call : calls) {
    if (call.method == "sendMessage" && call.status == 200 && chat_of(call) == chat &&
        param(call, "parse_mode") == "HTML") {
      texts.push_back(testing::check_telegram_html(param(call, "text")).plain);
    }
  }
  return texts;
}

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

json::object photo_update(std::int64_t user_id, const std::string& caption) {
  auto update = testing::text_update(user_id, "x");
  auto& message = update["message"].as_object();
  message.erase("text");
  message["photo"] =
      json::array{json::object{{"file_id", "small"}, {"width", 90}, {"height", 90}, {"file_size", 500}},
                  json::object{{"file_id", "large"}, {"width", 800}, {"height", 800}, {"file_size", 900}},
                  json::object{{"file_id", "huge"}, {"width", 4000}, {"height", 4000}, {"file_size", 90'000'000}}};
  message["caption"] = caption;
  return update;
}

json::object voice_update(std::int64_t user_id, const std::string& file_id) {
  auto update = testing::text_update(user_id, "x");
  auto& message = update["message"].as_object();
  message.erase("text");
  message["voice"] = json::object{{"file_id", file_id}, {"duration", 1}, {"mime_type", "audio/ogg"}};
  return update;
}

json::object pre_checkout_update(std::int64_t user_id, const std::string& payload, const std::string& currency,
                                 std::int64_t amount) {
  return json::object{{"pre_checkout_query",
                       json::object{{"id", "pcq-" + std::to_string(amount)},
                                    {"from", json::object{{"id", user_id}, {"is_bot", false}, {"first_name", "Ann"}}},
                                    {"currency", currency},
                                    {"total_amount", amount},
                                    {"invoice_payload", payload}}}};
}

json::object payment_update(std::int64_t user_id, const std::string& payload, const std::string& charge_id) {
  auto update = testing::text_update(user_id, "x");
  auto& message = update["message"].as_object();
  message.erase("text");
  message["successful_payment"] = json::object{{"currency", "XTR"},
                                               {"total_amount", 250},
                                               {"invoice_payload", payload},
                                               {"telegram_payment_charge_id", charge_id},
                                               {"provider_payment_charge_id", ""}};
  return update;
}

json::object callback_update(std::int64_t user_id, std::int64_t message_id, const std::string& data) {
  return json::object{
      {"callback_query",
       json::object{{"id", "cb-" + data},
                    {"from", json::object{{"id", user_id}, {"is_bot", false}, {"first_name", "Ann"}}},
                    {"message", json::object{{"message_id", message_id},
                                             {"chat", json::object{{"id", user_id}, {"type", "private"}}},
                                             {"date", 1700000000},
                                             {"text", "?"}}},
                    {"data", data}}}};
}

class TelegramBot : public ChatAppTest {
 protected:
  void SetUp() override {
    ChatAppTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) {
      return;
    }
    configure(config_);
  }

  void TearDown() override {
    stop();
    app_.reset();
  }

  void configure(app::Config& config) const {
    config.telegram.api_base_url = telegram_.base_url();
    config.telegram.mode = "polling";
    config.telegram.poll_timeout = 1s;
    config.telegram.lease_ttl = 3s;
    config.telegram.stream_edit_interval = 100ms;
    config.telegram.max_flood_wait = 5s;
  }

  /// Waits until the chat has received `count` finished messages; returns them.
  std::vector<std::string> wait_for_texts(std::int64_t chat, std::size_t count,
                                          std::chrono::milliseconds timeout = 15s) {
    telegram_.wait_until([&](const auto& calls) { return texts_to(calls, chat).size() >= count; }, timeout);
    return texts_to(telegram_.calls(), chat);
  }

  /// Sends a text as `user` and waits for the next finished message to that chat.
  std::string exchange(std::int64_t user, const std::string& text, std::string_view language = "en") {
    const auto before = texts_to(telegram_.calls(), user).size();
    telegram_.push_update(testing::text_update(user, text, language));
    const auto texts = wait_for_texts(user, before + 1);
    return texts.size() > before ? texts[before] : std::string("<no reply>");
  }

  storage::User user_of(std::int64_t telegram_id) {
    auto& store = app_->store();
    auto found = app_->run(store.find_user_by_telegram_id(telegram_id));
    EXPECT_TRUE(found.has_value());
    return found.value_or(storage::User{});
  }

  FakeTelegram telegram_{testing::kChatTestBotToken};
};

TEST_P(TelegramBot, ConversationStreamsDraftsThenRemembersEarlierMessages) {
  start();
  ASSERT_TRUE(telegram_.wait_for_calls("setMyCommands", 2));
  gemini_.enqueue(FakeGemini::stream_reply({"Nice to meet you, ", "Ann! ", "Luna is a **lovely** name."}, 150ms));
  EXPECT_EQ(exchange(kAnn, "My cat is called Luna"), "Nice to meet you, Ann! Luna is a lovely name.");
  EXPECT_FALSE(telegram_.calls("sendChatAction").empty());
  EXPECT_FALSE(telegram_.calls("sendMessageDraft").empty());
  const auto finals = telegram_.calls("sendMessage");
  EXPECT_TRUE(contains(param(finals.back(), "text"), "<b>lovely</b>"));

  gemini_.enqueue(FakeGemini::stream_reply({"Your cat is called Luna."}));
  EXPECT_EQ(exchange(kAnn, "What is my cat called?"), "Your cat is called Luna.");
  const auto requests = gemini_.requests();
  ASSERT_GE(requests.size(), 2U);
  EXPECT_TRUE(contains(requests.back().body, "My cat is called Luna"));
  EXPECT_TRUE(contains(requests.back().body, "Luna is a **lovely** name."));
}

TEST_P(TelegramBot, AnUpdateStartsATraceThatTheModelCallAndTheReplyShare) {
  start();
  ASSERT_TRUE(telegram_.wait_for_calls("setMyCommands", 2));
  gemini_.enqueue(FakeGemini::stream_reply({"Traced from Telegram."}));
  EXPECT_EQ(exchange(kAnn, "trace me"), "Traced from Telegram.");
  const auto finals = telegram_.calls("sendMessage");
  ASSERT_FALSE(finals.empty());
  const auto reply_trace = obs::TraceContext::parse(finals.back().traceparent);
  ASSERT_TRUE(reply_trace) << "sendMessage came without a valid traceparent: '" << finals.back().traceparent << "'";
  const auto model_trace = obs::TraceContext::parse(gemini_.requests().back().header("traceparent"));
  ASSERT_TRUE(model_trace);
  EXPECT_EQ(model_trace->trace_id, reply_trace->trace_id);

  // The next update is a trace of its own.
  gemini_.enqueue(FakeGemini::stream_reply({"Another trace."}));
  EXPECT_EQ(exchange(kAnn, "and again"), "Another trace.");
  const auto next = obs::TraceContext::parse(telegram_.calls("sendMessage").back().traceparent);
  ASSERT_TRUE(next);
  EXPECT_NE(next->trace_id, reply_trace->trace_id);
}

TEST_P(TelegramBot, WithoutDraftsThePreviewIsOneMessageEditedIntoTheReply) {
  telegram_.set_drafts_supported(false);
  start();
  gemini_.enqueue(FakeGemini::stream_reply({"one ", "two ", "three ", "four"}, 150ms));
  telegram_.push_update(testing::text_update(kAnn, "count"));
  ASSERT_TRUE(telegram_.wait_until([](const auto& calls) {
    return std::any_of(calls.begin(), calls.end(), [](const TelegramCall& c) {
      return c.method == "editMessageText" && param(c, "parse_mode") == "HTML" && c.status == 200;
    });
  }));
  const auto previews = telegram_.calls("sendMessage");
  ASSERT_EQ(previews.size(), 1U);  // the preview; the final text replaced it by an edit
  EXPECT_EQ(param(previews[0], "parse_mode"), "");
  const auto edits = telegram_.calls("editMessageText");
  EXPECT_EQ(testing::check_telegram_html(param(edits.back(), "text")).plain, "one two three four");
}

TEST_P(TelegramBot, TenThousandCharacterReplyArrivesInPiecesTelegramAccepts) {
  std::string reply;
  for (int i = 0; reply.size() < 10'000; ++i) {
    reply += "Part " + std::to_string(i) + " says a < b & c > d. " + std::string(200, 'w') + "\n\n";
  }
  reply.resize(10'000);
  start();
  gemini_.enqueue(FakeGemini::stream_reply({reply.substr(0, 5000), reply.substr(5000)}));
  telegram_.push_update(testing::text_update(kAnn, "tell me a long story"));
  const auto texts = wait_for_texts(kAnn, 3);
  ASSERT_EQ(texts.size(), 3U);
  std::string joined;
  for (const auto& text : texts) {
    EXPECT_LE(text.size(), 4096U);
    EXPECT_TRUE(text.starts_with("Part ")) << text.substr(0, 30);
    joined += text;
  }
  const auto squeeze = [](std::string_view text) {
    std::string out;
    for (const char c : text) {
      if (c != ' ' && c != '\n') {
        out += c;
      }
    }
    return out;
  };
  EXPECT_EQ(squeeze(joined), squeeze(reply));
  for (const auto& call : telegram_.calls("sendMessage")) {
    EXPECT_EQ(call.status, 200) << call.description;
  }
}

TEST_P(TelegramBot, ModelTextFullOfMarkupCharactersIsDeliveredWithoutParseErrors) {
  const std::string nasty = "Use a<b && c>d, *stars*, _under_scores_, <i>fake</i> tags & &amp; \"quotes\" ** `x";
  start();
  gemini_.enqueue(FakeGemini::stream_reply({nasty}));
  EXPECT_EQ(exchange(kAnn, "markup please"), nasty);
  for (const auto& call : telegram_.calls()) {
    EXPECT_FALSE(contains(call.description, "can't parse entities")) << call.method;
  }
}

TEST_P(TelegramBot, FloodWaitIsHonouredBeforeTheNextRequest) {
  start();
  ASSERT_TRUE(telegram_.wait_for_calls("setMyCommands", 2));
  telegram_.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", 1);
  gemini_.enqueue(FakeGemini::stream_reply({"after the flood"}));
  EXPECT_EQ(exchange(kAnn, "hello"), "after the flood");
  const auto sends = telegram_.calls("sendMessage");
  ASSERT_EQ(sends.size(), 2U);
  EXPECT_EQ(sends[0].status, 429);
  EXPECT_GE(sends[1].at - sends[0].at, 1s);
}

TEST_P(TelegramBot, PhotoWithCaptionGoesToTheModelAsAnImage) {
  telegram_.add_file("large", testing::tiny_png());
  start();
  gemini_.enqueue(FakeGemini::stream_reply({"A tiny picture."}));
  telegram_.push_update(photo_update(kAnn, "What is on it?"));
  EXPECT_EQ(wait_for_texts(kAnn, 1).at(0), "A tiny picture.");
  const auto body = gemini_.requests().back().body;
  EXPECT_TRUE(contains(body, "image/png"));
  EXPECT_TRUE(contains(body, "What is on it?"));
  const auto files = telegram_.calls("getFile");
  ASSERT_EQ(files.size(), 1U);
  EXPECT_EQ(param(files[0], "file_id"), "large");  // the largest size under the limit
}

TEST_P(TelegramBot, VoiceMessageGoesInAsAudioAndTheReplyComesBackAsOggOpus) {
  tts::Pcm pcm;
  pcm.sample_rate = 22050;
  pcm.samples.assign(22050, 0);
  telegram_.add_file("voice-1", tts::encode_ogg_opus(pcm));
  start();
  EXPECT_TRUE(contains(exchange(kAnn, "/voice"), "are on"));
  gemini_.enqueue(FakeGemini::stream_reply({"I heard you."}));
  telegram_.push_update(voice_update(kAnn, "voice-1"));
  ASSERT_TRUE(telegram_.wait_for_calls("sendVoice", 1, 30s));
  const auto body = gemini_.requests().back().body;
  EXPECT_TRUE(contains(body, "audio/ogg"));
  const auto voice = telegram_.calls("sendVoice").at(0);
  EXPECT_EQ(voice.status, 200);
  EXPECT_EQ(voice.file_field, "voice");
  EXPECT_EQ(voice.file_content_type, "audio/ogg");
  EXPECT_EQ(chat_of(voice), kAnn);
  testing::TempDir dir;
  const auto path = dir.path() / "reply.ogg";
  std::ofstream(path, std::ios::binary) << voice.file_bytes;
  FILE* pipe = ::popen(("opusinfo " + path.string() + " 2>&1").c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  std::array<char, 4096> buffer{};
  std::size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) {
    output.append(buffer.data(), n);
  }
  const int status = ::pclose(pipe);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << output;
  EXPECT_FALSE(contains(output, "ERROR")) << output;
}

TEST_P(TelegramBot, EveryCommandAnswersInTheUsersLanguage) {
  config_.telegram.public_url = "https://companion.example";
  start();
  telegram_.push_update(testing::text_update(kAnn, "/start ref42"));
  const auto welcome = wait_for_texts(kAnn, 1).at(0);
  EXPECT_TRUE(contains(welcome, "Hi, Ann")) << welcome;
  EXPECT_TRUE(contains(welcome, "ref42"));
  const auto start_call = telegram_.calls("sendMessage").back();
  EXPECT_TRUE(contains(param(start_call, "reply_markup"), "https://companion.example?startapp=ref42"));

  EXPECT_TRUE(contains(exchange(kAnn, "/help"), "/premium"));
  EXPECT_TRUE(contains(exchange(kAnn, "/profile"), "Messages today: 0 of 50"));
  EXPECT_TRUE(contains(exchange(kAnn, "/memory"), "don't know anything"));
  EXPECT_TRUE(contains(exchange(kAnn, "/voice"), "are on"));
  EXPECT_TRUE(services::parse_stored_settings(user_of(kAnn).settings_json).voice_replies);
  EXPECT_TRUE(contains(exchange(kAnn, "/voice"), "are off"));
  EXPECT_TRUE(contains(exchange(kAnn, "/search"), "/search <text>"));
  EXPECT_TRUE(contains(exchange(kAnn, "/search nothing-like-this"), "Nothing found"));
  EXPECT_TRUE(contains(exchange(kAnn, "/paysupport"), "refund"));
  EXPECT_TRUE(contains(exchange(kAnn, "/nonsense"), "/help"));
  EXPECT_TRUE(contains(exchange(kAnn, "/premium"), "30 days for 250 Stars"));
  ASSERT_TRUE(telegram_.wait_for_calls("sendInvoice", 1));
  EXPECT_TRUE(contains(exchange(kBob, "/help", "ru"), "Просто напиши"));
  EXPECT_TRUE(contains(exchange(kBob, "/profile", "ru"), "Сообщений сегодня"));
  EXPECT_EQ(telegram_.calls("setMyCommands").size(), 2U);
  EXPECT_EQ(param(telegram_.calls("setMyCommands")[1], "language_code"), "ru");
}

TEST_P(TelegramBot, SearchAndMemoryShowWhatWasSaid) {
  start();
  gemini_.enqueue(FakeGemini::stream_reply({"Noted."}));
  exchange(kAnn, "I love pelmeni & <borscht>");
  const auto found = exchange(kAnn, "/search pelmeni");
  EXPECT_TRUE(contains(found, "pelmeni")) << found;
  const auto user = user_of(kAnn);
  app_->run(app_->store().write_memory(
      storage::MemoryWrite{user.id, 0, "Likes soup.", {{"f1", "Eats <pelmeni>", false}}, 0}));
  const auto memory = exchange(kAnn, "/memory");
  EXPECT_TRUE(contains(memory, "Eats <pelmeni>")) << memory;
  EXPECT_TRUE(contains(memory, "Likes soup."));
}

TEST_P(TelegramBot, ResetAsksForConfirmationThenForgets) {
  start();
  gemini_.enqueue(FakeGemini::stream_reply({"Hi!"}));
  exchange(kAnn, "remember me");
  const auto user = user_of(kAnn);
  EXPECT_GT(app_->run(app_->store().count_messages(user.id)), 0);
  exchange(kAnn, "/reset");
  const auto ask = telegram_.calls("sendMessage").back();
  EXPECT_TRUE(contains(param(ask, "reply_markup"), "reset:yes"));
  telegram_.push_update(callback_update(kAnn, 77, "reset:yes"));
  ASSERT_TRUE(telegram_.wait_for_calls("answerCallbackQuery", 1));
  ASSERT_TRUE(telegram_.wait_until([](const auto& calls) {
    return std::any_of(calls.begin(), calls.end(), [](const TelegramCall& c) {
      return c.method == "editMessageText" && contains(param(c, "text"), "forgotten everything");
    });
  }));
  EXPECT_EQ(app_->run(app_->store().count_messages(user.id)), 0);
}

TEST_P(TelegramBot, StarsPaymentIsCheckedAppliedOnceAndRefunded) {
  start();
  exchange(kAnn, "/premium");
  ASSERT_TRUE(telegram_.wait_for_calls("sendInvoice", 1));
  const auto invoice = telegram_.calls("sendInvoice").at(0);
  EXPECT_EQ(param(invoice, "currency"), "XTR");
  EXPECT_EQ(param(invoice, "provider_token"), "");
  const auto payload = param(invoice, "payload");
  const auto user = user_of(kAnn);
  EXPECT_EQ(payload, "premium:" + std::to_string(user.id) + ":month");

  telegram_.push_update(pre_checkout_update(kAnn, payload, "XTR", 249));
  telegram_.push_update(pre_checkout_update(kAnn, payload, "XTR", 250));
  telegram_.push_update(pre_checkout_update(kBob, payload, "XTR", 251));
  ASSERT_TRUE(telegram_.wait_for_calls("answerPreCheckoutQuery", 3));
  for (const auto& answer : telegram_.calls("answerPreCheckoutQuery")) {
    const bool right = param(answer, "pre_checkout_query_id") == "pcq-250";
    EXPECT_EQ(param(answer, "ok"), right ? "true" : "false");
    if (!right) {
      EXPECT_FALSE(param(answer, "error_message").empty());
    }
  }

  const auto charge = std::string(200, 'c');
  telegram_.push_update(payment_update(kAnn, payload, charge));
  telegram_.push_update(payment_update(kAnn, payload, charge));
  const auto thanks = wait_for_texts(kAnn, 2);
  EXPECT_TRUE(contains(thanks.back(), "Premium is active until"));
  ASSERT_TRUE(telegram_.wait_for_updates_confirmed());
  // A third message would only come from a second application of the payment.
  const auto follow = exchange(kAnn, "/profile");
  EXPECT_TRUE(contains(follow, "Premium is active")) << follow;
  const auto payments = app_->run(app_->store().list_payments(user.id, std::nullopt, 10));
  ASSERT_EQ(payments.size(), 1U);
  EXPECT_EQ(payments[0].days, 30);
  const auto until = *user_of(kAnn).premium_until;
  const auto days =
      std::chrono::duration_cast<std::chrono::hours>(until - std::chrono::system_clock::now()).count() / 24;
  EXPECT_EQ(days, 29);  // one extension of 30 days, not two

  // Telegram tells the bot about a refund: the days are taken back, once.
  auto refund = testing::text_update(kAnn, "x");
  refund["message"].as_object().erase("text");
  refund["message"].as_object()["refunded_payment"] = json::object{
      {"currency", "XTR"}, {"total_amount", 250}, {"invoice_payload", payload}, {"telegram_payment_charge_id", charge}};
  telegram_.push_update(refund);
  EXPECT_TRUE(contains(wait_for_texts(kAnn, 4).back(), "refunded"));
  const auto after = app_->run(app_->store().find_payment(charge));
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, storage::PaymentStatus::kRefunded);
  EXPECT_FALSE(user_of(kAnn).premium_at(std::chrono::system_clock::now()));
}

TEST_P(TelegramBot, InvoiceRouteReturnsALinkFromTheBot) {
  start();
  const auto token = sign_in(kAnn);
  const std::string incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  const auto reply = testing::call_api(port(), "POST", "/api/v1/premium/invoice", token, R"({"plan":"month"})",
                                       {{"traceparent", incoming}});
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->status, 200) << reply->body;
  EXPECT_TRUE(testing::json_of(*reply).at("invoice_link").as_string().starts_with("https://t.me/$"));
  const auto link = telegram_.calls("createInvoiceLink").at(0);
  EXPECT_EQ(param(link, "currency"), "XTR");
  EXPECT_EQ(param(link, "payload"), "premium:" + std::to_string(user_of(kAnn).id) + ":month");
  // The Bot API call joins the request's trace.
  EXPECT_TRUE(link.traceparent.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-")) << link.traceparent;
  const auto unknown = testing::call_api(port(), "POST", "/api/v1/premium/invoice", token, R"({"plan":"decade"})");
  EXPECT_EQ(unknown->status, 400);
  const auto plans = testing::call_api(port(), "GET", "/api/v1/premium", token);
  EXPECT_EQ(testing::json_of(*plans).at("plans").as_array().at(0).at("price").at("amount").as_int64(), 250);
}

TEST_P(TelegramBot, BannedUsersAreIgnored) {
  start();
  exchange(kAnn, "/help");
  const auto user = user_of(kAnn);
  app_->run(app_->store().set_user_banned(user.id, true));
  const auto gemini_before = gemini_.request_count();
  const auto id = telegram_.push_update(testing::text_update(kAnn, "hello?"));
  telegram_.push_update(testing::text_update(kBob, "/help"));
  wait_for_texts(kBob, 1);
  ASSERT_TRUE(telegram_.wait_for_updates_confirmed());
  EXPECT_EQ(texts_to(telegram_.calls(), kAnn).size(), 1U);
  EXPECT_EQ(gemini_.request_count(), gemini_before);
  EXPECT_GT(id, 0);
}

TEST_P(TelegramBot, FreeLimitSaysWhenItResetsAndOffersPremium) {
  config_.limits.free_daily_messages = 1;
  start();
  gemini_.enqueue(FakeGemini::stream_reply({"First and last."}));
  EXPECT_EQ(exchange(kAnn, "one"), "First and last.");
  const auto limit = exchange(kAnn, "two");
  EXPECT_TRUE(contains(limit, "come back at 00:00")) << limit;
  ASSERT_TRUE(telegram_.wait_for_calls("sendInvoice", 1));
  EXPECT_EQ(gemini_.request_count(), 1U);
}

TEST_P(TelegramBot, EveryFixtureUpdateIsHandledOrIgnoredAndTheBotKeepsAnswering) {
  const auto dir = std::filesystem::path(EVOLVEAI_FIXTURES_DIR) / "telegram-nutgram" / "Updates";
  start();
  std::int64_t next = 900'000;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(entry.path());
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto update = json::parse(text).as_object();
    update["update_id"] = next++;
    telegram_.push_update(std::move(update));
  }
  gemini_.set_responder([](const testing::RecordedRequest&) { return FakeGemini::stream_reply({"still here"}); });
  ASSERT_TRUE(telegram_.wait_for_updates_confirmed(30s));
  EXPECT_EQ(exchange(kAnn, "are you alive?"), "still here");
}

INSTANTIATE_TEST_SUITE_P(Engines, TelegramBot, ::testing::Values(testing::Engine::kSqlite, testing::Engine::kPostgres),
                         testing::engine_param_name);

}  // namespace
}  // namespace evolveai
