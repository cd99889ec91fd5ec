// How the chat model providers behave against the fake upstreams: request shapes,
// retries and their limits, timeouts, blocked prompts, cancellation, fallback and the
// breaker hook.

#include <gtest/gtest.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>

#include <chrono>
#include <sstream>
#include <string>
#include <vector>

#include "ai/chat_model_factory.hpp"
#include "ai/fallback_model.hpp"
#include "ai/gemini/gemini_model.hpp"
#include "ai/openai_compat/openai_model.hpp"
#include "app/config.hpp"
#include "fakes/fake_gemini.hpp"
#include "fakes/fake_openai.hpp"
#include "net/circuit_breaker.hpp"
#include "obs/logger.hpp"
#include "obs/metrics.hpp"

namespace evolveai::ai {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;
using testing::FakeGemini;
using testing::FakeOpenAi;
using Clock = std::chrono::steady_clock;

ChatRequest simple_request(std::string text = "Hello") {
  ChatRequest request;
  request.messages.push_back({Role::kUser, {Part::text_part(std::move(text))}});
  return request;
}

class Providers : public ::testing::Test {
 protected:
  template <typename T>
  T run(Task<T> task) {
    io_.restart();
    auto future = boost::asio::co_spawn(io_, std::move(task), boost::asio::use_future);
    io_.run();
    return future.get();
  }

  /// Runs a call expected to fail with a ModelError and returns it.
  ModelError failure_of(Task<ChatResult> task) {
    try {
      run(std::move(task));
    } catch (const ModelError& error) {
      return error;
    }
    ADD_FAILURE() << "the call did not fail with a ModelError";
    return {ModelFailure::kBadResponse, "none"};
  }

  /// Retries without real waiting: the sleeper records the delays it is asked for.
  ModelCallOptions call_options(unsigned attempts) {
    ModelCallOptions options;
    options.retry.max_attempts = attempts;
    options.retry.base_delay = 100ms;
    options.retry.max_delay = 1s;
    options.random = [] { return 0.5; };
    options.sleeper = [this](std::chrono::nanoseconds delay) -> Task<void> {
      slept_.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(delay));
      co_return;
    };
    return options;
  }

  std::unique_ptr<ChatModel> gemini(const FakeGemini& fake, unsigned attempts = 3, std::string model = "gemini-test",
                                    net::CircuitBreaker* breaker = nullptr) {
    gemini::GeminiSettings settings;
    settings.base_url = fake.base_url();
    settings.model = std::move(model);
    settings.api_key = "gemini-key";
    auto options = call_options(attempts);
    options.breaker = breaker;
    return gemini::make_model(settings, client_, std::move(options));
  }

  std::unique_ptr<ChatModel> openai(const FakeOpenAi& fake, unsigned attempts = 3, std::string key = "sk-key") {
    openai_compat::OpenAiSettings settings;
    settings.base_url = fake.base_url();
    settings.model = "gpt-test";
    settings.api_key = std::move(key);
    return openai_compat::make_model(settings, client_, call_options(attempts));
  }

  /// Streams and collects the deltas.
  Task<ChatResult> stream_into(ChatModel& model, std::vector<std::string>& deltas,
                               ChatRequest request = simple_request()) {
    co_return co_await model.stream(request, [&deltas](std::string_view delta) -> Task<bool> {
      deltas.emplace_back(delta);
      co_return true;
    });
  }

  boost::asio::io_context io_;
  std::shared_ptr<net::HttpClient> client_ = std::make_shared<net::HttpClient>();
  std::vector<std::chrono::milliseconds> slept_;
};

