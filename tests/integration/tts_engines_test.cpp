// The speech engines against their real dependencies: libespeak-ng with Debian's data, the
// OGG/Opus output checked by independent tools (opusinfo, opusdec from opus-tools), and the cloud
// engine against a fake Google Text-to-Speech server on loopback.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>

#include <array>
#include <cstdio>
#include <fstream>
#include <future>
#include <regex>
#include <sstream>

#include "core/errors.hpp"
#include "fakes/fake_google_tts.hpp"
#include "net/circuit_breaker.hpp"
#include "net/http_client.hpp"
#include "obs/logger.hpp"
#include "obs/metrics.hpp"
#include "support/prometheus_parser.hpp"
#include "support/test_app.hpp"
#include "tts/audio_encoding.hpp"
#include "tts/espeak_engine.hpp"
#include "tts/fallback_tts_engine.hpp"
#include "tts/google_tts_engine.hpp"

namespace evolveai {
namespace {

using namespace std::chrono_literals;
using testing::FakeGoogleTts;

constexpr std::string_view kEnglishText = "The quick brown fox jumps over the lazy dog. Voice messages work offline.";
constexpr std::string_view kRussianText = "Съешь же ещё этих мягких французских булок, да выпей чаю.";

struct ToolResult {
  int exit_code = -1;
  std::string output;
};

/// Runs a shell command and collects what it printed (stdout and stderr).
ToolResult run_tool(const std::string& command) {
  ToolResult result;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) {
    return result;
  }
  std::array<char, 4096> buffer{};
  std::size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) {
    result.output.append(buffer.data(), n);
  }
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

void write_file(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

tts::VoiceOptions voice(std::string language) {
  tts::VoiceOptions options;
  options.language = std::move(language);
  return options;
}

/// Calls run on the fixture's io_context: it must outlive each call's completion, which the
/// engine's thread hands back to it (a context destroyed right after its last handler, as
/// run_sync's is, races with that hand-over).
class EspeakEngineTest : public ::testing::Test {
 protected:
  const std::string english_text_{kEnglishText};
  const std::string russian_text_{kRussianText};

  tts::Pcm synthesize(tts::TtsEngine& engine, const std::string& text, const tts::VoiceOptions& options) {
    io_.restart();
    auto future = boost::asio::co_spawn(io_, engine.synthesize(text, options), boost::asio::use_future);
    io_.run();
    return future.get();
  }

  boost::asio::io_context io_;
  obs::MetricsRegistry metrics_;
};

TEST_F(EspeakEngineTest, EnglishAndRussianBothSynthesise) {
  tts::EspeakEngine engine({}, metrics_);
  const tts::Pcm english = synthesize(engine, english_text_, voice("en"));
  const tts::Pcm russian = synthesize(engine, russian_text_, voice("ru"));
  for (const auto* pcm : {&english, &russian}) {
    EXPECT_EQ(pcm->engine, "espeak");
    EXPECT_EQ(pcm->sample_rate, engine.sample_rate());
    // A dozen words at the normal rate of 175 per minute: a few seconds of speech, not silence.
    EXPECT_GT(pcm->seconds(), 2.0);
    EXPECT_LT(pcm->seconds(), 12.0);
    const auto loudest = std::max_element(pcm->samples.begin(), pcm->samples.end());
    EXPECT_GT(*loudest, 1000);
  }
  // Russian text read by the Russian voice is not the English voice spelling letters.
  tts::Pcm spelled = synthesize(engine, russian_text_, voice("en"));
  EXPECT_NE(spelled.samples, russian.samples);
}

TEST_F(EspeakEngineTest, RateAndVoiceKindChangeTheSpeech) {
  tts::EspeakEngine engine({}, metrics_);
  auto options = voice("en");
  const double normal = synthesize(engine, english_text_, options).seconds();
  options.rate = 350;
  const double fast = synthesize(engine, english_text_, options).seconds();
  EXPECT_LT(fast, normal * 0.75);
  options.rate = 175;
  options.voice = tts::VoiceKind::kFemale;
  const auto female = synthesize(engine, english_text_, options);
  options.voice = tts::VoiceKind::kMale;
  EXPECT_NE(female.samples, synthesize(engine, english_text_, options).samples);
}

TEST_F(EspeakEngineTest, OggOpusPassesOpusinfoAndOpusdecWithTheExpectedDuration) {
  tts::EspeakEngine engine({}, metrics_);
  testing::TempDir dir;
  for (const auto& [text, language] : {std::pair{english_text_, "en"}, std::pair{russian_text_, "ru"}}) {
    const tts::Pcm pcm = synthesize(engine, text, voice(language));
    const auto ogg_path = dir.path() / (std::string(language) + ".ogg");
    const auto wav_path = dir.path() / (std::string(language) + ".decoded.wav");
    write_file(ogg_path, tts::encode_ogg_opus(pcm));

    const auto info = run_tool("opusinfo " + ogg_path.string());
    ASSERT_EQ(info.exit_code, 0) << info.output;
    EXPECT_EQ(info.output.find("WARNING"), std::string::npos) << info.output;
    EXPECT_EQ(info.output.find("ERROR"), std::string::npos) << info.output;
    std::smatch length;
    ASSERT_TRUE(std::regex_search(info.output, length, std::regex(R"(Playback length: (\d+)m:([\d.]+)s)")))
        << info.output;
    const double info_seconds = std::stod(length[1].str()) * 60 + std::stod(length[2].str());
    EXPECT_NEAR(info_seconds, pcm.seconds(), pcm.seconds() * 0.10) << info.output;

    const auto decode = run_tool("opusdec --quiet " + ogg_path.string() + " " + wav_path.string());
    ASSERT_EQ(decode.exit_code, 0) << decode.output;
    const auto decoded = tts::decode_wav(read_file(wav_path));
    ASSERT_TRUE(decoded) << "opusdec wrote no readable WAV";
    EXPECT_NEAR(decoded->seconds(), pcm.seconds(), pcm.seconds() * 0.10);
  }
}

TEST_F(EspeakEngineTest, WavOutputHasAValidHeader) {
  tts::EspeakEngine engine({}, metrics_);
  const tts::Pcm pcm = synthesize(engine, "Hello.", voice("en"));
  testing::TempDir dir;
  const auto path = dir.path() / "hello.wav";
  write_file(path, tts::encode_wav(pcm));
  const auto decoded = tts::decode_wav(read_file(path));
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->samples.size(), pcm.samples.size());
  EXPECT_EQ(decoded->sample_rate, pcm.sample_rate);
  // opusinfo must refuse a WAV file: the check above is not one that anything passes.
  EXPECT_NE(run_tool("opusinfo " + path.string()).exit_code, 0);
}

TEST_F(EspeakEngineTest, AFullQueueRefusesWith503InsteadOfPilingUp) {
  tts::EspeakOptions options;
  options.queue_size = 1;
  tts::EspeakEngine engine(options, metrics_);
  // One thread runs the calls: all three start before the first can finish.
  std::vector<std::future<tts::Pcm>> calls;
  const auto english = voice("en");
  for (int i = 0; i < 3; ++i) {
    calls.push_back(boost::asio::co_spawn(io_, engine.synthesize(english_text_, english), boost::asio::use_future));
  }
  io_.run();
  int served = 0;
  int refused = 0;
  for (auto& call : calls) {
    try {
      EXPECT_FALSE(call.get().samples.empty());
      ++served;
    } catch (const core::Error& error) {
      EXPECT_EQ(error.code(), "service_unavailable");
      ++refused;
    }
  }
  EXPECT_EQ(served, 1);
  EXPECT_EQ(refused, 2);
  EXPECT_EQ(engine.pending(), 0U);
  const auto parsed = testing::parse_prometheus_text(metrics_.render());
  EXPECT_EQ(parsed.value("evolveai_tts_queue_rejections_total", {{"engine", "espeak"}}), 2.0);
}

TEST_F(EspeakEngineTest, TwoEnginesAliveAtOnceShareTheLibrarySafely) {
  tts::EspeakEngine first({}, metrics_);
  obs::MetricsRegistry other_metrics;
  auto second = std::make_unique<tts::EspeakEngine>(tts::EspeakOptions{}, other_metrics);
  const auto english = voice("en");
  const auto russian = voice("ru");
  std::vector<std::future<tts::Pcm>> calls;
  for (int i = 0; i < 3; ++i) {
    calls.push_back(boost::asio::co_spawn(io_, first.synthesize(english_text_, english), boost::asio::use_future));
    calls.push_back(boost::asio::co_spawn(io_, second->synthesize(russian_text_, russian), boost::asio::use_future));
  }
  io_.run();
  // Interleaved calls of two engines each get whole, sensible speech of their own text.
  const double english_seconds = synthesize(first, english_text_, english).seconds();
  const double russian_seconds = synthesize(first, russian_text_, russian).seconds();
  for (std::size_t i = 0; i < calls.size(); ++i) {
    const double expected = i % 2 == 0 ? english_seconds : russian_seconds;
    EXPECT_NEAR(calls[i].get().seconds(), expected, expected * 0.05) << "call " << i;
  }
  second.reset();  // one engine leaves: the library stays usable for the other
  EXPECT_NEAR(synthesize(first, english_text_, english).seconds(), english_seconds, english_seconds * 0.05);
}

/// The cloud engine against the fake server. Calls run on the fixture's io_context, which
/// outlives the engines' HTTP clients (their pooled sockets belong to it).
class GoogleTtsTest : public ::testing::Test {
 protected:
  template <typename T>
  T run(Task<T> task) {
    io_.restart();
    auto future = boost::asio::co_spawn(io_, std::move(task), boost::asio::use_future);
    io_.run();
    return future.get();
  }

