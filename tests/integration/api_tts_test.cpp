// POST /api/v1/tts end to end: the whole application with espeak-ng, and with the cloud engine
// pointed at a fake Google Text-to-Speech server.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <future>

#include "fakes/fake_google_tts.hpp"
#include "obs/trace_context.hpp"
#include "support/http_test_client.hpp"
#include "support/prometheus_parser.hpp"
#include "support/telegram_signing.hpp"
#include "support/test_app.hpp"

namespace evolveai {
namespace {

using namespace std::chrono_literals;
using testing::FakeGoogleTts;

constexpr std::string_view kBotToken = "123456:TEST-bot-token-for-tts-tests";

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string speech_body(const std::string& text, const std::string& format = "ogg", const std::string& voice = {}) {
  boost::json::object body{{"text", text}, {"format", format}};
  if (!voice.empty()) {
    body["voice"] = voice;
  }
  return boost::json::serialize(body);
}

class ApiTts : public ::testing::Test {
 protected:
  void start(const std::function<void(app::Config&)>& adjust = {}) {
    config_ = testing::test_config(dir_.path());
    config_.telegram.bot_token = kBotToken;
    config_.rate_limits.tts_per_min = 1000;
    if (adjust) {
      adjust(config_);
    }
    app_ = std::make_unique<testing::TestApp>(config_);
  }

  std::optional<testing::HttpReply> speak(const std::string& token, const std::string& body) {
    return testing::http_request(app_->port(), "POST", "/api/v1/tts", body,
                                 {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}});
  }

  /// A signed-in user.
  struct Session {
    std::string token;
    std::int64_t user_id = 0;
  };

  /// Signs in a Telegram user.
  Session sign_in(std::int64_t telegram_id) {
    const auto init_data = testing::init_data_for(std::string(kBotToken), telegram_id, "Ann", now_seconds());
    const auto reply = testing::http_request(app_->port(), "POST", "/api/v1/auth",
                                             boost::json::serialize(boost::json::object{{"init_data", init_data}}),
                                             {{"Content-Type", "application/json"}});
    EXPECT_TRUE(reply);
    EXPECT_EQ(reply->status, 200) << reply->body;
    const auto body = boost::json::parse(reply->body);
    return {std::string(body.at("access_token").as_string()), body.at("user").at("id").as_int64()};
  }

  static boost::json::object error_of(const testing::HttpReply& reply) {
    return boost::json::parse(reply.body).at("error").as_object();
  }

  testing::ParsedMetrics metrics() {
    const auto reply = testing::http_request(app_->port(), "GET", "/metrics");
    EXPECT_TRUE(reply);
    return testing::parse_prometheus_text(reply->body);
  }

  testing::TempDir dir_;
  app::Config config_;
  std::unique_ptr<testing::TestApp> app_;
};

TEST_F(ApiTts, EnglishAndRussianComeBackAsOggOpusOrWav) {
  start();
  const auto session = sign_in(880001);
  const std::string& token = session.token;
  auto reply = speak(token, speech_body("Hello, this is your companion speaking."));
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->status, 200) << reply->body;
  EXPECT_EQ(reply->header("content-type"), "audio/ogg");
  EXPECT_EQ(reply->body.substr(0, 4), "OggS");
  EXPECT_EQ(reply->body.substr(28, 8), "OpusHead");
  EXPECT_EQ(reply->header("x-tts-engine"), "espeak");

  reply = speak(token, speech_body("Привет! Я тебя помню.", "wav", "female"));
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->status, 200) << reply->body;
  EXPECT_EQ(reply->header("content-type"), "audio/wav");
  EXPECT_EQ(reply->body.substr(0, 4), "RIFF");
  EXPECT_GT(reply->body.size(), 44U + 22050U) << "at least half a second of speech";
}

