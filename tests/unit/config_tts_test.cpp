#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "app/config.hpp"
#include "app/config_loader.hpp"
#include "support/test_app.hpp"

namespace evolveai::app {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

LoadResult load_env(Environment environment) {
  return load_config({std::nullopt, std::move(environment), std::nullopt});
}

TEST(ConfigTts, DefaultsSpeakLocallyWithTheDocumentedLimits) {
  const Config config = load_env({}).config;
  EXPECT_EQ(config.tts.engine, "espeak");
  EXPECT_EQ(config.tts.free_daily, 5);
  EXPECT_EQ(config.tts.max_chars, 1000);
  EXPECT_EQ(config.tts.cache_bytes, std::size_t{32} * 1024 * 1024);
  EXPECT_EQ(config.rate_limits.tts_per_min, 10);
}

TEST(ConfigTts, TheCloudEngineNeedsAnApiKeyWhichIsASecret) {
  const auto missing = load_env({{"EVOLVEAI_TTS__ENGINE", "google"}});
  EXPECT_THAT(missing.errors, ::testing::ElementsAre(HasSubstr("tts.api_key: required when tts.engine is 'google'")));

  testing::TempDir dir;
  const auto key_file = dir.path() / "tts_key";
  std::ofstream(key_file) << "cloud-secret\n";
  const auto from_file =
      load_env({{"EVOLVEAI_TTS__ENGINE", "google"}, {"EVOLVEAI_TTS__API_KEY_FILE", key_file.string()}});
  ASSERT_THAT(from_file.errors, IsEmpty());
  EXPECT_EQ(from_file.config.tts.api_key, "cloud-secret");
  EXPECT_THAT(render_effective(from_file.config), ::testing::Not(HasSubstr("cloud-secret")));
}

TEST(ConfigTts, ValuesOutOfRangeAreRefusedNamingTheKey) {
  const auto result = load_env({{"EVOLVEAI_TTS__RATE", "1000"},
                                {"EVOLVEAI_TTS__QUEUE_SIZE", "0"},
                                {"EVOLVEAI_TTS__ENGINE", "polly"},
                                {"EVOLVEAI_TTS__CACHE_BYTES", "64MiB"}});
  EXPECT_THAT(result.errors, ::testing::UnorderedElementsAre(HasSubstr("tts.rate"), HasSubstr("tts.queue_size"),
                                                             HasSubstr("tts.engine")));
  EXPECT_EQ(result.config.tts.cache_bytes, std::size_t{64} * 1024 * 1024);
}

}  // namespace
}  // namespace evolveai::app
