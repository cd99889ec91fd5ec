// How updates reach the bot when there is more than one way or more than one node: webhook mode
// (secret checked, repeats handled once), two polling nodes sharing one database (every update
// handled exactly once, the other node takes over), a dead poller's lease expiring, and the Bot API
// client's flood wait and retry behaviour against the fake server.
#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <future>
#include <mutex>
#include <set>

#include "core/errors.hpp"
#include "fakes/fake_telegram.hpp"
#include "net/http_client.hpp"
#include "obs/logger.hpp"
#include "obs/metrics.hpp"
#include "obs/trace_context.hpp"
#include "storage/store.hpp"
#include "support/chat_test_env.hpp"
#include "support/http_test_client.hpp"
#include "telegram/bot_api.hpp"
#include "telegram/bot_star_refunds.hpp"
#include "telegram/dispatcher.hpp"
#include "telegram/poller.hpp"

namespace evolveai {
namespace {

using testing::ChatAppTest;
using testing::FakeGemini;
using testing::FakeTelegram;
using testing::TelegramCall;
namespace json = boost::json;
using namespace std::chrono_literals;

/// A client that keeps no idle connections: each test's calls run on an io_context of their own.
net::HttpClientOptions unpooled() {
  net::HttpClientOptions options;
  options.max_idle_per_host = 0;
  return options;
}

class TelegramCluster : public ChatAppTest {
 protected:
  void SetUp() override {
    ChatAppTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) {
      return;
    }
    config_.telegram.api_base_url = telegram_.base_url();
    config_.telegram.mode = "polling";
    config_.telegram.poll_timeout = 1s;
    config_.telegram.lease_ttl = 3s;
    gemini_.set_responder([](const testing::RecordedRequest&) { return FakeGemini::stream_reply({"ok"}); });
  }

  void TearDown() override {
    stop();
    app_.reset();
    if (second_) {
      second_->stop();
      second_.reset();
    }
  }

