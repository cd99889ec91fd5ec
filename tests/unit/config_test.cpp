#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "app/config.hpp"
#include "app/config_loader.hpp"

namespace {

namespace app = evolveai::app;
namespace fs = std::filesystem;
using std::chrono::milliseconds;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;

/// A private directory removed with everything in it when the test ends.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "evolveai-config-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw std::runtime_error("mkdtemp failed");
    }
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  [[nodiscard]] const fs::path& path() const { return path_; }

  /// Writes `content` to `name` inside the directory and returns its path.
  fs::path write(const std::string& name, const std::string& content) const {
    fs::path file = path_ / name;
    std::ofstream(file, std::ios::binary) << content;
    return file;
  }

 private:
  fs::path path_;
};

app::LoadResult load_toml(const TempDir& dir, const std::string& toml, app::Environment environment = {}) {
  return app::load_config({dir.write("evolveai.toml", toml), std::move(environment), std::nullopt});
}

app::LoadResult load_env(app::Environment environment) {
  return app::load_config({std::nullopt, std::move(environment), std::nullopt});
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

unsigned expected_threads() {
  return std::max(1U, std::thread::hardware_concurrency());
}

/// A JWT secret long enough to be accepted.
std::string long_secret() {
  return std::string(40, 'k');
}

TEST(Config, DefaultsWithNoSources) {
  const auto result = app::load_config({});

  ASSERT_THAT(result.errors, IsEmpty());
  EXPECT_FALSE(result.file.has_value());
  const app::Config& config = result.config;
  EXPECT_EQ(config.server.host, "127.0.0.1");
  EXPECT_EQ(config.server.port, 8080);
  EXPECT_EQ(config.server.threads, expected_threads());
  EXPECT_EQ(config.server.data_dir, "./data");
  EXPECT_EQ(config.server.chat_body_limit, 14U * 1024 * 1024);
  EXPECT_EQ(config.server.stream_timeout, std::chrono::minutes(10));
  EXPECT_EQ(config.log.level, "info");
  EXPECT_EQ(config.database.url, "sqlite://./data/evolveai.db");
  EXPECT_EQ(config.database.slow_query_threshold, milliseconds(200));
  EXPECT_TRUE(config.database.migrate_on_start);
  EXPECT_EQ(config.redis.url, "");
  EXPECT_EQ(config.auth.jwt_secret, "");
  EXPECT_EQ(config.auth.init_data_max_age, std::chrono::hours(24));
  EXPECT_EQ(config.telegram.mode, "polling");
  EXPECT_EQ(config.telegram.api_base_url, "https://api.telegram.org");
  EXPECT_EQ(config.llm.provider, "");
  EXPECT_THAT(config.llm.fallback_models, IsEmpty());
  EXPECT_EQ(config.tts.engine, "espeak");
  EXPECT_EQ(config.limits.free_daily_messages, 50);
  EXPECT_EQ(config.limits.image_max_bytes, 10U * 1024 * 1024);
  EXPECT_EQ(config.rate_limits.api_per_min, 120);
  EXPECT_EQ(config.backup.dir, "./data/backups");
  EXPECT_EQ(config.backup.retention_days, 7);
}

TEST(Config, RolesDefaultToAllAndComeFromACommaList) {
  EXPECT_THAT(app::load_config({}).config.server.roles, ElementsAre("api", "bot", "worker"));
  const auto result = load_env({{"EVOLVEAI_SERVER__ROLES", "bot,worker"}});
  ASSERT_TRUE(result.ok()) << result.errors.front();
  EXPECT_THAT(result.config.server.roles, ElementsAre("bot", "worker"));
}

TEST(Config, UnknownOrNoRolesAreRefused) {
  const auto unknown = load_env({{"EVOLVEAI_SERVER__ROLES", "api,cron"}});
  ASSERT_EQ(unknown.errors.size(), 1U);
  EXPECT_THAT(unknown.errors[0], HasSubstr("server.roles: unknown role 'cron'"));
  TempDir dir;
  const auto none = load_toml(dir, "[server]\nroles = []\n");
  ASSERT_EQ(none.errors.size(), 1U);
  EXPECT_THAT(none.errors[0], HasSubstr("server.roles: name at least one"));
}

TEST(Config, DataDirRelativeDefaultsFollowDataDir) {
  const auto result = load_env({{"EVOLVEAI_SERVER__DATA_DIR", "/srv/evolveai"}});

  ASSERT_THAT(result.errors, IsEmpty());
  EXPECT_EQ(result.config.database.url, "sqlite:///srv/evolveai/evolveai.db");
  EXPECT_EQ(result.config.backup.dir, "/srv/evolveai/backups");
}

TEST(Config, ExplicitDatabaseUrlAndBackupDirAreKept) {
  const auto result =
      load_env({{"EVOLVEAI_DATABASE__URL", "postgresql://app@db/evolveai"}, {"EVOLVEAI_BACKUP__DIR", "/backups"}});

  ASSERT_THAT(result.errors, IsEmpty());
  EXPECT_EQ(result.config.database.url, "postgresql://app@db/evolveai");
  EXPECT_EQ(result.config.backup.dir, "/backups");
}

TEST(Config, ExplicitThreadCountIsKept) {
  const auto result = load_env({{"EVOLVEAI_SERVER__THREADS", "3"}});

  ASSERT_THAT(result.errors, IsEmpty());
  EXPECT_EQ(result.config.server.threads, 3U);
}

TEST(Config, FileOverridesDefaults) {
  const TempDir dir;
  const auto result = load_toml(dir,
                                "[server]\nport = 9000\nbody_limit = \"1MiB\"\nidle_timeout = 5\n"
                                "[llm]\nfallback_models = [\"a\", \"b\"]\n"
                                "[database]\nmigrate_on_start = false\n");

  ASSERT_THAT(result.errors, IsEmpty());
  EXPECT_EQ(result.file, dir.path() / "evolveai.toml");
  EXPECT_EQ(result.config.server.port, 9000);
  EXPECT_EQ(result.config.server.body_limit, 1024U * 1024);
  EXPECT_EQ(result.config.server.idle_timeout, std::chrono::seconds(5));
  EXPECT_THAT(result.config.llm.fallback_models, ElementsAre("a", "b"));
  EXPECT_FALSE(result.config.database.migrate_on_start);
}

TEST(Config, PrecedenceIsFileThenEnvThenSecretFile) {
  const TempDir dir;
  const std::string toml = "[telegram]\nbot_token = \"from-file\"\n";
  const fs::path secret = dir.write("token", "from-secret-file\n");

  EXPECT_EQ(load_toml(dir, toml).config.telegram.bot_token, "from-file");
  EXPECT_EQ(load_toml(dir, toml, {{"EVOLVEAI_TELEGRAM__BOT_TOKEN", "from-env"}}).config.telegram.bot_token, "from-env");
  // The _FILE variable wins whichever order the variables come in.
  const auto result =
      load_toml(dir, toml,
                {{"EVOLVEAI_TELEGRAM__BOT_TOKEN_FILE", secret.string()}, {"EVOLVEAI_TELEGRAM__BOT_TOKEN", "from-env"}});
  ASSERT_THAT(result.errors, IsEmpty());
  EXPECT_EQ(result.config.telegram.bot_token, "from-secret-file");
}

TEST(Config, EnvOverridesFile) {
  const TempDir dir;
  const auto result = load_toml(dir, "[server]\nport = 9000\n", {{"EVOLVEAI_SERVER__PORT", "9100"}});

  ASSERT_THAT(result.errors, IsEmpty());
  EXPECT_EQ(result.config.server.port, 9100);
}

TEST(Config, VariablesWithoutPrefixAreIgnored) {
  const auto result = load_env({{"PATH", "/usr/bin"}, {"SERVER__PORT", "1"}, {"evolveai_server__port", "1"}});

  ASSERT_THAT(result.errors, IsEmpty());
  EXPECT_EQ(result.config.server.port, 8080);
}

TEST(Config, FallbackFileIsReadOnlyWhenPresent) {
  const TempDir dir;
  const auto missing = app::load_config({std::nullopt, {}, dir.path() / "absent.toml"});
  EXPECT_THAT(missing.errors, IsEmpty());
  EXPECT_FALSE(missing.file.has_value());

  const fs::path present = dir.write("present.toml", "[server]\nport = 9001\n");
  const auto found = app::load_config({std::nullopt, {}, present});
  ASSERT_THAT(found.errors, IsEmpty());
  EXPECT_EQ(found.config.server.port, 9001);
  EXPECT_EQ(found.file, present);
}

TEST(Config, GivenFileThatDoesNotExistIsAnError) {
  const TempDir dir;
  const fs::path missing = dir.path() / "missing.toml";

  const auto result = app::load_config({missing, {}, std::nullopt});

  EXPECT_THAT(result.errors, ElementsAre(AllOf(HasSubstr(missing.string()), HasSubstr("does not exist"))));
}

TEST(Config, UnknownFileKeyIsReportedWithSuggestion) {
  const TempDir dir;
  const auto result = load_toml(dir, "[server]\nprot = 9000\n");

  const std::string file = (dir.path() / "evolveai.toml").string();
  EXPECT_THAT(result.errors, ElementsAre(AllOf(HasSubstr("unknown key 'server.prot' in " + file + ":2:1"),
                                               HasSubstr("did you mean 'server.port'?"))));
}

TEST(Config, UnknownKeyOutsideAnySectionIsSuggestedItsSection) {
  const TempDir dir;
  const auto result = load_toml(dir, "retention_days = 3\n[srever]\nhost = \"::\"\n");

  ASSERT_THAT(result.errors, SizeIs(2));
  EXPECT_THAT(result.errors[0], HasSubstr("unknown key 'retention_days'"));
  EXPECT_THAT(result.errors[0], HasSubstr("did you mean 'backup.retention_days'?"));
  EXPECT_THAT(result.errors[1], HasSubstr("unknown key 'srever.host'"));
  EXPECT_THAT(result.errors[1], HasSubstr("did you mean 'server.host'?"));
}

TEST(Config, UnknownKeyFarFromEveryKeyHasNoSuggestion) {
  const TempDir dir;
  const auto result = load_toml(dir, "[server]\ncompletely_different = 1\n");

  ASSERT_THAT(result.errors, SizeIs(1));
  EXPECT_THAT(result.errors[0], HasSubstr("unknown key 'server.completely_different'"));
  EXPECT_THAT(result.errors[0], Not(HasSubstr("did you mean")));
}

TEST(Config, UnknownEnvironmentVariableIsReported) {
  const auto result = load_env({{"EVOLVEAI_SERVER__PROT", "9000"}, {"EVOLVEAI_NOTHING_LIKE_IT", "x"}});

  ASSERT_THAT(result.errors, SizeIs(2));
  EXPECT_THAT(result.errors[0], HasSubstr("unknown environment variable EVOLVEAI_SERVER__PROT"));
  EXPECT_THAT(result.errors[0], HasSubstr("did you mean EVOLVEAI_SERVER__PORT?"));
  EXPECT_THAT(result.errors[1], HasSubstr("unknown environment variable EVOLVEAI_NOTHING_LIKE_IT"));
}

TEST(Config, BadPortIsRefusedNamingKeyValueAndRange) {
  const TempDir dir;
  EXPECT_THAT(load_env({{"EVOLVEAI_SERVER__PORT", "70000"}}).errors,
              ElementsAre("server.port: '70000' is not a valid port (1-65535) (from EVOLVEAI_SERVER__PORT)"));
  EXPECT_THAT(load_env({{"EVOLVEAI_SERVER__PORT", "http"}}).errors,
              ElementsAre(HasSubstr("server.port: 'http' is not a valid port (1-65535)")));
  const auto from_file = load_toml(dir, "[server]\nport = 0\n");
  EXPECT_THAT(from_file.errors, ElementsAre(AllOf(HasSubstr("server.port: '0' is not a valid port (1-65535)"),
                                                  HasSubstr("evolveai.toml:2:8"))));
}

TEST(Config, BadDurationIsRefused) {
  EXPECT_THAT(load_env({{"EVOLVEAI_SERVER__IDLE_TIMEOUT", "soon"}}).errors,
              ElementsAre(AllOf(HasSubstr("server.idle_timeout: 'soon' is not a duration"), HasSubstr("30s"),
                                HasSubstr("EVOLVEAI_SERVER__IDLE_TIMEOUT"))));
  EXPECT_THAT(load_env({{"EVOLVEAI_SERVER__IDLE_TIMEOUT", "0s"}}).errors,
              ElementsAre(HasSubstr("server.idle_timeout: '0s' is not a duration between 1ms and")));
  EXPECT_THAT(load_env({{"EVOLVEAI_SERVER__IDLE_TIMEOUT", "-5s"}}).errors, SizeIs(1));
}

TEST(Config, BadSizeIsRefused) {
  EXPECT_THAT(load_env({{"EVOLVEAI_SERVER__BODY_LIMIT", "64KB"}}).errors,
              ElementsAre(AllOf(HasSubstr("server.body_limit: '64KB' is not a size"), HasSubstr("64KiB"))));
  EXPECT_THAT(load_env({{"EVOLVEAI_SERVER__HEADER_LIMIT", "2GiB"}}).errors,
              ElementsAre(HasSubstr("server.header_limit: '2GiB' is not a size between 1KiB and 1MiB")));
}

TEST(Config, BadEnumIsRefusedListingAllowedValues) {
  EXPECT_THAT(load_env({{"EVOLVEAI_LOG__LEVEL", "loud"}}).errors,
              ElementsAre(HasSubstr("log.level: 'loud' is not one of trace, debug, info, warn, error, off")));
  EXPECT_THAT(load_env({{"EVOLVEAI_LLM__PROVIDER", "claude"}}).errors,
              ElementsAre(HasSubstr("llm.provider: 'claude' is not one of \"\", gemini, openai")));
}

TEST(Config, BadBoolIsRefused) {
  EXPECT_THAT(load_env({{"EVOLVEAI_DATABASE__MIGRATE_ON_START", "yes"}}).errors,
              ElementsAre(HasSubstr("database.migrate_on_start: 'yes' is not a boolean (true, false, 1 or 0)")));
}

TEST(Config, BooleansFromEnvironmentAcceptOneAndZero) {
  EXPECT_FALSE(load_env({{"EVOLVEAI_DATABASE__MIGRATE_ON_START", "0"}}).config.database.migrate_on_start);
  EXPECT_TRUE(load_env({{"EVOLVEAI_DATABASE__MIGRATE_ON_START", "1"}}).config.database.migrate_on_start);
  EXPECT_FALSE(load_env({{"EVOLVEAI_DATABASE__MIGRATE_ON_START", "false"}}).config.database.migrate_on_start);
}

TEST(Config, IntegerOutOfRangeIsRefused) {
  EXPECT_THAT(load_env({{"EVOLVEAI_LLM__MAX_RETRIES", "11"}}).errors,
              ElementsAre(HasSubstr("llm.max_retries: '11' is not an integer between 0 and 10")));
  EXPECT_THAT(load_env({{"EVOLVEAI_LLM__MAX_RETRIES", "three"}}).errors,
              ElementsAre(HasSubstr("llm.max_retries: 'three' is not an integer between 0 and 10")));
  EXPECT_THAT(load_env({{"EVOLVEAI_AUTH__BOT_ID", "-1"}}).errors, ElementsAre(HasSubstr("auth.bot_id: '-1'")));
}

TEST(Config, WrongTomlTypeIsRefused) {
  const TempDir dir;
  const auto result = load_toml(dir,
                                "[server]\nport = \"9000\"\nhost = 1\n"
                                "[database]\nmigrate_on_start = \"yes\"\n"
                                "[llm]\nfallback_models = [\"a\", 2]\n"
                                "[auth]\njwt_secret = 12345\n");

  ASSERT_THAT(result.errors, SizeIs(5));
  EXPECT_THAT(result.errors[0], HasSubstr("server.port: expected an integer between 1 and 65535, got string '9000'"));
  EXPECT_THAT(result.errors[1], HasSubstr("server.host: expected a string, got integer '1'"));
  EXPECT_THAT(result.errors[2], HasSubstr("database.migrate_on_start: expected true or false, got string 'yes'"));
  EXPECT_THAT(result.errors[3], HasSubstr("llm.fallback_models: expected an array of strings, item 1 is integer"));
  // A secret's value never appears in a message.
  EXPECT_THAT(result.errors[4], AllOf(HasSubstr("auth.jwt_secret: expected a string"), Not(HasSubstr("12345"))));
}

TEST(Config, ErrorsAreCollectedNotStoppedAtFirst) {
  const TempDir dir;
  const auto result = load_toml(dir, "[server]\nport = 0\nprot = 1\n[log]\nlevel = \"loud\"\n",
                                {{"EVOLVEAI_SERVER__THREADS", "many"}, {"EVOLVEAI_BOGUS", "1"}});

  EXPECT_THAT(result.errors, SizeIs(5));
}

TEST(Config, TomlSyntaxErrorNamesLineAndColumn) {
  const TempDir dir;
  const auto result = load_toml(dir, "[server]\nport = 80\nhost = \n");

  const std::string file = (dir.path() / "evolveai.toml").string();
  ASSERT_THAT(result.errors, SizeIs(1));
  EXPECT_THAT(result.errors[0], HasSubstr(file + ":3:"));
  EXPECT_THAT(result.errors[0], HasSubstr("TOML syntax error"));
}

TEST(Config, DurationAndSizeSyntax) {
  EXPECT_EQ(app::parse_duration("250ms"), milliseconds(250));
  EXPECT_EQ(app::parse_duration("30s"), std::chrono::seconds(30));
  EXPECT_EQ(app::parse_duration("10m"), std::chrono::minutes(10));
  EXPECT_EQ(app::parse_duration("24h"), std::chrono::hours(24));
  EXPECT_EQ(app::parse_duration("7d"), std::chrono::hours(24 * 7));
  EXPECT_EQ(app::parse_duration("45"), std::chrono::seconds(45));
  EXPECT_EQ(app::parse_duration(""), std::nullopt);
  EXPECT_EQ(app::parse_duration("1.5s"), std::nullopt);
  EXPECT_EQ(app::parse_duration("s"), std::nullopt);
  EXPECT_EQ(app::parse_duration("99999999999999999999d"), std::nullopt);

  EXPECT_EQ(app::parse_size("512B"), 512U);
  EXPECT_EQ(app::parse_size("64KiB"), 64U * 1024);
  EXPECT_EQ(app::parse_size("14MiB"), 14U * 1024 * 1024);
  EXPECT_EQ(app::parse_size("1GiB"), 1024U * 1024 * 1024);
  EXPECT_EQ(app::parse_size("4096"), 4096U);
  EXPECT_EQ(app::parse_size("1MB"), std::nullopt);

  EXPECT_EQ(app::format_duration(milliseconds(250)), "250ms");
  EXPECT_EQ(app::format_duration(std::chrono::hours(24)), "24h");
  EXPECT_EQ(app::format_duration(std::chrono::hours(24 * 7)), "7d");
  EXPECT_EQ(app::format_size(std::size_t{14} * 1024 * 1024), "14MiB");
  EXPECT_EQ(app::format_size(1000), "1000B");
}

TEST(Config, ListsFromEnvironmentAreCommaSeparated) {
  const auto result = load_env({{"EVOLVEAI_LLM__FALLBACK_MODELS", "gemini-2.0-flash, gemini-1.5-pro,,"}});

  ASSERT_THAT(result.errors, IsEmpty());
  EXPECT_THAT(result.config.llm.fallback_models, ElementsAre("gemini-2.0-flash", "gemini-1.5-pro"));
}

TEST(Config, UnreadableSecretFileIsReported) {
  const TempDir dir;
  const fs::path missing = dir.path() / "no-such-secret";

  const auto result = load_env({{"EVOLVEAI_LLM__API_KEY_FILE", missing.string()}});

  EXPECT_THAT(result.errors, ElementsAre(AllOf(HasSubstr("llm.api_key: cannot read '" + missing.string() + "'"),
                                               HasSubstr("EVOLVEAI_LLM__API_KEY_FILE"))));
}

TEST(Config, SecretFileForNonSecretKeyIsRefused) {
  const TempDir dir;
  const fs::path file = dir.write("port", "9000\n");

  const auto result = load_env({{"EVOLVEAI_SERVER__PORT_FILE", file.string()}});

  EXPECT_THAT(result.errors,
              ElementsAre(AllOf(HasSubstr("EVOLVEAI_SERVER__PORT_FILE"), HasSubstr("server.port is not a secret"))));
  EXPECT_EQ(result.config.server.port, 8080);
}

TEST(Config, ShortJwtSecretIsRefused) {
  EXPECT_THAT(load_env({{"EVOLVEAI_AUTH__JWT_SECRET", std::string(31, 'x')}}).errors,
              ElementsAre(AllOf(HasSubstr("auth.jwt_secret: must be at least 32 bytes, got 31"),
                                HasSubstr("EVOLVEAI_AUTH__JWT_SECRET"), Not(HasSubstr("xxxx")))));
  EXPECT_THAT(load_env({{"EVOLVEAI_AUTH__JWT_SECRET", std::string(32, 'x')}}).errors, IsEmpty());
}

TEST(Config, WebhookModeRequiresSecretAndPublicUrl) {
  const auto bare = load_env({{"EVOLVEAI_TELEGRAM__MODE", "webhook"}});
  EXPECT_THAT(bare.errors, ElementsAre(HasSubstr("telegram.webhook_secret: required when telegram.mode is 'webhook'"),
                                       HasSubstr("telegram.public_url: required when telegram.mode is 'webhook'")));

  const auto complete = load_env({{"EVOLVEAI_TELEGRAM__MODE", "webhook"},
                                  {"EVOLVEAI_TELEGRAM__WEBHOOK_SECRET", "s3cret"},
                                  {"EVOLVEAI_TELEGRAM__PUBLIC_URL", "https://companion.example"}});
  EXPECT_THAT(complete.errors, IsEmpty());
}

TEST(Config, LlmProviderRequiresModelButNotApiKey) {
  EXPECT_THAT(load_env({{"EVOLVEAI_LLM__PROVIDER", "gemini"}}).errors,
              ElementsAre(HasSubstr("llm.model: required when llm.provider is 'gemini'")));
  EXPECT_THAT(load_env({{"EVOLVEAI_LLM__PROVIDER", "openai"}, {"EVOLVEAI_LLM__MODEL", "llama3"}}).errors, IsEmpty());
}

TEST(Config, RenderEffectiveMasksSecrets) {
  app::Config config;
  config.auth.jwt_secret = long_secret();
  config.telegram.bot_token = "123:bot-token";
  config.llm.api_key = "llm-key";
  config.database.url = "postgresql://app:db-password@db:5432/evolveai";

  const std::string text = app::render_effective(config);

  EXPECT_THAT(text, HasSubstr("jwt_secret = \"***\""));
  EXPECT_THAT(text, HasSubstr("bot_token = \"***\""));
  EXPECT_THAT(text, HasSubstr("webhook_secret = \"\""));
  EXPECT_THAT(text, HasSubstr("url = \"postgresql://app:***@db:5432/evolveai\""));
  EXPECT_THAT(text, Not(HasSubstr(long_secret())));
  EXPECT_THAT(text, Not(HasSubstr("bot-token")));
  EXPECT_THAT(text, Not(HasSubstr("llm-key")));
  EXPECT_THAT(text, Not(HasSubstr("db-password")));
  EXPECT_THAT(text, HasSubstr("[server]\nhost = \"127.0.0.1\"\nport = 8080\n"));
}

TEST(Config, RenderEffectiveParsesBackToTheSameConfig) {
  const TempDir dir;
  auto loaded = load_env({{"EVOLVEAI_SERVER__PORT", "9100"},
                          {"EVOLVEAI_LLM__PROVIDER", "openai"},
                          {"EVOLVEAI_LLM__MODEL", "m \"quoted\"\tmodel"},
                          {"EVOLVEAI_LLM__FALLBACK_MODELS", "x,y"},
                          {"EVOLVEAI_SERVER__IDLE_TIMEOUT", "1500ms"}});
  ASSERT_THAT(loaded.errors, IsEmpty());

  const auto reloaded = load_toml(dir, app::render_effective(loaded.config));

  ASSERT_THAT(reloaded.errors, IsEmpty());
  EXPECT_EQ(reloaded.config, loaded.config);
}

TEST(Config, JwtSecretIsGeneratedPrivateAndReused) {
  const TempDir dir;
  app::Config config;
  config.server.data_dir = (dir.path() / "nested" / "data").string();

  app::ensure_jwt_secret(config);

  const fs::path file = dir.path() / "nested" / "data" / "jwt_secret";
  struct stat info {};
  ASSERT_EQ(::stat(file.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600U);
  EXPECT_GE(config.auth.jwt_secret.size(), app::kMinJwtSecretBytes);
  EXPECT_THAT(read_file(file), HasSubstr(config.auth.jwt_secret));

  app::Config second;
  second.server.data_dir = config.server.data_dir;
  app::ensure_jwt_secret(second);
  EXPECT_EQ(second.auth.jwt_secret, config.auth.jwt_secret);
}

TEST(Config, ConfiguredJwtSecretIsKeptAndNothingWritten) {
  const TempDir dir;
  app::Config config;
  config.server.data_dir = dir.path().string();
  config.auth.jwt_secret = long_secret();

  app::ensure_jwt_secret(config);

  EXPECT_EQ(config.auth.jwt_secret, long_secret());
  EXPECT_FALSE(fs::exists(dir.path() / "jwt_secret"));
}

TEST(Config, GroupReadableJwtSecretFileIsRefused) {
  const TempDir dir;
  const fs::path file = dir.write("jwt_secret", long_secret() + "\n");
  ASSERT_EQ(::chmod(file.c_str(), 0640), 0);
  app::Config config;
  config.server.data_dir = dir.path().string();

  try {
    app::ensure_jwt_secret(config);
    FAIL() << "a group-readable secret file was accepted";
  } catch (const app::ConfigError& error) {
    EXPECT_THAT(error.messages(), ElementsAre(AllOf(HasSubstr(file.string()), HasSubstr("0640"))));
  }
  EXPECT_EQ(config.auth.jwt_secret, "");
}

TEST(Config, TooShortJwtSecretFileIsRefused) {
  const TempDir dir;
  const fs::path file = dir.write("jwt_secret", "short\n");
  ASSERT_EQ(::chmod(file.c_str(), 0600), 0);
  app::Config config;
  config.server.data_dir = dir.path().string();

  EXPECT_THROW(app::ensure_jwt_secret(config), app::ConfigError);
}

TEST(Config, ExampleFileMatchesRenderExample) {
  const fs::path example = fs::path(EVOLVEAI_SOURCE_DIR) / "config" / "evolveai.example.toml";

  EXPECT_EQ(read_file(example), app::render_example())
      << "config/evolveai.example.toml is stale: regenerate it from app::render_example()";
}

TEST(Config, ExampleFileParsesBackToTheDefaults) {
  const fs::path example = fs::path(EVOLVEAI_SOURCE_DIR) / "config" / "evolveai.example.toml";

  const auto from_example = app::load_config({example, {}, std::nullopt});

  ASSERT_THAT(from_example.errors, IsEmpty());
  EXPECT_EQ(from_example.config, app::load_config({}).config);
}

TEST(Config, EveryKeyHasHelpAndExampleEntry) {
  const std::string example = app::render_example();
  for (const auto& key : app::config_keys()) {
    EXPECT_FALSE(key.help.empty()) << key.name;
    const std::string entry = fmt::format("# {}\n", key.help);
    EXPECT_NE(example.find(entry), std::string::npos) << key.name << " has no help line";
    EXPECT_NE(example.find("Environment: " + key.env_var(), example.find(entry)), std::string::npos)
        << key.name << " has no environment line";
    EXPECT_NE(example.find(fmt::format("\n{} = {}\n", key.leaf(), key.default_text())), std::string::npos)
        << key.name << " has no default line";
  }
}

/// A value of the key's type that differs from `value` and is valid for the key.
app::KeyValue another_value(const app::KeyDescriptor& key, const app::KeyValue& value) {
  switch (key.type) {
    case app::KeyType::kBool: return !std::get<bool>(value);
    case app::KeyType::kEnum: return std::string(key.allowed[std::get<std::string>(value) == key.allowed[0] ? 1 : 0]);
    case app::KeyType::kStringList: return std::vector<std::string>{"other"};
    case app::KeyType::kString: return std::get<std::string>(value) + "-other";
    default: {
      const auto number = std::get<std::int64_t>(value);
      return number < key.max ? number + 1 : number - 1;
    }
  }
}

TEST(Config, EachKeyReadsAndWritesOnlyItsOwnField) {
  const app::Config defaults;
  for (const auto& key : app::config_keys()) {
    app::Config changed;
    const app::KeyValue value = another_value(key, key.get(defaults));
    key.set(changed, value);

    EXPECT_EQ(key.get(changed), value) << key.name;
    for (const auto& other : app::config_keys()) {
      if (&other != &key) {
        EXPECT_EQ(other.get(changed), other.get(defaults)) << key.name << " also changed " << other.name;
      }
    }
  }
}

TEST(Config, KeyNamesAreUniqueAndLookedUpByName) {
  for (const auto& key : app::config_keys()) {
    EXPECT_EQ(app::find_config_key(key.name), &key) << key.name;
  }
  EXPECT_EQ(app::find_config_key("server.prot"), nullptr);
}

TEST(Config, EnvironmentFromSplitsAtFirstEquals) {
  const char* const envp[] = {"EVOLVEAI_LLM__MODEL=a=b", "EMPTY=", "BROKEN", nullptr};

  EXPECT_THAT(app::environment_from(envp),
              ElementsAre(std::pair<std::string, std::string>("EVOLVEAI_LLM__MODEL", "a=b"),
                          std::pair<std::string, std::string>("EMPTY", "")));
}

}  // namespace