TEST_F(Providers, GeminiSendsSystemInstructionInlineImageAndSafetySettings) {
  FakeGemini fake;
  fake.enqueue(FakeGemini::text_reply("I see a cat.", 12, 4));
  auto model = gemini(fake);
  ChatRequest request;
  request.system_instruction = "You are Evo.";
  request.messages.push_back({Role::kUser, {Part::text_part("Hi")}});
  request.messages.push_back({Role::kAssistant, {Part::text_part("Hello!")}});
  const std::string image("\x89PNG\r\n\x1a\n\x00\x01", 10);
  request.messages.push_back({Role::kUser, {Part::text_part("What is this?"), Part::inline_data("image/png", image)}});
  request.options.max_output_tokens = 300;
  const auto result = run(model->generate(request));
  EXPECT_EQ(result.text, "I see a cat.");
  EXPECT_EQ(result.finish_reason, FinishReason::kStop);
  EXPECT_EQ(result.usage.input_tokens, 12);
  EXPECT_EQ(result.usage.output_tokens, 4);
  EXPECT_EQ(result.model, "gemini-fake-001");

  ASSERT_EQ(fake.request_count(), 1U);
  const auto sent = fake.requests().front();
  EXPECT_EQ(sent.path, "/v1beta/models/gemini-test:generateContent");
  EXPECT_EQ(sent.header("x-goog-api-key"), "gemini-key");
  EXPECT_EQ(sent.header("content-type"), "application/json");
  const auto body = json::parse(sent.body);
  EXPECT_EQ(body.at("systemInstruction").at("parts").at(0).at("text").as_string(), "You are Evo.");
  EXPECT_EQ(body.at("contents").at(1).at("role").as_string(), "model");
  const auto& image_part = body.at("contents").at(2).at("parts").at(1).at("inline_data");
  EXPECT_EQ(image_part.at("mime_type").as_string(), "image/png");
  EXPECT_EQ(image_part.at("data").as_string(), "iVBORw0KGgoAAQ==");
  EXPECT_EQ(body.at("generationConfig").at("maxOutputTokens").as_int64(), 300);
  const auto& safety = body.at("safetySettings").as_array();
  ASSERT_EQ(safety.size(), 4U);
  for (const auto& setting : safety) {
    EXPECT_EQ(setting.at("threshold").as_string(), "BLOCK_MEDIUM_AND_ABOVE");
  }
}

TEST_F(Providers, GeminiStreamsDeltasInOrderAndTakesTheLastUsage) {
  FakeGemini fake;
  fake.enqueue(FakeGemini::stream_reply({"Of ", "course, ", "Ann!"}, 30ms));
  auto model = gemini(fake);
  std::vector<std::string> deltas;
  const auto result = run(stream_into(*model, deltas));
  EXPECT_EQ(deltas, (std::vector<std::string>{"Of ", "course, ", "Ann!"}));
  EXPECT_EQ(result.text, "Of course, Ann!");
  EXPECT_EQ(result.finish_reason, FinishReason::kStop);
  EXPECT_EQ(result.usage.output_tokens, 3);
  const auto sent = fake.requests().front();
  EXPECT_EQ(sent.target, "/v1beta/models/gemini-test:streamGenerateContent?alt=sse");
}

TEST_F(Providers, OpenAiSendsBearerKeySystemMessageAndUsageOption) {
  FakeOpenAi fake;
  fake.enqueue(FakeOpenAi::stream_reply({"Hi", " there"}));
  auto model = openai(fake);
  ChatRequest request = simple_request();
  request.system_instruction = "Be brief.";
  std::vector<std::string> deltas;
  const auto result = run(stream_into(*model, deltas, request));
  EXPECT_EQ(result.text, "Hi there");
  EXPECT_EQ(result.usage.input_tokens, 11);
  EXPECT_EQ(result.usage.output_tokens, 2);
  const auto sent = fake.requests().front();
  EXPECT_EQ(sent.path, "/v1/chat/completions");
  EXPECT_EQ(sent.header("authorization"), "Bearer sk-key");
  const auto body = json::parse(sent.body);
  EXPECT_EQ(body.at("messages").at(0).at("role").as_string(), "system");
  EXPECT_TRUE(body.at("stream").as_bool());
  EXPECT_TRUE(body.at("stream_options").at("include_usage").as_bool());
}

TEST_F(Providers, OpenAiWithoutAKeySendsNoAuthorization) {
  FakeOpenAi fake;
  fake.enqueue(FakeOpenAi::completion("Local model here."));
  auto model = openai(fake, 1, "");
  EXPECT_EQ(run(model->generate(simple_request())).text, "Local model here.");
  EXPECT_EQ(fake.requests().front().header("authorization"), "");
}