TEST_F(ApiTts, BadRequestsGet400WithTheDocumentedCode) {
  start();
  const auto session = sign_in(880002);
  const std::string& token = session.token;
  const auto expect_400 = [&](const std::string& body, const std::string& code, const std::string& field) {
    const auto reply = speak(token, body);
    ASSERT_TRUE(reply);
    ASSERT_EQ(reply->status, 400) << body << " -> " << reply->body;
    const auto error = error_of(*reply);
    EXPECT_EQ(error.at("code").as_string(), code) << body;
    if (!field.empty()) {
      EXPECT_EQ(error.at("field").as_string(), field) << body;
    }
  };
  expect_400(speech_body(""), "validation_failed", "text");
  expect_400(speech_body("   "), "validation_failed", "text");
  expect_400(R"({"format":"ogg"})", "validation_failed", "text");
  expect_400(R"({"text":42})", "validation_failed", "text");
  expect_400(speech_body(std::string(1001, 'a')), "validation_failed", "text");
  expect_400(speech_body("Hi", "mp3"), "validation_failed", "format");
  expect_400(speech_body("Hi", "ogg", "robot"), "validation_failed", "voice");
  expect_400(R"({"text":"Hi","speed":2})", "validation_failed", "speed");
  // Raw bytes that are not UTF-8 make the body invalid JSON; an escaped lone surrogate too.
  expect_400("{\"text\":\"caf\xE9\"}", "invalid_json", "");
  expect_400(R"({"text":"\ud800"})", "invalid_json", "");

  // The limit counts characters: 1000 Cyrillic letters (2000 bytes) are fine.
  std::string thousand;
  for (int i = 0; i < 1000; ++i) {
    thousand += "а";
  }
  const auto at_limit = speak(token, speech_body(thousand, "wav"));
  ASSERT_TRUE(at_limit);
  EXPECT_EQ(at_limit->status, 200) << at_limit->body;

  const auto anonymous = testing::http_request(app_->port(), "POST", "/api/v1/tts", speech_body("Hi"),
                                               {{"Content-Type", "application/json"}});
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401);
}

TEST_F(ApiTts, TheFreeAllowanceIsExactUnderParallelRequestsAndPremiumIsUnlimited) {
  start([](app::Config& config) { config.tts.free_daily = 5; });
  const auto session = sign_in(880003);
  const std::string& token = session.token;
  std::vector<std::future<std::optional<testing::HttpReply>>> calls;
  for (int i = 0; i < 20; ++i) {
    calls.push_back(std::async(std::launch::async, [this, token, i] {
      return speak(token, speech_body("Request number " + std::to_string(i)));
    }));
  }
  int ok = 0;
  int refused = 0;
  for (auto& call : calls) {
    const auto reply = call.get();
    ASSERT_TRUE(reply);
    if (reply->status == 200) {
      ++ok;
    } else {
      EXPECT_EQ(reply->status, 402) << reply->body;
      const auto error = error_of(*reply);
      EXPECT_EQ(error.at("code").as_string(), "premium_required");
      EXPECT_TRUE(error.contains("resets_at"));
      ++refused;
    }
  }
  EXPECT_EQ(ok, 5);
  EXPECT_EQ(refused, 15);

  // The same user with premium: no allowance any more (only the rate limit).
  testing::run_sync(app_->store().grant_premium(session.user_id, std::chrono::days(30)));
  for (int i = 0; i < 8; ++i) {
    const auto reply = speak(token, speech_body("Premium " + std::to_string(i), "wav"));
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->status, 200) << reply->body;
  }
}

TEST_F(ApiTts, TheTtsRateLimitPolicyApplies) {
  start([](app::Config& config) {
    config.rate_limits.tts_per_min = 2;
    config.tts.free_daily = 100;
  });
  const auto session = sign_in(880004);
  const std::string& token = session.token;
  EXPECT_EQ(speak(token, speech_body("One", "wav"))->status, 200);
  EXPECT_EQ(speak(token, speech_body("Two", "wav"))->status, 200);
  const auto limited = speak(token, speech_body("Three", "wav"));
  ASSERT_TRUE(limited);
  EXPECT_EQ(limited->status, 429);
  EXPECT_EQ(error_of(*limited).at("code").as_string(), "rate_limited");
  EXPECT_FALSE(limited->header("retry-after").empty());
}

