#include "app/cli_doctor.hpp"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <array>
#include <filesystem>
#include <iomanip>
#include <memory>
#include <optional>
#include <ostream>
#include <sstream>

#include "ai/gemini/gemini_model.hpp"
#include "ai/openai_compat/openai_model.hpp"
#include "app/store_wiring.hpp"
#include "net/blocking_pool.hpp"
#include "net/deadline.hpp"
#include "net/http_client.hpp"
#include "net/redis_client.hpp"
#include "obs/logger.hpp"
#include "obs/metrics.hpp"
#include "storage/database_size.hpp"
#include "storage/migrations.hpp"
#include "storage/open_store.hpp"
#include "storage/store.hpp"
#include "tts/espeak_engine.hpp"
#include "tts/google_tts_engine.hpp"

namespace evolveai::app {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

/// What the TTS checks ask the engines to say.
constexpr std::string_view kTestPhrase = "EvolveAI doctor check.";
/// How much of an upstream error message a detail quotes.
constexpr std::size_t kMaxQuotedChars = 200;
/// Model ids an OpenAI-compatible list is quoted with when the configured one is missing.
constexpr std::size_t kMaxListedModels = 8;
/// Backups a schedule keeps at most, for the space estimate (a tiny interval would overflow it).
constexpr std::uintmax_t kMaxKeptBackups = 1000;
constexpr int kHttpOk = 200;
constexpr int kHttpUnauthorized = 401;
constexpr int kHttpForbidden = 403;
constexpr int kHttpNotFound = 404;

DoctorCheck ok(std::string name, std::string detail) {
  return DoctorCheck{std::move(name), CheckStatus::kOk, std::move(detail), {}};
}

DoctorCheck warn(std::string name, std::string detail, std::string fix) {
  return DoctorCheck{std::move(name), CheckStatus::kWarn, std::move(detail), std::move(fix)};
}

DoctorCheck fail(std::string name, std::string detail, std::string fix) {
  return DoctorCheck{std::move(name), CheckStatus::kFail, std::move(detail), std::move(fix)};
}

/// "1.5 GiB", "300 KiB", "12 B".
std::string human_bytes(std::uintmax_t bytes) {
  constexpr std::array<const char*, 5> kUnits{"B", "KiB", "MiB", "GiB", "TiB"};
  constexpr double kStep = 1024.0;
  auto value = static_cast<double>(bytes);
  std::size_t unit = 0;
  while (value >= kStep && unit + 1 < kUnits.size()) {
    value /= kStep;
    ++unit;
  }
  std::ostringstream out;
  out << std::fixed << std::setprecision(unit == 0 ? 0 : 1) << value << " " << kUnits.at(unit);
  return out.str();
}

/// The URL with the password of its user info hidden ("postgresql://app:***@db/evolveai").
std::string without_password(std::string url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) {
    return url;
  }
  const auto authority = scheme_end + 3;
  const auto authority_end = std::min(url.find_first_of("/?#", authority), url.size());
  const auto at = url.rfind('@', authority_end);
  if (at == std::string::npos || at < authority) {
    return url;
  }
  const auto colon = url.find(':', authority);
  if (colon == std::string::npos || colon > at) {
    return url;
  }
  return url.replace(colon + 1, at - colon - 1, "***");
}

/// The host (and port) part of a URL, for messages that must not show paths or keys.
std::string host_of(std::string_view url) {
  const auto scheme_end = url.find("://");
  const auto authority = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
  const auto end = std::min(url.find_first_of("/?#", authority), url.size());
  auto host = url.substr(authority, end - authority);
  if (const auto at = host.rfind('@'); at != std::string_view::npos) {
    host = host.substr(at + 1);
  }
  return std::string(host);
}

/// `text` with every occurrence of `secret` replaced by "***".
std::string scrubbed(std::string text, std::string_view secret) {
  if (secret.empty()) {
    return text;
  }
  for (auto at = text.find(secret); at != std::string::npos; at = text.find(secret, at)) {
    text.replace(at, secret.size(), "***");
  }
  return text;
}