TEST_F(Providers, RetriesA429ThenSucceedsWaitingAsLongAsRetryInfoAsks) {
  FakeGemini fake;
  fake.enqueue(FakeGemini::rate_limited(1500ms));
  fake.enqueue(FakeGemini::text_reply("Back again."));
  auto model = gemini(fake);
  EXPECT_EQ(run(model->generate(simple_request())).text, "Back again.");
  EXPECT_EQ(fake.request_count(), 2U);
  ASSERT_EQ(slept_.size(), 1U);
  EXPECT_EQ(slept_[0], 1500ms);
}

TEST_F(Providers, RetriesA429WithoutRetryInfoWithTheSharedBackoff) {
  FakeOpenAi fake;
  fake.enqueue(FakeOpenAi::rate_limited());
  fake.enqueue(FakeOpenAi::error(503, "server_error", "overloaded"));
  fake.enqueue(FakeOpenAi::completion("Finally."));
  auto model = openai(fake);
  EXPECT_EQ(run(model->generate(simple_request())).text, "Finally.");
  EXPECT_EQ(fake.request_count(), 3U);
  EXPECT_EQ(slept_, (std::vector<std::chrono::milliseconds>{50ms, 100ms}));
}

TEST_F(Providers, HonoursRetryAfterOnOpenAi) {
  FakeOpenAi fake;
  fake.enqueue(FakeOpenAi::rate_limited(2s));
  fake.enqueue(FakeOpenAi::completion("ok"));
  auto model = openai(fake);
  EXPECT_EQ(run(model->generate(simple_request())).text, "ok");
  ASSERT_EQ(slept_.size(), 1U);
  EXPECT_EQ(slept_[0], 2000ms);
}

TEST_F(Providers, AWaitHintOverTheCapFailsAtOnce) {
  FakeGemini fake;
  fake.enqueue(FakeGemini::rate_limited(60s));
  auto model = gemini(fake);
  const auto error = failure_of(model->generate(simple_request()));
  EXPECT_EQ(error.failure(), ModelFailure::kRateLimited);
  EXPECT_EQ(fake.request_count(), 1U);
  EXPECT_TRUE(slept_.empty());
}

TEST_F(Providers, RetriesExhaustedGiveATypedUpstreamError) {
  FakeGemini fake;
  for (int i = 0; i < 3; ++i) {
    fake.enqueue(FakeGemini::error(503, "UNAVAILABLE", "The model is overloaded."));
  }
  auto model = gemini(fake, 3);
  const auto error = failure_of(model->generate(simple_request()));
  EXPECT_EQ(error.failure(), ModelFailure::kServer);
  EXPECT_EQ(error.http_status(), 503);
  EXPECT_EQ(error.upstream_status(), "UNAVAILABLE");
  EXPECT_EQ(error.code(), "upstream_unavailable");
  EXPECT_EQ(error.status_override(), 503);
  EXPECT_EQ(error.client_message().find("overloaded"), std::string::npos);
  EXPECT_EQ(fake.request_count(), 3U);
  EXPECT_EQ(slept_.size(), 2U);
}

TEST_F(Providers, DoesNotRetryRejectedRequests) {
  for (const int status : {400, 403, 404}) {
    FakeGemini fake;
    fake.enqueue(FakeGemini::error(status, "INVALID_ARGUMENT", "no"));
    auto model = gemini(fake);
    const auto error = failure_of(model->generate(simple_request()));
    EXPECT_EQ(error.failure(), ModelFailure::kRejected) << status;
    EXPECT_EQ(error.http_status(), status);
    EXPECT_EQ(fake.request_count(), 1U) << status;
  }
  EXPECT_TRUE(slept_.empty());
}

