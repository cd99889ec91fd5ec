#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace evolveai::app {

/// `[server]`: the HTTP listener, its threads, files and the limits of every connection.
struct ServerConfig {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
  unsigned threads = 0;  ///< 0 in a source means one per core; the loader resolves it (at least 1)
  std::string data_dir = "./data";
  std::string web_root = "web/dist";
  std::size_t max_connections = 10'000;
  std::size_t header_limit = std::size_t{16} * 1024;            ///< bytes
  std::size_t body_limit = std::size_t{64} * 1024;              ///< bytes, every route but chat
  std::size_t chat_body_limit = std::size_t{14} * 1024 * 1024;  ///< bytes, chat may carry an image
  std::chrono::milliseconds header_timeout = std::chrono::seconds(10);
  std::chrono::milliseconds idle_timeout = std::chrono::seconds(60);
  std::chrono::milliseconds request_timeout = std::chrono::seconds(30);
  std::chrono::milliseconds stream_timeout = std::chrono::minutes(10);
  std::chrono::milliseconds shutdown_timeout = std::chrono::seconds(20);
  std::chrono::milliseconds sse_heartbeat = std::chrono::seconds(15);
  /// What this node does: `api` (HTTP API and web app), `bot` (Telegram), `worker` (leased
  /// background jobs). Health, readiness and metrics are served by every node.
  std::vector<std::string> roles = {"api", "bot", "worker"};
  /// Wait after start before the worker's first run of each background task.
  std::chrono::milliseconds worker_first_run_delay = std::chrono::seconds(30);

  bool operator==(const ServerConfig&) const = default;
};

/// `[log]`: what is logged and how.
struct LogConfig {
  std::string level = "info";   ///< trace, debug, info, warn, error or off
  std::string format = "json";  ///< json or text

  bool operator==(const LogConfig&) const = default;
};

/// `[database]`: SQLite (embedded) or PostgreSQL.
struct DatabaseConfig {
  std::string url;  ///< empty in a source means `sqlite://<data_dir>/evolveai.db`; resolved by the loader
  int pool_size = 8;
  std::chrono::milliseconds acquire_timeout = std::chrono::seconds(5);
  std::chrono::milliseconds statement_timeout = std::chrono::seconds(10);
  std::chrono::milliseconds slow_query_threshold = std::chrono::milliseconds(200);
  bool migrate_on_start = true;

  bool operator==(const DatabaseConfig&) const = default;
};

/// `[redis]`: shared cache and rate limits; an empty url means in-process ones.
struct RedisConfig {
  std::string url;
  int pool_size = 4;
  std::chrono::milliseconds connect_timeout = std::chrono::seconds(2);
  std::chrono::milliseconds command_timeout = std::chrono::seconds(1);
  int breaker_failures = 5;  ///< consecutive failures that open the breaker
  std::chrono::milliseconds breaker_open_duration = std::chrono::seconds(10);
  int breaker_probes = 1;  ///< trial calls while half-open
  /// How long a user read by id stays cached (in Redis, or in process without it).
  std::chrono::milliseconds user_cache_ttl = std::chrono::seconds(30);

  bool operator==(const RedisConfig&) const = default;
};

/// `[auth]`: access tokens and Telegram sign-in.
struct AuthConfig {
  std::string jwt_secret;  ///< secret; empty means generated into data_dir by ensure_jwt_secret
  std::chrono::milliseconds jwt_ttl = std::chrono::hours(1);
  std::chrono::milliseconds init_data_max_age = std::chrono::hours(24);
  std::chrono::milliseconds clock_skew = std::chrono::seconds(30);
  std::int64_t bot_id = 0;          ///< for Ed25519 validation of init data shared with third parties
  int verified_token_cache = 2048;  ///< checked access tokens remembered (per generation; 0: none)

  bool operator==(const AuthConfig&) const = default;
};

/// `[telegram]`: the bot; an empty token turns it off.
struct TelegramConfig {
  std::string bot_token;         ///< secret
  std::string mode = "polling";  ///< polling or webhook
  std::string webhook_secret;    ///< secret; checked against X-Telegram-Bot-Api-Secret-Token
  std::string public_url;
  std::string api_base_url = "https://api.telegram.org";
  std::chrono::milliseconds poll_timeout = std::chrono::seconds(25);  ///< getUpdates long poll
  std::chrono::milliseconds lease_ttl = std::chrono::seconds(60);     ///< the poller lease; a takeover waits this long
  std::chrono::milliseconds stream_edit_interval = std::chrono::seconds(1);
  bool use_drafts = true;   ///< stream with sendMessageDraft in private chats
  int max_in_flight = 256;  ///< updates queued or running on one node
  int rate_per_min = 20;    ///< messages per user per minute
  std::size_t max_file_bytes = std::size_t{20} * 1024 * 1024;
  std::chrono::milliseconds timeout =
      std::chrono::seconds(30);  ///< one Bot API call (long polls get poll_timeout more)
  int max_retries = 2;
  std::chrono::milliseconds max_flood_wait = std::chrono::seconds(60);
  int breaker_failures = 5;
  std::chrono::milliseconds breaker_open_duration = std::chrono::seconds(30);