/// `text` on one line (engines' messages span several), at most kMaxQuotedChars long.
std::string clipped(std::string text) {
  std::string line;
  for (const char c : text) {
    const bool space = c == '\n' || c == '\r' || c == '\t' || c == ' ';
    if (!space) {
      line += c;
    } else if (!line.empty() && line.back() != ' ') {
      line += ' ';
    }
  }
  while (!line.empty() && line.back() == ' ') {
    line.pop_back();
  }
  text = std::move(line);
  if (text.size() > kMaxQuotedChars) {
    text.resize(kMaxQuotedChars);
    text += "…";
  }
  return text;
}

/// The message of a JSON error body (`{"error":{"message":…}}`, or Telegram's `description`),
/// with `secret` hidden.
std::string upstream_message(std::string_view body, std::string_view secret) {
  boost::system::error_code error;
  const auto value = json::parse(body, error);
  if (error || !value.is_object()) {
    return {};
  }
  const auto& object = value.as_object();
  if (const auto* description = object.if_contains("description"); description && description->is_string()) {
    return clipped(scrubbed(std::string(description->as_string()), secret));
  }
  if (const auto* inner = object.if_contains("error"); inner && inner->is_object()) {
    if (const auto* message = inner->as_object().if_contains("message"); message && message->is_string()) {
      return clipped(scrubbed(std::string(message->as_string()), secret));
    }
  }
  return {};
}

/// "HTTP 404: model not found" (the message only when the body carries one), `secret` hidden.
std::string status_text(const net::HttpResponse& response, std::string_view secret) {
  auto text = "HTTP " + std::to_string(response.status);
  if (auto message = upstream_message(response.body, secret); !message.empty()) {
    text += ": " + message;
  }
  return text;
}

/// The nearest directory at or above `path` that exists (the one a new directory would go in).
fs::path existing_ancestor(fs::path path) {
  path = fs::absolute(path).lexically_normal();
  std::error_code error;
  while (!fs::exists(path, error) && path.has_parent_path() && path != path.parent_path()) {
    path = path.parent_path();
  }
  return path;
}

bool writable(const fs::path& path) {
  return ::access(path.c_str(), W_OK) == 0;
}

/// The checks of one run: a private io_context driven by the calling thread while each awaited
/// step runs (as CommandStore does), the store once the database check opened it, and quiet
/// logs and metrics for the components built on the way.
class Doctor {
 public:
  Doctor(const Config& config, const DoctorOptions& options) : config_(config), options_(options) {}

  std::vector<DoctorCheck> checks() {
    std::vector<DoctorCheck> out;
    out.push_back(check_database());
    out.push_back(check_migrations());
    out.push_back(check_redis());
    out.push_back(check_model());
    out.push_back(check_telegram());
    out.push_back(check_espeak());
    if (config_.tts.engine == "google") {
      out.push_back(check_cloud_tts());
    }
    out.push_back(check_disk());
    return out;
  }

 private:
  template <typename T>
  T run(Task<T> task) {
    auto guard = boost::asio::make_work_guard(io_);
    io_.restart();
    auto future = boost::asio::co_spawn(io_, std::move(task), boost::asio::use_future);
    while (future.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
      io_.run_one_for(kPollInterval);
    }
    return future.get();
  }

  [[nodiscard]] net::HttpClientOptions http_options() const {
    net::HttpClientOptions http;
    http.connect_timeout = options_.timeout;
    http.first_byte_timeout = options_.timeout;
    http.read_timeout = options_.timeout;
    http.total_timeout = options_.timeout;
    http.user_agent = "evolveai-doctor";
    return http;
  }

  /// Sends one request with a client that lives (and dies) inside the call, on io_.
  Task<net::HttpResponse> fetch(net::HttpRequest request) {
    net::HttpClient client(http_options());
    auto call = client.request(std::move(request));
    co_return co_await std::move(call);
  }