TEST_F(Providers, MalformedJsonIsABadResponseNotRetried) {
  for (const bool streaming : {false, true}) {
    FakeGemini fake;
    fake.enqueue(FakeGemini::malformed_json(streaming));
    auto model = gemini(fake);
    std::vector<std::string> deltas;
    const auto error = failure_of(streaming ? stream_into(*model, deltas) : model->generate(simple_request()));
    EXPECT_EQ(error.failure(), ModelFailure::kBadResponse);
    EXPECT_EQ(error.status_override(), 502);
    EXPECT_EQ(fake.request_count(), 1U);
  }
}

TEST_F(Providers, ABlockedPromptIsAFriendlyReplyWithSafetyFinish) {
  for (const bool streaming : {false, true}) {
    FakeGemini fake;
    fake.enqueue(FakeGemini::blocked_prompt(streaming));
    auto model = gemini(fake);
    std::vector<std::string> deltas;
    const auto result = run(streaming ? stream_into(*model, deltas) : model->generate(simple_request()));
    EXPECT_TRUE(result.blocked);
    EXPECT_EQ(result.finish_reason, FinishReason::kSafety);
    EXPECT_EQ(result.block_reason, "SAFETY");
    EXPECT_FALSE(result.friendly_text.empty());
    EXPECT_TRUE(deltas.empty());
    EXPECT_EQ(fake.request_count(), 1U);
  }
}

TEST_F(Providers, ASlowFirstByteTimesOutAndIsRetried) {
  FakeGemini fake;
  auto slow = FakeGemini::text_reply("too late");
  slow.first_byte_delay = 3s;
  fake.enqueue(slow);
  fake.enqueue(FakeGemini::text_reply("in time"));
  net::HttpClientOptions options;
  options.first_byte_timeout = 200ms;
  client_ = std::make_shared<net::HttpClient>(options);
  auto model = gemini(fake);
  const auto started = Clock::now();
  EXPECT_EQ(run(model->generate(simple_request())).text, "in time");
  EXPECT_LT(Clock::now() - started, 2s);
  EXPECT_EQ(fake.request_count(), 2U);
}

TEST_F(Providers, AStallBeforeAnyTextIsRetriedButAStallAfterTextIsNot) {
  net::HttpClientOptions options;
  options.read_timeout = 200ms;
  client_ = std::make_shared<net::HttpClient>(options);
  {
    FakeGemini fake;
    auto stalled = FakeGemini::stream_reply({"never"});
    stalled.stall_after = 0;
    fake.enqueue(stalled);
    fake.enqueue(FakeGemini::stream_reply({"second ", "try"}));
    auto model = gemini(fake);
    std::vector<std::string> deltas;
    EXPECT_EQ(run(stream_into(*model, deltas)).text, "second try");
    EXPECT_EQ(fake.request_count(), 2U);
  }
  {
    FakeGemini fake;
    auto stalled = FakeGemini::stream_reply({"Half ", "a ", "reply"});
    stalled.stall_after = 1;
    fake.enqueue(stalled);
    auto model = gemini(fake);
    std::vector<std::string> deltas;
    const auto error = failure_of(stream_into(*model, deltas));
    EXPECT_EQ(error.failure(), ModelFailure::kTimeout);
    EXPECT_EQ(error.status_override(), 504);
    EXPECT_TRUE(error.partial());
    EXPECT_EQ(deltas, (std::vector<std::string>{"Half "}));
    EXPECT_EQ(fake.request_count(), 1U);
  }
}

TEST_F(Providers, AConnectionDroppedMidStreamIsAPartialConnectionError) {
  FakeOpenAi fake;
  auto dropped = FakeOpenAi::stream_reply({"One", " two", " three"});
  dropped.drop_after = 2;
  fake.enqueue(dropped);
  auto model = openai(fake);
  std::vector<std::string> deltas;
  const auto error = failure_of(stream_into(*model, deltas));
  EXPECT_EQ(error.failure(), ModelFailure::kConnection);
  EXPECT_TRUE(error.partial());
  EXPECT_EQ(deltas, (std::vector<std::string>{"One", " two"}));
  EXPECT_EQ(fake.request_count(), 1U);
}