  bool operator==(const TelegramConfig&) const = default;
};

/// `[premium]`: what premium costs.
struct PremiumConfig {
  std::vector<std::string> plans{"month:30:250"};  ///< "id:days:stars", offered in this order

  bool operator==(const PremiumConfig&) const = default;
};

/// `[llm]`: the chat model.
struct LlmConfig {
  std::string provider;  ///< empty (chat answers 503), gemini or openai
  std::string model;
  std::string api_key;  ///< secret
  std::string base_url;
  std::chrono::milliseconds connect_timeout = std::chrono::seconds(5);
  std::chrono::milliseconds first_token_timeout = std::chrono::seconds(30);
  std::chrono::milliseconds total_timeout = std::chrono::seconds(120);
  int max_retries = 3;
  std::vector<std::string> fallback_models;
  int breaker_failures = 5;  ///< consecutive failed calls that open the provider's breaker
  std::chrono::milliseconds breaker_open_duration = std::chrono::seconds(30);

  bool operator==(const LlmConfig&) const = default;
};

/// `[chat]`: what one chat turn sends to the model (message and image limits are in `[limits]`).
struct ChatConfig {
  int context_token_budget = 6000;  ///< estimated tokens of the whole request
  int recent_messages = 40;         ///< newest messages read for the context
  int relevant_messages = 3;        ///< older messages found by search and quoted
  int relevant_message_chars = 600;
  /// A message still pending this long is taken for abandoned, so a repeat may run it again.
  std::chrono::milliseconds abandoned_turn_after = std::chrono::minutes(15);

  bool operator==(const ChatConfig&) const = default;
};

/// `[tts]`: speech synthesis.
struct TtsConfig {
  std::string engine = "espeak";  ///< espeak or google
  std::string api_key;            ///< secret
  std::string base_url;           ///< empty: the cloud engine's public endpoint
  std::string voice;              ///< empty: chosen by the text's language and the requested voice
  int free_daily = 5;
  int max_chars = 1000;
  int rate = 175;           ///< words per minute
  int pitch = 50;           ///< 0..100
  std::string espeak_data;  ///< empty: the library's default (Debian's espeak-ng-data)
  int queue_size = 32;      ///< syntheses waiting or running on the espeak thread
  std::chrono::milliseconds connect_timeout = std::chrono::seconds(5);
  std::chrono::milliseconds timeout = std::chrono::seconds(15);  ///< one whole cloud call
  int max_retries = 2;
  int breaker_failures = 5;
  std::chrono::milliseconds breaker_open_duration = std::chrono::seconds(30);
  int breaker_probes = 1;
  std::size_t cache_bytes = std::size_t{32} * 1024 * 1024;
  std::chrono::milliseconds cache_ttl = std::chrono::hours(24);

  bool operator==(const TtsConfig&) const = default;
};

/// `[limits]`: what one client may ask for.
struct LimitsConfig {
  int free_daily_messages = 50;
  int message_max_chars = 8000;
  std::size_t image_max_bytes = std::size_t{10} * 1024 * 1024;

  bool operator==(const LimitsConfig&) const = default;
};

/// `[rate_limits]`: requests per minute per client.
struct RateLimitsConfig {
  int auth_per_min = 10;
  int chat_per_min = 20;
  int tts_per_min = 10;
  int api_per_min = 120;
  int admin_login_per_min = 10;

  bool operator==(const RateLimitsConfig&) const = default;
};

/// `[backup]`: local backups.
struct BackupConfig {
  std::string dir;  ///< empty in a source means `<data_dir>/backups`; resolved by the loader
  int retention_days = 7;
  std::chrono::milliseconds interval = std::chrono::hours(24);  ///< 0 turns scheduled backups off

  bool operator==(const BackupConfig&) const = default;
};

/// The whole configuration: plain data that builds nothing; the composition root reads it.
/// Default-constructed it holds the documented defaults before the loader's resolution.
/// `[retention]`: how long chat history is kept.
struct RetentionConfig {
  int message_days = 0;  ///< messages older than this are deleted; 0 keeps them forever
  std::chrono::milliseconds interval = std::chrono::hours(1);
  int batch_size = 500;

  bool operator==(const RetentionConfig&) const = default;
};

/// `[memory]`: the rolling summary, learned facts and the background job that keeps them.
struct MemoryConfig {
  int summary_threshold = 20;  ///< unsummarised messages beyond this queue a summary
  int max_facts = 20;
  int max_fact_chars = 200;
  int max_summary_chars = 2000;
  int max_messages_per_summary = 100;
  std::chrono::milliseconds job_lease = std::chrono::minutes(5);  ///< longer than llm.total_timeout
  std::chrono::milliseconds job_poll_interval = std::chrono::seconds(5);
  std::chrono::milliseconds retry_delay = std::chrono::minutes(1);
  int max_attempts = 5;