  [[nodiscard]] std::string seconds_text() const {
    return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(options_.timeout).count()) + " s";
  }

  DoctorCheck check_database() {
    const auto url = without_password(config_.database.url);
    const auto sqlite_path = storage::sqlite_path_from_url(config_.database.url);
    if (sqlite_path && !fs::exists(*sqlite_path)) {
      database_missing_ = true;
      const auto dir =
          existing_ancestor(sqlite_path->parent_path().empty() ? fs::path(".") : sqlite_path->parent_path());
      if (!writable(dir)) {
        return fail(
            "database",
            "SQLite file " + sqlite_path->string() + " does not exist and " + dir.string() + " is not writable",
            "make " + dir.string() + " writable for the service's user, or set server.data_dir or database.url");
      }
      return ok("database", "SQLite file " + sqlite_path->string() + " does not exist yet; created on first start");
    }
    const auto fix = sqlite_path ? std::string(
                                       "check the file's permissions and that it is a SQLite database "
                                       "(evolveai backup restore recovers one)")
                                 : std::string(
                                       "check database.url (host, port, user, password, database) and that "
                                       "PostgreSQL accepts connections from this host (pg_hba.conf)");
    try {
      store_ = storage::open_store(store_settings(config_, {}), blocking_, io_.get_executor());
      auto ping = net::with_timeout(store_->ping(), options_.timeout);
      if (!run(std::move(ping))) {
        store_.reset();
        return fail("database", std::string("no answer from ") + url + " within " + seconds_text(), fix);
      }
      return ok("database", std::string(store_->dialect()) + " at " + url + " answers");
    } catch (const std::exception& error) {
      store_.reset();
      return fail("database", "cannot use " + url + ": " + clipped(error.what()), fix);
    }
  }

  DoctorCheck check_migrations() {
    const bool on_start = config_.database.migrate_on_start;
    if (database_missing_) {
      const auto count = storage::migrations_for("sqlite").size();
      const auto text = std::to_string(count) + " migrations to apply to the new database";
      if (on_start) {
        return ok("migrations", text + " on first start (database.migrate_on_start)");
      }
      return warn("migrations", text,
                  "run `evolveai migrate up` before `evolveai serve` (database.migrate_on_start is off)");
    }
    if (!store_) {
      return warn("migrations", "not checked: no database connection", "fix the database check first");
    }
    std::vector<storage::MigrationStatus> status;
    try {
      auto task = net::with_timeout(store_->migration_status(), options_.timeout);
      auto result = run(std::move(task));
      if (!result) {
        return fail("migrations", "no answer within " + seconds_text(), "check the database's load and locks");
      }
      status = std::move(*result);
    } catch (const std::exception& error) {
      return fail("migrations", clipped(error.what()), "see `evolveai migrate status`");
    }
    std::vector<std::string> changed;
    std::vector<std::string> unknown;
    std::size_t pending = 0;
    for (const auto& m : status) {
      if (m.state == storage::MigrationState::kChanged) {
        changed.push_back(m.name);
      } else if (m.state == storage::MigrationState::kUnknown) {
        unknown.push_back(m.name);
      } else if (m.state == storage::MigrationState::kPending) {
        ++pending;
      }
    }
    const auto join = [](const std::vector<std::string>& names) {
      std::string out;
      for (const auto& name : names) {
        out += (out.empty() ? "" : ", ") + name;
      }
      return out;
    };
    if (!changed.empty()) {
      return fail("migrations", "changed after they were applied: " + join(changed),
                  "never edit an applied migration: run the release that applied it, or restore a backup; "
                  "`evolveai migrate status` shows the checksums");
    }
    if (!unknown.empty()) {
      return warn("migrations", "applied by a newer release, unknown to this binary: " + join(unknown),
                  "run the newer release on every node (or restore a backup taken before the upgrade)");
    }
    const auto dialect = std::string(store_->dialect());
    if (pending > 0) {
      const auto text = std::to_string(pending) + " of " + std::to_string(status.size()) + " pending (" + dialect + ")";
      if (on_start) {
        return ok("migrations", text + "; applied on next start (database.migrate_on_start)");
      }
      return warn("migrations", text, "run `evolveai migrate up` (database.migrate_on_start is off)");
    }
    return ok("migrations", "all " + std::to_string(status.size()) + " applied (" + dialect + ")");
  }

  DoctorCheck check_redis() {
    if (config_.redis.url.empty()) {
      return ok("redis",
                "not configured: cache and rate limits live in this process (right for one node; "
                "several nodes need a shared redis.url)");
    }
    const auto url = without_password(config_.redis.url);
    const auto fix = std::string(
        "check redis.url (host, port, password, db) and that Redis runs; serve keeps "
        "working without it, with rate limits per node");
    try {
      auto ping = [this]() -> Task<std::optional<net::RedisReply>> {
        net::RedisClientOptions options;
        options.url = config_.redis.url;
        options.pool_size = 1;
        options.connect_timeout = options_.timeout;
        options.command_timeout = options_.timeout;
        auto executor = co_await boost::asio::this_coro::executor;
        net::RedisClient client(executor, options, logger_);
        net::RedisCommand command{"PING"};
        auto call = net::with_timeout(client.command(std::move(command)), options_.timeout);
        auto reply = co_await std::move(call);
        client.close();
        co_return reply;
      };
      const auto reply = run(ping());
      if (!reply) {
        return fail("redis", "no answer from " + url + " within " + seconds_text(), fix);
      }
      if (reply->type != net::RedisReply::Type::kStatus || reply->text != "PONG") {
        return fail("redis", url + " answered PING with something other than PONG", fix);
      }
      return ok("redis", "PONG from " + url);
    } catch (const std::exception& error) {
      return fail("redis", "cannot use " + url + ": " + clipped(error.what()), fix);
    }
  }

  DoctorCheck check_model() {
    const auto& llm = config_.llm;
    if (llm.provider.empty()) {
      return warn("model", "no model provider configured: chat answers 503 llm_not_configured, the rest works",
                  "set llm.provider (gemini or openai), llm.model and llm.api_key (better "
                  "EVOLVEAI_LLM__API_KEY_FILE); README, \"Chat and models\"");
    }
    const bool gemini = llm.provider == "gemini";
    std::string base = gemini ? ai::gemini::GeminiSettings{}.base_url : ai::openai_compat::OpenAiSettings{}.base_url;
    std::string model = gemini ? ai::gemini::GeminiSettings{}.model : ai::openai_compat::OpenAiSettings{}.model;
    if (!llm.base_url.empty()) {
      base = llm.base_url;
    }
    if (!llm.model.empty()) {
      model = llm.model;
    }
    while (!base.empty() && base.back() == '/') {
      base.pop_back();
    }
    net::HttpRequest request;
    if (gemini) {
      request.url = base + "/models/" + model;
      if (!llm.api_key.empty()) {
        request.headers.set("x-goog-api-key", llm.api_key);
      }
    } else {
      request.url = base + "/models";
      if (!llm.api_key.empty()) {
        request.headers.set("Authorization", "Bearer " + llm.api_key);
      }
    }
    const auto where = llm.provider + " at " + host_of(base);
    const auto reach_fix = std::string("check llm.base_url and that this host can reach it (firewall, proxy, DNS)");
    net::HttpResponse response;
    try {
      response = run(fetch(std::move(request)));
    } catch (const std::exception& error) {
      return fail("model", "cannot reach " + where + ": " + clipped(scrubbed(error.what(), llm.api_key)), reach_fix);
    }
    if (response.status == kHttpUnauthorized || response.status == kHttpForbidden) {
      return fail("model", where + " refused the API key (" + status_text(response, llm.api_key) + ")",
                  "check llm.api_key (or the file EVOLVEAI_LLM__API_KEY_FILE names)");
    }
    if (response.status == kHttpNotFound && gemini) {
      return fail("model", where + " does not know model '" + model + "' (HTTP 404)",
                  "check llm.model against the provider's model list");
    }
    if (response.status != kHttpOk) {
      return fail("model", where + " answered " + status_text(response, llm.api_key), reach_fix);
    }
    if (gemini) {
      return ok("model", "gemini model '" + model + "' found at " + host_of(base));
    }
    return openai_model_listed(response, where, model);
  }

  static DoctorCheck openai_model_listed(const net::HttpResponse& response, const std::string& where,
                                         const std::string& model) {
    std::vector<std::string> ids;
    boost::system::error_code error;
    const auto value = json::parse(response.body, error);
    if (!error && value.is_object()) {
      if (const auto* data = value.as_object().if_contains("data"); data && data->is_array()) {
        for (const auto& entry : data->as_array()) {
          const auto* id = entry.is_object() ? entry.as_object().if_contains("id") : nullptr;
          if (id && id->is_string()) {
            ids.emplace_back(id->as_string());
          }
        }
      }
    }
    if (std::find(ids.begin(), ids.end(), model) != ids.end()) {
      return ok("model", "model '" + model + "' listed by " + where);
    }
    std::string offered;
    for (std::size_t i = 0; i < ids.size() && i < kMaxListedModels; ++i) {
      offered += (i == 0 ? "" : ", ") + ids[i];
    }
    if (ids.size() > kMaxListedModels) {
      offered += ", …";
    }
    return warn("model", where + " answers but does not list model '" + model + "'",
                "check llm.model" + (offered.empty() ? std::string() : "; it lists: " + offered));
  }

  DoctorCheck check_telegram() {
    const auto& telegram = config_.telegram;
    if (telegram.bot_token.empty()) {
      return warn("telegram", "no bot token: the bot is off and Telegram sign-in is refused",
                  "create a bot with @BotFather and set telegram.bot_token (better "
                  "EVOLVEAI_TELEGRAM__BOT_TOKEN_FILE)");
    }
    auto base = telegram.api_base_url;
    while (!base.empty() && base.back() == '/') {
      base.pop_back();
    }
    net::HttpRequest request;
    request.url = base + "/bot" + telegram.bot_token + "/getMe";
    const auto host = host_of(base);
    const auto& token = telegram.bot_token;
    net::HttpResponse response;
    try {
      response = run(fetch(std::move(request)));
    } catch (const std::exception& error) {
      return fail("telegram", "cannot reach " + host + ": " + clipped(scrubbed(error.what(), token)),
                  "check telegram.api_base_url and that this host can reach it (firewall, proxy, DNS)");
    }
    if (response.status == kHttpUnauthorized || response.status == kHttpNotFound) {
      return fail("telegram", "Telegram refused the bot token (" + status_text(response, token) + ")",
                  "check telegram.bot_token; @BotFather's /token shows the bot's current token");
    }
    boost::system::error_code error;
    const auto value = json::parse(response.body, error);
    const auto* object = !error && value.is_object() ? &value.as_object() : nullptr;
    const auto* result = object ? object->if_contains("result") : nullptr;
    const auto* okay = object ? object->if_contains("ok") : nullptr;
    if (response.status != kHttpOk || !okay || !okay->is_bool() || !okay->as_bool() || !result ||
        !result->is_object()) {
      return fail("telegram", host + " answered getMe with " + status_text(response, token),
                  "check telegram.api_base_url (a Bot API server or api.telegram.org)");
    }
    std::string who = "the bot";
    if (const auto* username = result->as_object().if_contains("username"); username && username->is_string()) {
      who = "@" + std::string(username->as_string());
    }
    return ok("telegram", who + " answers getMe (mode " + telegram.mode + ")");
  }

  DoctorCheck check_espeak() {
    const auto fix = std::string(
        "install espeak-ng-data (apt-get install espeak-ng-data), or point tts.espeak_data "
        "at its directory");
    try {
      tts::EspeakOptions options;
      options.data_path = config_.tts.espeak_data;
      options.voice = config_.tts.engine == "espeak" ? config_.tts.voice : std::string();
      tts::EspeakEngine engine(options, metrics_);
      const std::string text(kTestPhrase);
      tts::VoiceOptions voice;
      voice.rate = config_.tts.rate;
      voice.pitch = config_.tts.pitch;
      auto speak = net::with_timeout(engine.synthesize(text, voice), options_.timeout);
      const auto pcm = run(std::move(speak));
      if (!pcm) {
        return fail("tts", "espeak-ng did not finish a short phrase within " + seconds_text(), fix);
      }
      if (pcm->samples.empty()) {
        return fail("tts", "espeak-ng produced no audio for a short phrase", fix);
      }
      std::ostringstream detail;
      detail << "espeak-ng spoke a test phrase (" << std::fixed << std::setprecision(1) << pcm->seconds() << " s at "
             << pcm->sample_rate << " Hz)";
      return ok("tts", detail.str());
    } catch (const std::exception& error) {
      return fail("tts", "espeak-ng cannot speak: " + clipped(error.what()), fix);
    }
  }

  DoctorCheck check_cloud_tts() {
    const auto& config = config_.tts;
    tts::GoogleTtsOptions options;
    if (!config.base_url.empty()) {
      options.base_url = config.base_url;
    }
    options.api_key = config.api_key;
    options.voice = config.voice;
    options.retry.max_attempts = 1;
    const auto where = "Google TTS at " + host_of(options.base_url);
    try {
      auto speak = [this, options]() -> Task<std::optional<tts::Pcm>> {
        tts::GoogleTtsEngine engine(options, std::make_shared<net::HttpClient>(http_options()));
        const std::string text(kTestPhrase);
        const tts::VoiceOptions voice;
        auto call = net::with_timeout(engine.synthesize(text, voice), options_.timeout);
        co_return co_await std::move(call);
      };
      const auto pcm = run(speak());
      if (!pcm) {
        return fail("tts_cloud", where + " did not answer within " + seconds_text() + "; espeak-ng answers meanwhile",
                    "check tts.base_url and that this host can reach it");
      }
      return ok("tts_cloud", where + " spoke a test phrase");
    } catch (const tts::TtsError& error) {
      const bool refused = error.failure() == tts::TtsFailure::kRejected;
      return fail("tts_cloud",
                  where + (refused ? " refused the request: " : " failed: ") +
                      clipped(scrubbed(error.what(), config.api_key)) + "; espeak-ng answers meanwhile",
                  refused ? "check tts.api_key and tts.voice" : "check tts.base_url and that this host can reach it");
    } catch (const std::exception& error) {
      return fail("tts_cloud", where + " failed: " + clipped(scrubbed(error.what(), config.api_key)),
                  "check tts.base_url, tts.api_key and that this host can reach it");
    }
  }

  [[nodiscard]] std::uintmax_t kept_backups() const {
    const auto& backup = config_.backup;
    if (backup.interval.count() <= 0) {
      return 1;
    }
    const std::chrono::milliseconds retention = std::chrono::days(std::max(backup.retention_days, 0));
    return std::min<std::uintmax_t>(static_cast<std::uintmax_t>(retention / backup.interval) + 1, kMaxKeptBackups);
  }

  DoctorCheck check_disk() {
    const fs::path dir = config_.backup.dir;
    const auto existing = existing_ancestor(dir);
    if (!writable(existing)) {
      return fail("disk", "backup directory " + dir.string() + " cannot be written (" + existing.string() + ")",
                  "make it writable for the service's user, or set backup.dir");
    }
    std::error_code error;
    const auto space = fs::space(existing, error);
    if (error) {
      return warn("disk", "cannot read the free space of " + existing.string() + ": " + error.message(),
                  "check that backup.dir is on a mounted file system");
    }
    std::optional<std::uintmax_t> database;
    try {
      database = storage::database_size_bytes(config_.database.url,
                                              std::chrono::duration_cast<std::chrono::seconds>(options_.timeout));
    } catch (const std::exception&) {
      database.reset();
    }
    const auto kept = kept_backups();
    const auto free_text = human_bytes(space.available) + " free for backups in " + dir.string();
    if (!database) {
      return warn("disk", free_text + "; the database's size is unknown (no connection)",
                  "fix the database check, then run doctor again");
    }
    const auto needed = *database * kept;
    const auto sizes = "database " + human_bytes(*database) + ", " + std::to_string(kept) + " backup(s) kept (" +
                       std::to_string(config_.backup.retention_days) + " days, every " +
                       format_duration(config_.backup.interval) + ") need about " + human_bytes(needed);
    if (space.available < *database) {
      return fail("disk", free_text + ": the next backup does not fit (" + sizes + ")",
                  "free space there, or set backup.dir to a larger disk");
    }
    if (space.available < needed + options_.min_free_bytes) {
      return warn("disk", free_text + "; " + sizes + ", plus " + human_bytes(options_.min_free_bytes) + " to spare",
                  "free space, lower backup.retention_days, or set backup.dir to a larger disk");
    }
    return ok("disk", free_text + "; " + sizes);
  }

  static constexpr std::chrono::milliseconds kPollInterval{10};

  const Config& config_;
  DoctorOptions options_;
  boost::asio::io_context io_;
  net::BlockingPool blocking_{2};
  obs::Logger logger_{obs::LogLevel::kOff, obs::Logger::Format::kText};
  obs::MetricsRegistry metrics_;
  std::unique_ptr<storage::Store> store_;  // last: closed first, while io_ and blocking_ exist
  bool database_missing_ = false;
};