TEST_F(Providers, ACallToAClosedPortIsAConnectionError) {
  std::uint16_t port = 0;
  {
    FakeGemini closed;
    port = closed.port();
  }
  gemini::GeminiSettings settings;
  settings.base_url = "http://127.0.0.1:" + std::to_string(port) + "/v1beta";
  auto model = gemini::make_model(settings, client_, call_options(2));
  const auto error = failure_of(model->generate(simple_request()));
  EXPECT_EQ(error.failure(), ModelFailure::kConnection);
  EXPECT_EQ(slept_.size(), 1U);
}

TEST_F(Providers, CancellingTheCallerClosesTheUpstreamWithinOneSecondAndKeepsThePartialReply) {
  FakeGemini fake;
  std::vector<std::string> tokens(200, "word ");
  fake.enqueue(FakeGemini::stream_reply(tokens, 50ms));
  auto model = gemini(fake);
  boost::asio::cancellation_signal cancel;
  std::vector<std::string> deltas;
  Clock::time_point cancelled_at;
  auto call = [&]() -> Task<ChatResult> {
    co_return co_await model->stream(simple_request(), [&](std::string_view delta) -> Task<bool> {
      deltas.emplace_back(delta);
      if (deltas.size() == 3) {
        // What the server does when the client goes away: cancel the handler's coroutine.
        boost::asio::post(io_, [&] {
          cancelled_at = Clock::now();
          cancel.emit(boost::asio::cancellation_type::terminal);
        });
      }
      co_return true;
    });
  };
  io_.restart();
  auto future =
      boost::asio::co_spawn(io_, call(), boost::asio::bind_cancellation_slot(cancel.slot(), boost::asio::use_future));
  io_.run();
  const auto result = future.get();
  EXPECT_TRUE(fake.wait_for_client_abort(0, 1s));
  EXPECT_LT(Clock::now() - cancelled_at, 1s);
  EXPECT_EQ(result.finish_reason, FinishReason::kInterrupted);
  EXPECT_EQ(result.text, "word word word ");
  EXPECT_EQ(fake.request_count(), 1U);
}

TEST_F(Providers, ADeltaHandlerThatStopsInterruptsTheStream) {
  FakeOpenAi fake;
  std::vector<std::string> tokens(100, "x");
  fake.enqueue(FakeOpenAi::stream_reply(tokens, 20ms));
  auto model = openai(fake);
  int calls = 0;
  const auto result =
      run(model->stream(simple_request(), [&](std::string_view) -> Task<bool> { co_return ++calls < 2; }));
  EXPECT_EQ(result.finish_reason, FinishReason::kInterrupted);
  EXPECT_EQ(result.text, "xx");
  EXPECT_TRUE(fake.wait_for_client_abort(0, 1s));
}

TEST_F(Providers, TheFallbackChainAnswersWhenThePrimaryIsUnavailable) {
  FakeGemini fake;
  fake.set_responder([](const testing::RecordedRequest& request) {
    if (request.path.find("primary") != std::string::npos) {
      return FakeGemini::error(503, "UNAVAILABLE", "overloaded");
    }
    return FakeGemini::text_reply("from the backup");
  });
  std::vector<std::unique_ptr<ChatModel>> chain;
  chain.push_back(gemini(fake, 2, "primary"));
  chain.push_back(gemini(fake, 2, "backup"));
  std::vector<std::string> fell_back;
  FallbackChatModel model(std::move(chain), [&](const ChatModel& failed, const ModelError& error) {
    fell_back.push_back(failed.name() + " " + std::string(model_failure_name(error.failure())));
  });
  EXPECT_EQ(model.name(), "gemini:primary > gemini:backup");
  EXPECT_EQ(run(model.generate(simple_request())).text, "from the backup");
  EXPECT_EQ(fell_back, (std::vector<std::string>{"gemini:primary server_error"}));
  EXPECT_EQ(fake.request_count(), 3U);  // two attempts on the primary, one on the backup

  std::vector<std::string> deltas;
  EXPECT_EQ(run(stream_into(model, deltas)).text, "from the backup");
}