  std::unique_ptr<tts::GoogleTtsEngine> engine(unsigned attempts, net::CircuitBreaker* breaker = nullptr,
                                               std::chrono::milliseconds timeout = 5s) {
    tts::GoogleTtsOptions options;
    options.base_url = fake_.base_url();
    options.api_key = "fake-tts-key";
    options.retry.max_attempts = attempts;
    options.breaker = breaker;
    options.sleeper = [](std::chrono::nanoseconds) -> Task<void> { co_return; };
    net::HttpClientOptions client;
    client.total_timeout = timeout;
    client.first_byte_timeout = timeout;
    return std::make_unique<tts::GoogleTtsEngine>(std::move(options), std::make_shared<net::HttpClient>(client));
  }

  boost::asio::io_context io_;
  FakeGoogleTts fake_;
  obs::MetricsRegistry metrics_;
  std::ostringstream log_;
  obs::Logger logger_{obs::LogLevel::kWarn, obs::Logger::Format::kJson, log_};
};

TEST_F(GoogleTtsTest, SpeaksTheRealWireFormat) {
  auto google = engine(1);
  const tts::Pcm pcm = run(google->synthesize("Привет", voice("ru")));
  EXPECT_EQ(pcm.engine, "google");
  EXPECT_EQ(pcm.sample_rate, 24000);
  // The fake speaks 60 ms per byte: "Привет" is 12 bytes.
  EXPECT_NEAR(pcm.seconds(), 0.72, 0.01);
  const auto requests = fake_.requests();
  ASSERT_EQ(requests.size(), 1U);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].path, "/v1/text:synthesize");
  EXPECT_EQ(requests[0].header("x-goog-api-key"), "fake-tts-key");
  const auto body = boost::json::parse(requests[0].body);
  EXPECT_EQ(body.at("voice").at("languageCode").as_string(), "ru-RU");
  EXPECT_EQ(body.at("audioConfig").at("audioEncoding").as_string(), "LINEAR16");
}

