// TtsService against both storage engines (SQLite in a temp dir, PostgreSQL from
// EVOLVEAI_TEST_PG_URL): request checks, the exact free daily allowance under parallel requests,
// premium, giving a unit back when synthesis fails, and the audio cache. The engine is a fake, so
// these tests are about the service's rules; tts_engines_test covers the engines.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>

#include <atomic>
#include <sstream>

#include "cache/local_cache.hpp"
#include "core/errors.hpp"
#include "net/blocking_pool.hpp"
#include "obs/logger.hpp"
#include "obs/metrics.hpp"
#include "services/tts_service.hpp"
#include "storage/store.hpp"
#include "support/prometheus_parser.hpp"
#include "support/store_test_env.hpp"
#include "tts/tts_engine.hpp"

namespace evolveai::services {
namespace {

using testing::Engine;
using testing::StoreHarness;

/// An engine that answers at once with a short tone, or fails while `failing` is set.
class ScriptedEngine final : public tts::TtsEngine {
 public:
  Task<tts::Pcm> synthesize(const std::string& text, const tts::VoiceOptions& /*options*/) override {
    ++calls;
    if (failing) {
      throw tts::TtsError(tts::TtsFailure::kUnavailable, "scripted failure", true);
    }
    tts::Pcm pcm;
    pcm.sample_rate = 16000;
    pcm.samples.assign(1600 + text.size(), 1000);
    pcm.engine = "scripted";
    co_return pcm;
  }
  [[nodiscard]] std::string_view name() const noexcept override { return "scripted"; }

  std::atomic<int> calls{0};
  std::atomic<bool> failing{false};
};

class TtsServiceTest : public ::testing::TestWithParam<Engine> {
 protected:
  void SetUp() override {
    if (GetParam() == Engine::kPostgres) {
      if (auto reason = testing::postgres_unavailable_reason()) {
        if (testing::postgres_required()) {
          FAIL() << "EVOLVEAI_REQUIRE_PG=1 but PostgreSQL is unavailable: " << *reason;
        }
        GTEST_SKIP() << *reason;
      }
    }
    harness_ = std::make_unique<StoreHarness>(GetParam(), 4);
  }

  TtsService& service(std::int64_t free_daily = 5, std::size_t max_chars = 1000) {
    TtsLimits limits;
    limits.free_daily = free_daily;
    limits.max_chars = max_chars;
    service_ = std::make_unique<TtsService>(harness_->store(), engine_, cache_, encoders_, limits, metrics_, logger_);
    return *service_;
  }

  storage::UserId make_user(std::int64_t telegram_id) {
    const storage::TelegramIdentity identity{telegram_id, "Ann", std::nullopt, "ann", "en"};
    return harness_->run(harness_->store().upsert_user(identity)).id;
  }

  static SpeechRequest request(storage::UserId user, std::string text = "Hello there", std::string format = "ogg") {
    SpeechRequest r;
    r.user_id = user;
    r.text = std::move(text);
    r.format = std::move(format);
    return r;
  }

  /// The error code a request fails with, or "" when it succeeds.
  std::string code_of(const SpeechRequest& r) {
    try {
      (void)harness_->run(service_->speak(r));
      return "";
    } catch (const core::Error& error) {
      return error.code();
    }
  }

  /// Runs `count` requests of `user` at once and counts the outcomes by error code ("" = served).
  std::map<std::string, int> parallel(storage::UserId user, int count) {
    std::vector<std::future<Speech>> futures;
    std::vector<SpeechRequest> requests;
    requests.reserve(static_cast<std::size_t>(count));
    for (int i = 0; i < count; ++i) {
      requests.push_back(request(user, "Parallel request " + std::to_string(i)));
    }
    for (const auto& r : requests) {
      futures.push_back(boost::asio::co_spawn(harness_->io(), service_->speak(r), boost::asio::use_future));
    }
    std::map<std::string, int> outcomes;
    for (auto& future : futures) {
      try {
        future.get();
        ++outcomes[""];
      } catch (const core::Error& error) {
        ++outcomes[error.code()];
      }
    }
    return outcomes;
  }