  FakeTelegram telegram_{testing::kChatTestBotToken};
  std::unique_ptr<testing::TestApp> second_;
};

TEST_P(TelegramCluster, WebhookChecksTheSecretAndHandlesARepeatedUpdateOnce) {
  config_.telegram.mode = "webhook";
  config_.telegram.webhook_secret = "hook-secret-1";
  config_.telegram.public_url = "https://bot.example/";
  start();
  ASSERT_TRUE(telegram_.wait_for_calls("setWebhook", 1));
  const auto set = telegram_.calls("setWebhook").at(0);
  EXPECT_EQ(set.params.at("url").as_string(), "https://bot.example/telegram/webhook");
  EXPECT_EQ(set.params.at("secret_token").as_string(), "hook-secret-1");
  EXPECT_TRUE(json::serialize(set.params.at("allowed_updates")).find("pre_checkout_query") != std::string::npos);
  EXPECT_TRUE(telegram_.calls("getUpdates").empty());

  auto update = testing::text_update(6001, "hello over the webhook");
  update["update_id"] = 777001;
  const auto body = json::serialize(update);
  const auto wrong =
      testing::http_request(port(), "POST", "/telegram/webhook", body,
                            {{"Content-Type", "application/json"}, {"X-Telegram-Bot-Api-Secret-Token", "guess"}});
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  const auto missing = testing::http_request(port(), "POST", "/telegram/webhook", body);
  EXPECT_EQ(missing->status, 401);

  const std::map<std::string, std::string> headers{{"Content-Type", "application/json"},
                                                   {"X-Telegram-Bot-Api-Secret-Token", "hook-secret-1"}};
  EXPECT_EQ(testing::http_request(port(), "POST", "/telegram/webhook", body, headers)->status, 200);
  EXPECT_EQ(testing::http_request(port(), "POST", "/telegram/webhook", body, headers)->status, 200);
  EXPECT_EQ(testing::http_request(port(), "POST", "/telegram/webhook", "not json", headers)->status, 200);
  ASSERT_TRUE(
      telegram_.wait_until([](const auto& calls) { return FakeTelegram::finished_messages_to(calls, 6001) >= 1; }));
  // A later update is answered after the repeat, so the repeat had its chance to be (wrongly) answered.
  auto later = testing::text_update(6001, "and again");
  later["update_id"] = 777002;
  EXPECT_EQ(testing::http_request(port(), "POST", "/telegram/webhook", json::serialize(later), headers)->status, 200);
  ASSERT_TRUE(
      telegram_.wait_until([](const auto& calls) { return FakeTelegram::finished_messages_to(calls, 6001) >= 2; }));
  stop();
  EXPECT_EQ(FakeTelegram::finished_messages_to(telegram_.calls(), 6001), 2U);
  EXPECT_EQ(gemini_.request_count(), 2U);
}

TEST_P(TelegramCluster, TwoPollingNodesHandleEveryUpdateExactlyOnceAndTheOtherTakesOver) {
  start();
  ASSERT_TRUE(telegram_.wait_for_calls("getUpdates", 1));  // the first node holds the lease
  auto other = config_;
  other.server.port = 0;
  second_ = std::make_unique<testing::TestApp>(other);

  constexpr int kChats = 4;
  constexpr int kPerChat = 5;
  for (int round = 0; round < kPerChat; ++round) {
    for (int chat = 0; chat < kChats; ++chat) {
      telegram_.push_update(testing::text_update(7000 + chat, "message " + std::to_string(round)));
    }
  }
  const auto all_answered = [](std::size_t per_chat) {
    return [per_chat](const std::vector<TelegramCall>& calls) {
      for (int chat = 0; chat < kChats; ++chat) {
        if (FakeTelegram::finished_messages_to(calls, 7000 + chat) < per_chat) {
          return false;
        }
      }
      return true;
    };
  };
  ASSERT_TRUE(telegram_.wait_until(all_answered(kPerChat), 60s));

  // The polling node goes away; the other one polls from the stored offset.
  stop();
  for (int chat = 0; chat < kChats; ++chat) {
    telegram_.push_update(testing::text_update(7000 + chat, "after the takeover"));
  }
  ASSERT_TRUE(telegram_.wait_until(all_answered(kPerChat + 1), 30s));
  second_->stop();
  for (int chat = 0; chat < kChats; ++chat) {
    EXPECT_EQ(FakeTelegram::finished_messages_to(telegram_.calls(), 7000 + chat),
              static_cast<std::size_t>(kPerChat + 1));
  }
  EXPECT_EQ(gemini_.request_count(), static_cast<std::size_t>(kChats * (kPerChat + 1)));
}

INSTANTIATE_TEST_SUITE_P(Engines, TelegramCluster,
                         ::testing::Values(testing::Engine::kSqlite, testing::Engine::kPostgres),
                         testing::engine_param_name);

/// A Bot API client and a dispatcher over a store, driven by this test's own I/O threads.
class TelegramPollerLease : public ::testing::TestWithParam<testing::Engine> {
 protected:
  void SetUp() override {
    if (GetParam() == testing::Engine::kPostgres) {
      if (auto reason = testing::postgres_unavailable_reason()) {
        if (testing::postgres_required()) {
          FAIL() << *reason;
        }
        GTEST_SKIP() << *reason;
      }
    }
    harness_ = std::make_unique<testing::StoreHarness>(GetParam());
    telegram::BotApiOptions options;
    options.base_url = telegram_.base_url();
    options.token = std::string(FakeTelegram::kToken);
    options.retry.base_delay = 1ms;
    api_ = std::make_unique<telegram::BotApi>(options, std::make_shared<net::HttpClient>(unpooled()), nullptr, metrics_,
                                              logger_);
  }