DoctorCheck check_config(const LoadResult& loaded) {
  if (!loaded.ok()) {
    std::string problems;
    for (const auto& problem : loaded.errors) {
      problems += (problems.empty() ? "" : "; ") + problem;
    }
    return fail("config", std::to_string(loaded.errors.size()) + " problem(s): " + problems,
                "correct the keys named; `evolveai config example` lists every key with its meaning");
  }
  std::string detail = loaded.file ? "read " + loaded.file->string() + " and the environment"
                                   : "defaults and the environment (no configuration file)";
  const auto& config = loaded.config;
  if (config.auth.jwt_secret.empty()) {
    const auto path = fs::path(config.server.data_dir) / "jwt_secret";
    if (fs::exists(path)) {
      Config copy = config;
      try {
        ensure_jwt_secret(copy);
      } catch (const ConfigError& error) {
        return fail("config", error.messages().empty() ? std::string(error.what()) : error.messages().front(),
                    "delete the file to have a new one made on start (signs everyone out), or set auth.jwt_secret");
      }
      detail += "; JWT secret from " + path.string();
    } else {
      detail += "; a JWT secret is generated into " + path.string() + " on first start";
    }
  }
  return ok("config", detail);
}

}  // namespace

std::string_view to_string(CheckStatus status) noexcept {
  switch (status) {
    case CheckStatus::kOk: return "ok";
    case CheckStatus::kWarn: return "warn";
    case CheckStatus::kFail: return "fail";
  }
  return "fail";
}