  bool operator==(const MemoryConfig&) const = default;
};

/// `[observability]`: trace export (OTLP/HTTP JSON) and error reporting (Sentry envelopes).
struct ObservabilityConfig {
  std::string service_name = "evolveai";   ///< `service.name` of exported spans
  std::string environment = "production";  ///< deployment name on error reports ("production", "staging")
  std::string otlp_endpoint;               ///< collector base URL ("http://collector:4318"); empty: no export
  std::chrono::milliseconds otlp_flush_interval = std::chrono::seconds(2);
  std::size_t otlp_max_queue = 4096;  ///< spans waiting for export; more are dropped and counted
  std::string sentry_dsn;             ///< secret; empty: no error reports
  int sentry_max_events_per_min = 30;
  std::size_t sentry_max_queue = 100;  ///< reports waiting to be sent; more are dropped and counted
  /// Longest call to a collector (traces or error reports); a slow one never holds up a request.
  std::chrono::milliseconds export_timeout = std::chrono::seconds(10);

  bool operator==(const ObservabilityConfig&) const = default;
};

struct Config {
  ServerConfig server;
  LogConfig log;
  DatabaseConfig database;
  RedisConfig redis;
  AuthConfig auth;
  TelegramConfig telegram;
  PremiumConfig premium;
  LlmConfig llm;
  ChatConfig chat;
  TtsConfig tts;
  LimitsConfig limits;
  RateLimitsConfig rate_limits;
  BackupConfig backup;
  RetentionConfig retention;
  MemoryConfig memory;
  ObservabilityConfig observability;

  bool operator==(const Config&) const = default;
};

/// How a key's value is written and checked.
enum class KeyType {
  kString,      ///< any text; `min` is the least length
  kEnum,        ///< one of `allowed`
  kBool,        ///< true/false (environment also 1/0)
  kInteger,     ///< whole number in [min, max]
  kPort,        ///< TCP port in [min, max]
  kDuration,    ///< "250ms", "30s", "10m", "24h", "7d" or integer seconds; range in milliseconds
  kSize,        ///< "512B", "64KiB", "14MiB", "1GiB" or integer bytes; range in bytes
  kStringList,  ///< TOML array of strings; environment comma-separated
};

/// A key's value in the form every KeyType shares: durations as milliseconds, sizes as bytes.
using KeyValue = std::variant<bool, std::int64_t, std::string, std::vector<std::string>>;

/// One configuration key: the single description that loading, validation, the example
/// file and the effective-config dump are all driven by.
struct KeyDescriptor {
  std::string_view name;  ///< dotted, "section.key"
  KeyType type = KeyType::kString;
  std::string_view help;
  bool secret = false;                        ///< masked when rendered; may also come from `<VAR>_FILE`
  std::span<const std::string_view> allowed;  ///< kEnum only
  std::int64_t min = 0;
  std::int64_t max = 0;
  KeyValue (*get)(const Config&) = nullptr;
  void (*set)(Config&, const KeyValue&) = nullptr;

  /// The section part of the name ("server").
  [[nodiscard]] std::string_view section() const;
  /// The key part of the name ("port").
  [[nodiscard]] std::string_view leaf() const;
  /// The environment variable that sets it ("EVOLVEAI_SERVER__PORT").
  [[nodiscard]] std::string env_var() const;
  /// Its default as TOML value text ("8080", "\"30s\"").
  [[nodiscard]] std::string default_text() const;
  /// The allowed values of an enum key for people ("trace, debug, …"); the empty one shows as "".
  [[nodiscard]] std::string allowed_text() const;
};

/// Every configuration key, grouped by section in the order the example file shows them.
std::span<const KeyDescriptor> config_keys();

/// The key with this dotted name, or null.
const KeyDescriptor* find_config_key(std::string_view name);

/// Parses "250ms", "30s", "10m", "24h", "7d" or whole seconds ("30"); nullopt when malformed.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

/// Parses "512B", "64KiB", "14MiB", "1GiB" or whole bytes ("65536"); nullopt when malformed.
std::optional<std::size_t> parse_size(std::string_view text);

/// Writes a duration in the largest unit that keeps it exact ("250ms", "30s", "10m", "24h").
std::string format_duration(std::chrono::milliseconds duration);

/// Writes a size in the largest binary unit that keeps it exact ("512B", "64KiB", "14MiB").
std::string format_size(std::size_t bytes);

/// The effective configuration as TOML, every non-empty secret shown as "***"
/// (for `evolveai config check`).
std::string render_effective(const Config& config);

/// The commented example configuration: every key with its help and its default
/// (committed as config/evolveai.example.toml).
std::string render_example();

}  // namespace evolveai::app