  FakeTelegram telegram_;
  obs::MetricsRegistry metrics_;
  obs::Logger logger_{obs::LogLevel::kOff, obs::Logger::Format::kJson};
  std::unique_ptr<testing::StoreHarness> harness_;
  std::unique_ptr<telegram::BotApi> api_;
};

TEST_P(TelegramPollerLease, ADeadPollersLeaseExpiresAndAnotherNodeTakesOverFromTheStoredOffset) {
  auto& store = harness_->store();
  // A node that died while polling: it holds the lease and never renews it.
  ASSERT_TRUE(harness_->run(store.acquire_lease(telegram::kPollerLease, "dead-node", 2s)));
  harness_->run(store.kv_set(telegram::kOffsetKey, "41"));
  telegram_.push_update(json::object{{"update_id", 40}, {"poll", json::object{}}});  // confirmed before the death
  telegram_.push_update(testing::text_update(1, "first after takeover"));            // gets id 41

  std::mutex mutex;
  std::vector<std::int64_t> handled;
  telegram::Dispatcher dispatcher(
      harness_->io().get_executor(),
      [&](telegram::Update update) -> Task<void> {
        const std::scoped_lock lock(mutex);
        handled.push_back(update.update_id);
        co_return;
      },
      8, logger_);
  telegram::PollerOptions options;
  options.owner = "live-node";
  options.lease_ttl = 2s;
  options.poll_timeout = 1s;
  telegram::Poller poller(*api_, store, dispatcher, options, logger_);
  boost::asio::cancellation_signal cancel;
  std::promise<void> finished;
  auto ended = finished.get_future();
  auto strand = boost::asio::make_strand(harness_->io());
  boost::asio::co_spawn(
      strand, poller.run(),
      boost::asio::bind_cancellation_slot(cancel.slot(), [&](const std::exception_ptr&) { finished.set_value(); }));
  // While the dead node's lease is valid nobody polls; once it has expired the live node does.
  EXPECT_TRUE(telegram_.calls("getUpdates").empty());
  harness_->clock().advance(3s);
  ASSERT_TRUE(telegram_.wait_for_calls("getUpdates", 1, 10s));
  EXPECT_EQ(telegram_.calls("getUpdates").at(0).params.at("offset").as_int64(), 41);
  ASSERT_TRUE(telegram_.wait_until([&](const auto&) {
    const std::scoped_lock lock(mutex);
    return !handled.empty();
  }));
  // The next poll is sent only after the offset was stored.
  ASSERT_TRUE(telegram_.wait_for_calls("getUpdates", 2, 10s));
  EXPECT_EQ(telegram_.calls("getUpdates").at(1).params.at("offset").as_int64(), 42);
  boost::asio::post(strand, [&] { cancel.emit(boost::asio::cancellation_type::terminal); });
  ASSERT_EQ(ended.wait_for(10s), std::future_status::ready);
  harness_->run(poller.release());
  EXPECT_EQ(handled, std::vector<std::int64_t>{41});
  EXPECT_EQ(harness_->run(store.kv_get(telegram::kOffsetKey)).value_or(""), "42");
  EXPECT_TRUE(harness_->run(store.acquire_lease(telegram::kPollerLease, "third-node", 2s)));
}

INSTANTIATE_TEST_SUITE_P(Engines, TelegramPollerLease,
                         ::testing::Values(testing::Engine::kSqlite, testing::Engine::kPostgres),
                         testing::engine_param_name);

/// The Bot API client against the fake, on a private io_context.
class TelegramBotApi : public ::testing::Test {
 protected:
  TelegramBotApi() {
    telegram::BotApiOptions options;
    options.base_url = telegram_.base_url();
    options.token = std::string(FakeTelegram::kToken);
    options.retry.base_delay = 1ms;
    options.max_flood_wait = 3s;
    api_ = std::make_unique<telegram::BotApi>(options, std::make_shared<net::HttpClient>(unpooled()), nullptr, metrics_,
                                              logger_);
  }