bool DoctorCommand::chosen() const {
  return command != nullptr && command->parsed();
}

void add_doctor_command(CLI::App& cli, DoctorCommand& command) {
  command.command = cli.add_subcommand(
      "doctor", "Check the configuration and every dependency; print what is wrong and how to fix it");
  command.command->add_option("-c,--config", command.config_path, "TOML configuration file");
  command.command->add_flag("--json", command.json, "Print the checks as one JSON object");
  command.command->add_option("--timeout", command.timeout_seconds, "Seconds each network check may take")
      ->check(CLI::Range(1, 600));
  command.command->add_option("--min-free-mib", command.min_free_mib,
                              "MiB the backup disk should keep free beyond the backups kept");
}

std::vector<DoctorCheck> run_doctor(const LoadResult& loaded, const DoctorOptions& options) {
  std::vector<DoctorCheck> checks;
  checks.push_back(check_config(loaded));
  if (!loaded.ok()) {
    return checks;
  }
  Doctor doctor(loaded.config, options);
  auto rest = doctor.checks();
  checks.insert(checks.end(), std::make_move_iterator(rest.begin()), std::make_move_iterator(rest.end()));
  return checks;
}

void print_doctor_report(const std::vector<DoctorCheck>& checks, bool json, std::ostream& out) {
  if (json) {
    json::array items;
    for (const auto& check : checks) {
      json::object item{{"name", check.name}, {"status", to_string(check.status)}, {"detail", check.detail}};
      if (!check.fix.empty()) {
        item["fix"] = check.fix;
      }
      items.push_back(std::move(item));
    }
    const json::object report{{"ok", doctor_exit_code(checks) == 0}, {"checks", std::move(items)}};
    out << json::serialize(report) << "\n";
    return;
  }
  std::size_t width = 4;
  for (const auto& check : checks) {
    width = std::max(width, check.name.size());
  }
  std::array<int, 3> counts{};
  for (const auto& check : checks) {
    ++counts.at(static_cast<std::size_t>(check.status));
    out << std::left << std::setw(6) << to_string(check.status) << std::setw(static_cast<int>(width) + 2) << check.name
        << check.detail << "\n";
    if (!check.fix.empty()) {
      out << std::string(6 + width + 2, ' ') << "fix: " << check.fix << "\n";
    }
  }
  out << counts[0] << " ok, " << counts[1] << " warn, " << counts[2] << " fail\n";
}

int doctor_exit_code(const std::vector<DoctorCheck>& checks) {
  const bool failed =
      std::any_of(checks.begin(), checks.end(), [](const DoctorCheck& c) { return c.status == CheckStatus::kFail; });
  return failed ? 1 : 0;
}

int run_doctor_command(const DoctorCommand& command, const LoadResult& loaded, std::ostream& out) {
  DoctorOptions options;
  options.timeout = std::chrono::seconds(command.timeout_seconds);
  options.min_free_bytes = static_cast<std::uintmax_t>(command.min_free_mib) << 20U;
  const auto checks = run_doctor(loaded, options);
  print_doctor_report(checks, command.json, out);
  return doctor_exit_code(checks);
}

}  // namespace evolveai::app