  std::unique_ptr<StoreHarness> harness_;
  ScriptedEngine engine_;
  obs::MetricsRegistry metrics_;
  std::ostringstream log_;
  obs::Logger logger_{obs::LogLevel::kWarn, obs::Logger::Format::kJson, log_};
  cache::LocalCache cache_{cache::LocalCacheOptions{"tts_audio", 1000, std::size_t{8} * 1024 * 1024}, metrics_,
                           logger_};
  net::BlockingPool encoders_{2};
  std::unique_ptr<TtsService> service_;
};

TEST_P(TtsServiceTest, TheFreeAllowanceIsExactUnderParallelRequests) {
  service(5);
  const auto user = make_user(9001);
  const auto outcomes = parallel(user, 20);
  EXPECT_EQ(outcomes.size(), 2U);
  EXPECT_EQ(outcomes.at(""), 5);
  EXPECT_EQ(outcomes.at("premium_required"), 15);
  const auto parsed = testing::parse_prometheus_text(metrics_.render());
  EXPECT_EQ(parsed.value("evolveai_tts_requests_total", {{"format", "ogg"}, {"outcome", "premium_required"}}), 15.0);
  // Another user has an allowance of their own.
  EXPECT_EQ(code_of(request(make_user(9002))), "");
}

TEST_P(TtsServiceTest, PremiumUsersAreNotLimitedByTheAllowance) {
  service(2);
  const auto user = make_user(9003);
  harness_->run(harness_->store().grant_premium(user, std::chrono::days(30)));
  const auto outcomes = parallel(user, 12);
  EXPECT_EQ(outcomes.size(), 1U);
  EXPECT_EQ(outcomes.at(""), 12);
}

TEST_P(TtsServiceTest, ARefusalSaysWhenTheAllowanceResets) {
  service(1);
  const auto user = make_user(9004);
  EXPECT_EQ(code_of(request(user)), "");
  try {
    (void)harness_->run(service_->speak(request(user, "Another one")));
    FAIL() << "the second request of the day must be refused";
  } catch (const core::Error& error) {
    EXPECT_EQ(error.code(), "premium_required");
    EXPECT_EQ(error.kind(), core::ErrorKind::kPremiumRequired);
    ASSERT_TRUE(error.resets_at());
    EXPECT_EQ(*error.resets_at(), "2024-05-11T00:00:00Z");
  }
}

TEST_P(TtsServiceTest, FailedSynthesisGivesTheUnitBack) {
  service(1);
  const auto user = make_user(9005);
  engine_.failing = true;
  EXPECT_EQ(code_of(request(user)), "service_unavailable");
  EXPECT_EQ(code_of(request(user)), "service_unavailable");
  engine_.failing = false;
  EXPECT_EQ(code_of(request(user)), "") << "failed attempts must not use up the allowance";
  EXPECT_EQ(code_of(request(user, "More")), "premium_required");
}

TEST_P(TtsServiceTest, RepeatsAreServedFromTheCacheButStillCount) {
  service(3);
  const auto user = make_user(9006);
  const auto first = harness_->run(service_->speak(request(user, "Same words")));
  const auto second = harness_->run(service_->speak(request(user, "Same words")));
  EXPECT_FALSE(first.cached);
  EXPECT_TRUE(second.cached);
  EXPECT_EQ(first.audio, second.audio);
  EXPECT_EQ(engine_.calls, 1);
  const auto wav = harness_->run(service_->speak(request(user, "Same words", "wav")));
  EXPECT_FALSE(wav.cached) << "another format is another entry";
  EXPECT_EQ(wav.audio.substr(0, 4), "RIFF");
  EXPECT_EQ(first.audio.substr(0, 4), "OggS");
  EXPECT_EQ(code_of(request(user, "Same words")), "premium_required");
}

TEST_P(TtsServiceTest, ChecksTextVoiceAndFormat) {
  auto& tts = service(5, 10);
  const auto field_of = [&tts](const SpeechRequest& r) -> std::string {
    try {
      (void)tts.check(r);
      return "";
    } catch (const core::Error& error) {
      EXPECT_EQ(error.code(), "validation_failed");
      return error.field().value_or("?");
    }
  };
  EXPECT_EQ(field_of(request(1, "")), "text");
  EXPECT_EQ(field_of(request(1, " \n\t ")), "text");
  EXPECT_EQ(field_of(request(1, "eleven char")), "text");
  EXPECT_EQ(field_of(request(1, "ten chars!")), "");
  EXPECT_EQ(field_of(request(1, "десять сим")), "") << "the limit counts characters, not bytes";
  EXPECT_EQ(field_of(request(1, "bad \xC3\x28")), "text");
  EXPECT_EQ(field_of(request(1, "\xED\xA0\x80")), "text") << "a UTF-16 surrogate is not UTF-8";
  EXPECT_EQ(field_of(request(1, std::string("a\0b", 3))), "text");
  auto r = request(1, "Hi");
  r.voice = "robot";
  EXPECT_EQ(field_of(r), "voice");
  r.voice = "female";
  r.format = "mp3";
  EXPECT_EQ(field_of(r), "format");
  EXPECT_EQ(tts.check(request(1, "Привет")).voice.language, "ru");
  EXPECT_EQ(tts.check(request(1, "Hello")).voice.language, "en");
}

TEST_P(TtsServiceTest, InvalidRequestsTakeNothingFromTheAllowance) {
  service(1);
  const auto user = make_user(9007);
  EXPECT_EQ(code_of(request(user, "")), "validation_failed");
  EXPECT_EQ(code_of(request(user, "Hi", "mp3")), "validation_failed");
  EXPECT_EQ(engine_.calls, 0);
  EXPECT_EQ(code_of(request(user)), "");
}

INSTANTIATE_TEST_SUITE_P(Engines, TtsServiceTest, ::testing::Values(Engine::kSqlite, Engine::kPostgres),
                         [](const ::testing::TestParamInfo<Engine>& param) {
                           return testing::engine_name(param.param);
                         });

}  // namespace
}  // namespace evolveai::services