  FakeTelegram telegram_;
  obs::MetricsRegistry metrics_;
  obs::Logger logger_{obs::LogLevel::kOff, obs::Logger::Format::kJson};
  std::unique_ptr<telegram::BotApi> api_;
};

TEST_F(TelegramBotApi, FloodWaitSendsNothingBeforeRetryAfter) {
  telegram_.fail_next("sendMessage", 429, "Too Many Requests: retry after 2", 2);
  const auto id = testing::run_sync(api_->send_text(5, "hi", true));
  EXPECT_GT(id, 0);
  const auto calls = telegram_.calls("sendMessage");
  ASSERT_EQ(calls.size(), 2U);
  EXPECT_EQ(calls[0].status, 429);
  EXPECT_EQ(calls[1].status, 200);
  EXPECT_GE(calls[1].at - calls[0].at, 2s);
}

TEST_F(TelegramBotApi, FloodWaitLongerThanAllowedFailsAtOnce) {
  telegram_.fail_next("sendMessage", 429, "Too Many Requests: retry after 30", 30);
  try {
    testing::run_sync(api_->send_text(5, "hi", false));
    FAIL() << "no error";
  } catch (const telegram::BotApiError& e) {
    EXPECT_EQ(e.error_code(), 429);
    EXPECT_EQ(e.retry_after(), std::chrono::seconds(30));
  }
  EXPECT_EQ(telegram_.calls("sendMessage").size(), 1U);
}

TEST_F(TelegramBotApi, ServerErrorsAreRetriedAndClientErrorsAreNot) {
  telegram_.fail_next("getMe", 502, "Bad Gateway");
  EXPECT_EQ(testing::run_sync(api_->get_me()).username.value_or(""), FakeTelegram::kUsername);
  EXPECT_EQ(telegram_.calls("getMe").size(), 2U);
  telegram_.fail_next("getFile", 400, "Bad Request: wrong file_id or the file is temporarily unavailable");
  EXPECT_THROW(testing::run_sync(api_->file_path("nope")), telegram::BotApiError);
  EXPECT_EQ(telegram_.calls("getFile").size(), 1U);
}

TEST_F(TelegramBotApi, BrokenHtmlFallsBackToPlainText) {
  const auto id = testing::run_sync(api_->send_text(5, "<b>unclosed & <x>", true));
  EXPECT_GT(id, 0);
  const auto calls = telegram_.calls("sendMessage");
  ASSERT_EQ(calls.size(), 2U);
  EXPECT_NE(calls[0].description.find("can't parse entities"), std::string::npos);
  EXPECT_FALSE(calls[1].params.contains("parse_mode"));
}

TEST_F(TelegramBotApi, FilesDownloadAndVoiceUploadsAsMultipart) {
  telegram_.add_file("doc-1", std::string("\0\x01"
                                          "binary\r\n--",
                                          12));
  const auto path = testing::run_sync(api_->file_path("doc-1"));
  EXPECT_EQ(testing::run_sync(api_->download_file(path, 1024)), std::string("\0\x01"
                                                                            "binary\r\n--",
                                                                            12));
  EXPECT_THROW(testing::run_sync(api_->download_file(path, 4)), telegram::BotApiError);
  const std::string audio("OggS\0\0binary", 12);
  testing::run_sync(
      api_->call_with_file("sendVoice", {{"chat_id", "9"}}, telegram::InputFile{"voice", "a.ogg", "audio/ogg", audio}));
  const auto voice = telegram_.calls("sendVoice").at(0);
  EXPECT_EQ(voice.status, 200);
  EXPECT_EQ(voice.file_bytes, audio);
  EXPECT_EQ(voice.params.at("chat_id").as_string(), "9");
}

TEST_F(TelegramBotApi, StarRefundsCallRefundStarPaymentAndAcceptARepeat) {
  telegram::BotStarRefunds refunds(api_.get());
  EXPECT_TRUE(refunds.available());
  const auto operators_request = obs::TraceContext::new_root();
  testing::run_sync(refunds.refund(42, "charge-1", operators_request));
  testing::run_sync(refunds.refund(42, "charge-1", {}));  // CHARGE_ALREADY_REFUNDED is not an error
  EXPECT_EQ(telegram_.refunded_charges(), std::vector<std::string>{"charge-1"});
  const auto call = telegram_.calls("refundStarPayment").at(0);
  EXPECT_EQ(call.params.at("user_id").as_int64(), 42);
  // The refund joins the operator's request's trace.
  const auto joined = obs::TraceContext::parse(call.traceparent);
  ASSERT_TRUE(joined) << "refundStarPayment came without a valid traceparent: '" << call.traceparent << "'";
  EXPECT_EQ(joined->trace_id, operators_request.trace_id);
  telegram_.fail_next("refundStarPayment", 400, "Bad Request: CHARGE_NOT_FOUND");
  try {
    testing::run_sync(refunds.refund(42, "charge-2", {}));
    FAIL() << "no error";
  } catch (const core::Error& e) {
    EXPECT_EQ(e.code(), "validation_failed");
  }
  telegram::BotStarRefunds none(nullptr);
  EXPECT_FALSE(none.available());
  try {
    testing::run_sync(none.refund(42, "charge-3", {}));
    FAIL() << "no error";
  } catch (const core::Error& e) {
    EXPECT_EQ(e.code(), "bot_not_configured");
  }
}

}  // namespace
}  // namespace evolveai