TEST_F(Providers, TheFallbackChainStopsAtARejectedRequestOrAPartialStream) {
  FakeGemini fake;
  fake.set_responder([](const testing::RecordedRequest& request) {
    if (request.path.find("primary") != std::string::npos) {
      return FakeGemini::error(400, "INVALID_ARGUMENT", "bad image");
    }
    return FakeGemini::text_reply("backup");
  });
  std::vector<std::unique_ptr<ChatModel>> chain;
  chain.push_back(gemini(fake, 1, "primary"));
  chain.push_back(gemini(fake, 1, "backup"));
  FallbackChatModel model(std::move(chain));
  EXPECT_EQ(failure_of(model.generate(simple_request())).failure(), ModelFailure::kRejected);
  EXPECT_EQ(fake.request_count(), 1U);

  FakeGemini dropping;
  auto partial = FakeGemini::stream_reply({"a", "b", "c"});
  partial.drop_after = 1;
  dropping.enqueue(partial);
  std::vector<std::unique_ptr<ChatModel>> second_chain;
  second_chain.push_back(gemini(dropping, 1, "primary"));
  second_chain.push_back(gemini(dropping, 1, "backup"));
  FallbackChatModel partial_model(std::move(second_chain));
  std::vector<std::string> deltas;
  const auto error = failure_of(stream_into(partial_model, deltas));
  EXPECT_TRUE(error.partial());
  EXPECT_EQ(dropping.request_count(), 1U);
}

TEST_F(Providers, TheBreakerCountsUpstreamFailuresOnlyAndRefusesCallsWhenOpen) {
  FakeGemini fake;
  fake.enqueue(FakeGemini::error(503, "UNAVAILABLE", "busy"));
  fake.enqueue(FakeGemini::text_reply("ok"));
  for (int i = 0; i < 3; ++i) {
    fake.enqueue(FakeGemini::error(400, "INVALID_ARGUMENT", "bad"));
  }
  fake.enqueue(FakeGemini::error(500, "INTERNAL", "boom"));
  fake.enqueue(FakeGemini::error(500, "INTERNAL", "boom"));
  obs::MetricsRegistry metrics;
  std::ostringstream log;
  obs::Logger logger(obs::LogLevel::kError, obs::Logger::Format::kJson, log);
  auto now = std::chrono::steady_clock::now();
  net::CircuitBreaker breaker("llm_gemini", net::BreakerSettings{2, std::chrono::milliseconds(30000), 1}, metrics,
                              logger, [&] { return now; });
  auto model = gemini(fake, 2, "gemini-test", &breaker);

  // A 503 then a success: the failure count is reset.
  EXPECT_EQ(run(model->generate(simple_request())).text, "ok");
  // Rejected requests say nothing about the upstream's health, however many.
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(failure_of(model->generate(simple_request())).failure(), ModelFailure::kRejected);
  }
  EXPECT_EQ(breaker.state(), net::BreakerState::kClosed);
  // Two server errors in a row open it; then no call reaches the upstream.
  EXPECT_EQ(failure_of(model->generate(simple_request())).failure(), ModelFailure::kServer);
  EXPECT_EQ(breaker.state(), net::BreakerState::kOpen);
  const auto requests = fake.request_count();
  const auto refused = failure_of(model->generate(simple_request()));
  EXPECT_EQ(refused.failure(), ModelFailure::kUnavailable);
  EXPECT_TRUE(FallbackChatModel::falls_back(refused));
  EXPECT_EQ(fake.request_count(), requests);

  // Once its time is up a probe goes through, succeeds, and the breaker closes.
  now += std::chrono::seconds(31);
  EXPECT_EQ(run(model->generate(simple_request())).text, "Hello from the fake Gemini.");
  EXPECT_EQ(breaker.state(), net::BreakerState::kClosed);
}