TEST_F(ApiTts, AFailingCloudEngineIsServedByEspeakAndItsBreakerShowsInMetrics) {
  FakeGoogleTts cloud("cloud-key");
  start([&cloud](app::Config& config) {
    config.tts.engine = "google";
    config.tts.api_key = "cloud-key";
    config.tts.base_url = cloud.base_url();
    config.tts.max_retries = 0;
    config.tts.breaker_failures = 2;
    config.tts.breaker_open_duration = std::chrono::hours(1);
    config.tts.free_daily = 100;
  });
  const auto session = sign_in(880005);
  const std::string& token = session.token;
  auto reply = speak(token, speech_body("From the cloud"));
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->status, 200) << reply->body;
  EXPECT_EQ(reply->header("x-tts-engine"), "google");
  EXPECT_EQ(reply->body.substr(0, 4), "OggS");
  EXPECT_EQ(metrics().value("evolveai_circuit_breaker_state", {{"name", "tts_google"}}), 0.0);

  cloud.set_mode(FakeGoogleTts::Mode::kUnavailable);
  for (int i = 0; i < 4; ++i) {
    reply = speak(token, speech_body("Cloud is down " + std::to_string(i)));
    ASSERT_TRUE(reply);
    ASSERT_EQ(reply->status, 200) << reply->body;
    EXPECT_EQ(reply->header("x-tts-engine"), "espeak");
  }
  EXPECT_EQ(cloud.request_count(), 3U) << "the open breaker keeps requests away from the cloud";
  const auto parsed = metrics();
  EXPECT_EQ(parsed.value("evolveai_circuit_breaker_state", {{"name", "tts_google"}}), 1.0);
  EXPECT_EQ(parsed.value("evolveai_circuit_breaker_transitions_total", {{"name", "tts_google"}, {"to", "open"}}), 1.0);
  EXPECT_EQ(parsed.value("evolveai_tts_fallbacks_total", {{"from", "google"}, {"reason", "breaker_open"}}), 2.0);
  EXPECT_EQ(parsed.value("evolveai_tts_fallbacks_total", {{"from", "google"}, {"reason", "failed"}}), 2.0);
}

TEST_F(ApiTts, TheCloudEngineIsCalledInTheRequestsTrace) {
  FakeGoogleTts cloud("cloud-key");
  start([&cloud](app::Config& config) {
    config.tts.engine = "google";
    config.tts.api_key = "cloud-key";
    config.tts.base_url = cloud.base_url();
  });
  const auto session = sign_in(880011);
  const std::string incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  const auto reply = testing::http_request(
      app_->port(), "POST", "/api/v1/tts", speech_body("Trace my voice"),
      {{"Authorization", "Bearer " + session.token}, {"Content-Type", "application/json"}, {"traceparent", incoming}});
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->status, 200) << reply->body;
  EXPECT_EQ(reply->header("x-tts-engine"), "google");
  ASSERT_GE(cloud.request_count(), 1U);
  const auto sent = obs::TraceContext::parse(cloud.requests().back().header("traceparent"));
  ASSERT_TRUE(sent) << "the cloud engine got no valid traceparent";
  EXPECT_EQ(sent->trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_NE(sent->span_id_hex(), "00f067aa0ba902b7") << "the parent is this service's span, not the caller's";
}

TEST_F(ApiTts, AStalledCloudEngineTimesOutAndEspeakAnswers) {
  FakeGoogleTts cloud("cloud-key");
  cloud.set_mode(FakeGoogleTts::Mode::kStall);
  start([&cloud](app::Config& config) {
    config.tts.engine = "google";
    config.tts.api_key = "cloud-key";
    config.tts.base_url = cloud.base_url();
    config.tts.max_retries = 0;
    config.tts.timeout = std::chrono::milliseconds(300);
  });
  const auto session = sign_in(880006);
  const std::string& token = session.token;
  const auto reply = speak(token, speech_body("Anyone there?", "wav"));
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->status, 200) << reply->body;
  EXPECT_EQ(reply->header("x-tts-engine"), "espeak");
  EXPECT_TRUE(cloud.wait_for_client_abort(0, 5s)) << "the stalled call was abandoned";
}

}  // namespace
}  // namespace evolveai