TEST_F(GoogleTtsTest, ServerErrorsAreRetriedAndRefusalsAreNot) {
  fake_.enqueue(FakeGoogleTts::error(503, "UNAVAILABLE", "try later"));
  fake_.enqueue(FakeGoogleTts::error(500, "INTERNAL", "oops"));
  auto google = engine(3);
  EXPECT_FALSE(run(google->synthesize("Hi", voice("en"))).samples.empty());
  EXPECT_EQ(fake_.request_count(), 3U);

  fake_.enqueue(FakeGoogleTts::error(400, "INVALID_ARGUMENT", "bad voice"));
  try {
    (void)run(google->synthesize("Hi", voice("en")));
    FAIL() << "a 400 must fail";
  } catch (const tts::TtsError& error) {
    EXPECT_EQ(error.failure(), tts::TtsFailure::kRejected);
  }
  EXPECT_EQ(fake_.request_count(), 4U);
}

TEST_F(GoogleTtsTest, AStalledServerTimesOut) {
  fake_.set_mode(FakeGoogleTts::Mode::kStall);
  auto google = engine(1, nullptr, 300ms);
  try {
    (void)run(google->synthesize("Hi", voice("en")));
    FAIL() << "a stalled call must time out";
  } catch (const tts::TtsError& error) {
    EXPECT_EQ(error.failure(), tts::TtsFailure::kTimeout);
  }
}

TEST_F(GoogleTtsTest, FailingCloudIsServedByEspeakAndTheBreakerStopsCallingIt) {
  net::BreakerSettings settings;
  settings.failure_threshold = 2;
  settings.open_duration = 1h;
  net::CircuitBreaker breaker("tts_google", settings, metrics_, logger_);
  auto google = engine(1, &breaker);
  tts::EspeakEngine espeak({}, metrics_);
  tts::FallbackTtsEngine fallback(*google, espeak, metrics_, logger_);

  EXPECT_EQ(run(fallback.synthesize("Hello", voice("en"))).engine, "google");
  fake_.set_mode(FakeGoogleTts::Mode::kServerError);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(run(fallback.synthesize("Hello", voice("en"))).engine, "espeak");
  }
  // Two failures opened the breaker: the next two never reached the server.
  EXPECT_EQ(fake_.request_count(), 3U);
  EXPECT_EQ(breaker.state(), net::BreakerState::kOpen);
  const auto parsed = testing::parse_prometheus_text(metrics_.render());
  EXPECT_EQ(parsed.value("evolveai_circuit_breaker_state", {{"name", "tts_google"}}), 1.0);
  EXPECT_EQ(parsed.value("evolveai_tts_fallbacks_total", {{"from", "google"}, {"reason", "failed"}}), 2.0);
  EXPECT_EQ(parsed.value("evolveai_tts_fallbacks_total", {{"from", "google"}, {"reason", "breaker_open"}}), 2.0);
  EXPECT_NE(log_.str().find("tts_fallback"), std::string::npos);
}

}  // namespace
}  // namespace evolveai