TEST_F(Providers, ACancelledProbeDoesNotWedgeTheBreaker) {
  FakeGemini fake;
  fake.enqueue(FakeGemini::error(503, "UNAVAILABLE", "busy"));
  fake.enqueue(FakeGemini::stream_reply({"a", "b"}, 20ms));
  obs::MetricsRegistry metrics;
  std::ostringstream log;
  obs::Logger logger(obs::LogLevel::kError, obs::Logger::Format::kJson, log);
  auto now = std::chrono::steady_clock::now();
  net::CircuitBreaker breaker("llm_probe", net::BreakerSettings{1, std::chrono::milliseconds(1000), 1}, metrics, logger,
                              [&] { return now; });
  auto model = gemini(fake, 1, "gemini-test", &breaker);
  EXPECT_EQ(failure_of(model->generate(simple_request())).failure(), ModelFailure::kServer);
  EXPECT_EQ(breaker.state(), net::BreakerState::kOpen);
  now += std::chrono::seconds(2);
  // The probe is a stream the caller stops at once: neither success nor failure.
  const auto stopped = run(model->stream(simple_request(), [](std::string_view) -> Task<bool> { co_return false; }));
  EXPECT_EQ(stopped.finish_reason, FinishReason::kInterrupted);
  EXPECT_TRUE(breaker.allow());  // the probe slot was given back
  breaker.record_ignored();
}

TEST_F(Providers, TheFactoryBuildsWhatTheConfigSays) {
  app::LlmConfig config;
  EXPECT_EQ(make_chat_model(config), nullptr);
  EXPECT_EQ(not_configured_error().code(), "llm_not_configured");
  EXPECT_NE(not_configured_error().client_message().find("llm.provider"), std::string::npos);

  config.provider = "claude";
  EXPECT_THROW((void)make_chat_model(config), std::invalid_argument);

  FakeOpenAi fake;
  fake.set_responder([](const testing::RecordedRequest& request) {
    const auto model = json::parse(request.body).at("model").as_string();
    if (model == "big") {
      return FakeOpenAi::error(503, "server_error", "busy");
    }
    return FakeOpenAi::completion("small says hi");
  });
  config.provider = "openai";
  config.base_url = fake.base_url();
  config.model = "big";
  config.max_retries = 1;
  config.fallback_models = {"small"};
  ModelDependencies dependencies;
  dependencies.sleeper = [](std::chrono::nanoseconds) -> Task<void> { co_return; };
  auto model = make_chat_model(config, dependencies);
  ASSERT_NE(model, nullptr);
  EXPECT_EQ(model->name(), "openai:big > openai:small");
  EXPECT_EQ(run(model->generate(simple_request())).text, "small says hi");
  EXPECT_EQ(fake.request_count(), 3U);

  FakeGemini gemini_fake;
  gemini_fake.enqueue(FakeGemini::text_reply("gemini here"));
  app::LlmConfig gemini_config;
  gemini_config.provider = "gemini";
  gemini_config.base_url = gemini_fake.base_url();
  gemini_config.model = "gemini-2.5-flash";
  gemini_config.api_key = "k";
  auto gemini_model = make_chat_model(gemini_config);
  EXPECT_EQ(gemini_model->name(), "gemini:gemini-2.5-flash");
  EXPECT_EQ(run(gemini_model->generate(simple_request())).text, "gemini here");
  EXPECT_EQ(gemini_fake.requests().front().path, "/v1beta/models/gemini-2.5-flash:generateContent");
}

TEST_F(Providers, TheFakesServeUnscriptedRepliesAtTheConfiguredTokenRate) {
  FakeGemini fake(FakeGemini::Options{"one two three four", 40ms, false});
  auto model = gemini(fake);
  std::vector<std::string> deltas;
  const auto started = Clock::now();
  const auto result = run(stream_into(*model, deltas));
  EXPECT_EQ(result.text, "one two three four");
  EXPECT_EQ(deltas.size(), 4U);
  EXPECT_GE(Clock::now() - started, 120ms);

  FakeOpenAi openai_fake(FakeOpenAi::Options{"alpha beta", 0ms, false});
  auto openai_model = openai(openai_fake);
  EXPECT_EQ(run(openai_model->generate(simple_request())).text, "alpha beta");
  deltas.clear();
  EXPECT_EQ(run(stream_into(*openai_model, deltas)).text, "alpha beta");
  EXPECT_EQ(deltas.size(), 2U);
}

}  // namespace
}  // namespace evolveai::ai
