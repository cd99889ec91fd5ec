#include "app/config.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <limits>
#include <stdexcept>
#include <type_traits>

namespace evolveai::app {
namespace {

using std::chrono::milliseconds;

constexpr std::int64_t kSecond = 1000;
constexpr std::int64_t kMinute = 60 * kSecond;
constexpr std::int64_t kHour = 60 * kMinute;
constexpr std::int64_t kDay = 24 * kHour;
constexpr std::int64_t kKiB = 1024;
constexpr std::int64_t kMiB = 1024 * kKiB;
constexpr std::int64_t kGiB = 1024 * kMiB;
constexpr std::int64_t kInt64Max = std::numeric_limits<std::int64_t>::max();

constexpr std::array<std::string_view, 6> kLogLevels{"trace", "debug", "info", "warn", "error", "off"};
constexpr std::array<std::string_view, 2> kLogFormats{"json", "text"};
constexpr std::array<std::string_view, 2> kTelegramModes{"polling", "webhook"};
constexpr std::array<std::string_view, 3> kLlmProviders{"", "gemini", "openai"};
constexpr std::array<std::string_view, 2> kTtsEngines{"espeak", "google"};

template <typename T>
using FieldOf = std::remove_cvref_t<T>;

/// Reads the field `Section`.`Field` of a Config as a KeyValue.
template <auto Section, auto Field>
KeyValue get_field(const Config& config) {
  const auto& field = (config.*Section).*Field;
  using T = FieldOf<decltype(field)>;
  if constexpr (std::is_same_v<T, milliseconds>) {
    return KeyValue(std::in_place_type<std::int64_t>, field.count());
  } else if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, std::string> ||
                       std::is_same_v<T, std::vector<std::string>>) {
    return KeyValue(std::in_place_type<T>, field);
  } else {
    static_assert(std::is_integral_v<T>);
    return KeyValue(std::in_place_type<std::int64_t>, static_cast<std::int64_t>(field));
  }
}

/// Writes a KeyValue, already checked against the key's type and range, into its field.
template <auto Section, auto Field>
void set_field(Config& config, const KeyValue& value) {
  auto& field = (config.*Section).*Field;
  using T = FieldOf<decltype(field)>;
  if constexpr (std::is_same_v<T, milliseconds>) {
    field = milliseconds(std::get<std::int64_t>(value));
  } else if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, std::string> ||
                       std::is_same_v<T, std::vector<std::string>>) {
    field = std::get<T>(value);
  } else {
    field = static_cast<T>(std::get<std::int64_t>(value));
  }
}

template <auto Section, auto Field>
using FieldType = FieldOf<decltype(std::declval<Config&>().*Section.*Field)>;

template <auto Section, auto Field>
constexpr KeyDescriptor make_key(std::string_view name, KeyType type, std::string_view help) {
  KeyDescriptor key;
  key.name = name;
  key.type = type;
  key.help = help;
  key.get = &get_field<Section, Field>;
  key.set = &set_field<Section, Field>;
  return key;
}

template <auto Section, auto Field>
constexpr KeyDescriptor text_key(std::string_view name, std::string_view help, std::int64_t min_length = 0) {
  static_assert(std::is_same_v<FieldType<Section, Field>, std::string>);
  KeyDescriptor key = make_key<Section, Field>(name, KeyType::kString, help);
  key.min = min_length;
  key.max = kInt64Max;
  return key;
}

template <auto Section, auto Field>
constexpr KeyDescriptor secret_key(std::string_view name, std::string_view help) {
  KeyDescriptor key = text_key<Section, Field>(name, help);
  key.secret = true;
  return key;
}

template <auto Section, auto Field>
constexpr KeyDescriptor enum_key(std::string_view name, std::span<const std::string_view> allowed,
                                 std::string_view help) {
  static_assert(std::is_same_v<FieldType<Section, Field>, std::string>);
  KeyDescriptor key = make_key<Section, Field>(name, KeyType::kEnum, help);
  key.allowed = allowed;
  return key;
}

template <auto Section, auto Field>
constexpr KeyDescriptor bool_key(std::string_view name, std::string_view help) {
  static_assert(std::is_same_v<FieldType<Section, Field>, bool>);
  return make_key<Section, Field>(name, KeyType::kBool, help);
}

template <auto Section, auto Field>
constexpr KeyDescriptor int_key(std::string_view name, std::int64_t min, std::int64_t max, std::string_view help,
                                KeyType type = KeyType::kInteger) {
  using T = FieldType<Section, Field>;
  static_assert(std::is_integral_v<T> && !std::is_same_v<T, bool>);
  if (min < 0 && std::is_unsigned_v<T>) {
    throw std::logic_error("negative minimum for an unsigned field");
  }
  if (static_cast<std::uint64_t>(max) > static_cast<std::uint64_t>(std::numeric_limits<T>::max())) {
    throw std::logic_error("maximum does not fit the field");
  }
  KeyDescriptor key = make_key<Section, Field>(name, type, help);
  key.min = min;
  key.max = max;
  return key;
}

template <auto Section, auto Field>
constexpr KeyDescriptor port_key(std::string_view name, std::string_view help) {
  return int_key<Section, Field>(name, 1, 65535, help, KeyType::kPort);
}

template <auto Section, auto Field>
constexpr KeyDescriptor duration_key(std::string_view name, std::string_view help, std::int64_t min = 1,
                                     std::int64_t max = 365 * kDay) {
  static_assert(std::is_same_v<FieldType<Section, Field>, milliseconds>);
  KeyDescriptor key = make_key<Section, Field>(name, KeyType::kDuration, help);
  key.min = min;
  key.max = max;
  return key;
}

template <auto Section, auto Field>
constexpr KeyDescriptor size_key(std::string_view name, std::int64_t min, std::int64_t max, std::string_view help) {
  static_assert(std::is_same_v<FieldType<Section, Field>, std::size_t>);
  KeyDescriptor key = make_key<Section, Field>(name, KeyType::kSize, help);
  key.min = min;
  key.max = max;
  return key;
}

template <auto Section, auto Field>
constexpr KeyDescriptor list_key(std::string_view name, std::string_view help) {
  static_assert(std::is_same_v<FieldType<Section, Field>, std::vector<std::string>>);
  return make_key<Section, Field>(name, KeyType::kStringList, help);
}

constexpr auto kServer = &Config::server;
constexpr auto kLog = &Config::log;
constexpr auto kDatabase = &Config::database;
constexpr auto kRedis = &Config::redis;
constexpr auto kAuth = &Config::auth;
constexpr auto kTelegram = &Config::telegram;
constexpr auto kPremium = &Config::premium;
constexpr auto kLlm = &Config::llm;
constexpr auto kChat = &Config::chat;
constexpr auto kTts = &Config::tts;
constexpr auto kLimits = &Config::limits;
constexpr auto kRateLimits = &Config::rate_limits;
constexpr auto kBackup = &Config::backup;
constexpr auto kRetention = &Config::retention;
constexpr auto kMemory = &Config::memory;
constexpr auto kObservability = &Config::observability;

constexpr std::int64_t kManyPerMinute = 1'000'000;

// The one list of configuration keys. Defaults live in the structs of config.hpp.
constexpr std::array kKeys{
    text_key<kServer, &ServerConfig::host>("server.host",
                                           "Address the HTTP server listens on; 0.0.0.0 for every interface.", 1),
    port_key<kServer, &ServerConfig::port>("server.port", "TCP port the HTTP server listens on."),
    int_key<kServer, &ServerConfig::threads>("server.threads", 0, 1024, "I/O threads; 0 means one per CPU core."),
    text_key<kServer, &ServerConfig::data_dir>(
        "server.data_dir", "Directory of the SQLite database, generated secrets and local backups.", 1),
    text_key<kServer, &ServerConfig::web_root>("server.web_root", "Directory of the built web app served at /.", 1),
    int_key<kServer, &ServerConfig::max_connections>("server.max_connections", 1, 1'000'000,
                                                     "Most client connections served at once."),
    size_key<kServer, &ServerConfig::header_limit>("server.header_limit", kKiB, kMiB,
                                                   "Largest request head (request line and headers)."),
    size_key<kServer, &ServerConfig::body_limit>("server.body_limit", 1, kGiB,
                                                 "Largest request body on every route but chat."),
    size_key<kServer, &ServerConfig::chat_body_limit>("server.chat_body_limit", 1, kGiB,
                                                      "Largest chat request body, which may carry an image."),
    duration_key<kServer, &ServerConfig::header_timeout>("server.header_timeout",
                                                         "Time allowed to receive a request head."),
    duration_key<kServer, &ServerConfig::idle_timeout>(
        "server.idle_timeout", "How long a keep-alive connection may wait for its next request."),
    duration_key<kServer, &ServerConfig::request_timeout>(
        "server.request_timeout", "Time allowed for a whole request and its answer (streams excepted)."),
    duration_key<kServer, &ServerConfig::stream_timeout>("server.stream_timeout", "Longest streamed (SSE) answer."),
    duration_key<kServer, &ServerConfig::shutdown_timeout>(
        "server.shutdown_timeout", "How long a graceful shutdown waits for requests in flight."),
    duration_key<kServer, &ServerConfig::sse_heartbeat>("server.sse_heartbeat",
                                                        "Interval of keep-alive comments on a quiet event stream."),
    list_key<kServer, &ServerConfig::roles>(
        "server.roles",
        "What this node runs: any of api (HTTP API, web app), bot (Telegram), worker (background jobs)."),
    duration_key<kServer, &ServerConfig::worker_first_run_delay>(
        "server.worker_first_run_delay",
        "Wait after start before a worker node first runs each background task (summaries, backups, retention).", 0),

    enum_key<kLog, &LogConfig::level>("log.level", kLogLevels, "Least severe events that are logged."),
    enum_key<kLog, &LogConfig::format>("log.format", kLogFormats,
                                       "json: one JSON object per line; text: lines for people."),

    text_key<kDatabase, &DatabaseConfig::url>(
        "database.url",
        "sqlite://<path> or postgresql://user:pass@host:port/db; empty: sqlite://<data_dir>/evolveai.db."),
    int_key<kDatabase, &DatabaseConfig::pool_size>("database.pool_size", 1, 1000,
                                                   "Connections (PostgreSQL) or reader connections (SQLite)."),
    duration_key<kDatabase, &DatabaseConfig::acquire_timeout>("database.acquire_timeout",
                                                              "How long a query waits for a free connection."),
    duration_key<kDatabase, &DatabaseConfig::statement_timeout>("database.statement_timeout",
                                                                "Longest a single statement may run."),
    duration_key<kDatabase, &DatabaseConfig::slow_query_threshold>("database.slow_query_threshold",
                                                                   "Statements slower than this are logged."),
    bool_key<kDatabase, &DatabaseConfig::migrate_on_start>("database.migrate_on_start",
                                                           "Apply pending schema migrations at start."),

    text_key<kRedis, &RedisConfig::url>(
        "redis.url", "redis://host:port/db for a shared cache and rate limits; empty keeps them in process."),
    int_key<kRedis, &RedisConfig::pool_size>("redis.pool_size", 1, 1000, "Connections to Redis."),
    duration_key<kRedis, &RedisConfig::connect_timeout>("redis.connect_timeout", "Time allowed to connect to Redis."),
    duration_key<kRedis, &RedisConfig::command_timeout>("redis.command_timeout", "Time allowed for one Redis command."),
    int_key<kRedis, &RedisConfig::breaker_failures>(
        "redis.breaker_failures", 1, 1000,
        "Consecutive Redis failures that open its circuit breaker (the node then uses its own limiter)."),
    duration_key<kRedis, &RedisConfig::breaker_open_duration>("redis.breaker_open_duration",
                                                              "How long the Redis breaker stays open before a probe."),
    int_key<kRedis, &RedisConfig::breaker_probes>("redis.breaker_probes", 1, 100,
                                                  "Trial Redis calls that must succeed to close the breaker."),
    duration_key<kRedis, &RedisConfig::user_cache_ttl>(
        "redis.user_cache_ttl",
        "How long a user read by id stays cached; every change erases it at once, this bounds a lost erase."),

    secret_key<kAuth, &AuthConfig::jwt_secret>(
        "auth.jwt_secret",
        "Key signing access tokens, at least 32 bytes; empty: generated into <data_dir>/jwt_secret."),
    duration_key<kAuth, &AuthConfig::jwt_ttl>("auth.jwt_ttl", "Lifetime of an access token."),
    duration_key<kAuth, &AuthConfig::init_data_max_age>("auth.init_data_max_age",
                                                        "Oldest accepted Telegram auth_date."),
    duration_key<kAuth, &AuthConfig::clock_skew>(
        "auth.clock_skew", "Clock difference tolerated when checking token and Telegram times.", 0),
    int_key<kAuth, &AuthConfig::verified_token_cache>(
        "auth.verified_token_cache", 0, 1000000,
        "Access tokens whose signature was checked, remembered so a client's next requests skip the HMAC; "
        "up to twice this many are held. 0: check every time."),
    int_key<kAuth, &AuthConfig::bot_id>(
        "auth.bot_id", 0, kInt64Max,
        "Numeric bot id, for Ed25519 checks of Mini App data shared with third parties; 0: off."),

    secret_key<kTelegram, &TelegramConfig::bot_token>("telegram.bot_token",
                                                      "Bot API token from @BotFather; empty turns the bot off."),
    enum_key<kTelegram, &TelegramConfig::mode>(
        "telegram.mode", kTelegramModes,
        "How updates arrive: polling (getUpdates) or webhook (needs webhook_secret, public_url)."),
    secret_key<kTelegram, &TelegramConfig::webhook_secret>(
        "telegram.webhook_secret",
        "Value Telegram sends in X-Telegram-Bot-Api-Secret-Token; required in webhook mode."),
    text_key<kTelegram, &TelegramConfig::public_url>(
        "telegram.public_url", "Public https URL of this service, for the webhook and the Mini App link."),
    text_key<kTelegram, &TelegramConfig::api_base_url>(
        "telegram.api_base_url", "Bot API root: the public one, a local Bot API server or a test fake.", 1),
    duration_key<kTelegram, &TelegramConfig::poll_timeout>(
        "telegram.poll_timeout", "Long-poll wait of one getUpdates call (polling mode); kept below lease_ttl / 2.", 0,
        50 * kSecond),
    duration_key<kTelegram, &TelegramConfig::lease_ttl>(
        "telegram.lease_ttl",
        "Only the node holding this lease polls; when it dies another takes over within this time.", 2 * kSecond),
    duration_key<kTelegram, &TelegramConfig::stream_edit_interval>(
        "telegram.stream_edit_interval", "Least time between two streamed previews of a reply in one chat.", 100),
    bool_key<kTelegram, &TelegramConfig::use_drafts>(
        "telegram.use_drafts", "Stream replies in private chats with sendMessageDraft (else edited messages)."),
    int_key<kTelegram, &TelegramConfig::max_in_flight>("telegram.max_in_flight", 1, 100'000,
                                                       "Updates queued or being handled at once on one node."),
    int_key<kTelegram, &TelegramConfig::rate_per_min>("telegram.rate_per_min", 1, kManyPerMinute,
                                                      "Messages to the bot per minute per user."),
    size_key<kTelegram, &TelegramConfig::max_file_bytes>("telegram.max_file_bytes", 1, kGiB,
                                                         "Largest photo or voice message the bot downloads."),
    duration_key<kTelegram, &TelegramConfig::timeout>(
        "telegram.timeout", "Longest single Bot API call (a long poll gets poll_timeout on top)."),
    int_key<kTelegram, &TelegramConfig::max_retries>("telegram.max_retries", 0, 10,
                                                     "Retries of a Bot API call after a network error or 5xx."),
    duration_key<kTelegram, &TelegramConfig::max_flood_wait>(
        "telegram.max_flood_wait", "Longest 429 retry_after waited out; a longer one fails the call.", 0),
    int_key<kTelegram, &TelegramConfig::breaker_failures>("telegram.breaker_failures", 1, 1000,
                                                          "Consecutive Bot API failures that open its breaker."),
    duration_key<kTelegram, &TelegramConfig::breaker_open_duration>(
        "telegram.breaker_open_duration", "How long the Bot API breaker stays open before a probe."),

    list_key<kPremium, &PremiumConfig::plans>(
        "premium.plans", "Premium plans on sale as \"id:days:stars\" (price in Telegram Stars), in offer order."),

    enum_key<kLlm, &LlmConfig::provider>(
        "llm.provider", kLlmProviders,
        "Chat model API: gemini or openai (any OpenAI-compatible server); empty: chat answers 503."),
    text_key<kLlm, &LlmConfig::model>("llm.model", "Model name; required when a provider is set."),
    secret_key<kLlm, &LlmConfig::api_key>("llm.api_key",
                                          "API key; may stay empty for a local OpenAI-compatible server."),
    text_key<kLlm, &LlmConfig::base_url>("llm.base_url",
                                         "API root replacing the provider's public endpoint; empty keeps it."),
    duration_key<kLlm, &LlmConfig::connect_timeout>("llm.connect_timeout", "Time allowed to connect to the model API."),
    duration_key<kLlm, &LlmConfig::first_token_timeout>("llm.first_token_timeout",
                                                        "Longest wait for the first streamed token."),
    duration_key<kLlm, &LlmConfig::total_timeout>("llm.total_timeout", "Longest whole model call, streaming included."),
    int_key<kLlm, &LlmConfig::max_retries>(
        "llm.max_retries", 0, 10, "Retries of a failed call (429, 5xx, timeout) before the next fallback model."),
    list_key<kLlm, &LlmConfig::fallback_models>("llm.fallback_models",
                                                "Models tried in order when the model keeps failing."),
    int_key<kLlm, &LlmConfig::breaker_failures>(
        "llm.breaker_failures", 1, 1000,
        "Consecutive failed model calls that open the provider's breaker (chat then answers 503 at once)."),
    duration_key<kLlm, &LlmConfig::breaker_open_duration>("llm.breaker_open_duration",
                                                          "How long the model breaker stays open before a probe."),

    int_key<kChat, &ChatConfig::context_token_budget>(
        "chat.context_token_budget", 256, 2'000'000,
        "Estimated tokens (characters / 4) one chat request may use: instruction, memory, history and message."),
    int_key<kChat, &ChatConfig::recent_messages>(
        "chat.recent_messages", 1, 1000, "Newest messages read for a turn's context (the budget may drop some)."),
    int_key<kChat, &ChatConfig::relevant_messages>(
        "chat.relevant_messages", 0, 50, "Older messages found by full-text search and quoted in the context."),
    int_key<kChat, &ChatConfig::relevant_message_chars>("chat.relevant_message_chars", 20, 100'000,
                                                        "Each quoted older message is cut to this many characters."),
    duration_key<kChat, &ChatConfig::abandoned_turn_after>(
        "chat.abandoned_turn_after",
        "A message unanswered this long counts as abandoned: a repeat of its client_message_id runs it again."),

    enum_key<kTts, &TtsConfig::engine>("tts.engine", kTtsEngines,
                                       "Speech engine: espeak (local espeak-ng) or google (Cloud Text-to-Speech)."),
    secret_key<kTts, &TtsConfig::api_key>("tts.api_key", "API key of the cloud engine."),
    text_key<kTts, &TtsConfig::base_url>("tts.base_url",
                                         "API root replacing the cloud engine's public endpoint; empty keeps it."),
    text_key<kTts, &TtsConfig::voice>(
        "tts.voice",
        "Preferred voice when it speaks the text's language (\"en-gb\", \"en-US-Wavenet-D\"); empty: by language."),
    int_key<kTts, &TtsConfig::free_daily>("tts.free_daily", 0, 1'000'000,
                                          "Speech requests a free user gets per UTC day; premium is unlimited."),
    int_key<kTts, &TtsConfig::max_chars>("tts.max_chars", 1, 100'000, "Longest text one speech request may ask for."),
    int_key<kTts, &TtsConfig::rate>("tts.rate", 80, 450, "Speaking rate in words per minute (175 is normal)."),
    int_key<kTts, &TtsConfig::pitch>("tts.pitch", 0, 100, "Voice pitch (50 is normal)."),
    text_key<kTts, &TtsConfig::espeak_data>(
        "tts.espeak_data", "Directory of espeak-ng's data; empty uses the library's (Debian: espeak-ng-data)."),
    int_key<kTts, &TtsConfig::queue_size>(
        "tts.queue_size", 1, 10'000,
        "Local syntheses waiting or running at once; more are refused with 503 service_unavailable."),
    duration_key<kTts, &TtsConfig::connect_timeout>("tts.connect_timeout",
                                                    "Time allowed to connect to the cloud engine."),
    duration_key<kTts, &TtsConfig::timeout>("tts.timeout", "Longest single call to the cloud engine."),
    int_key<kTts, &TtsConfig::max_retries>("tts.max_retries", 0, 10,
                                           "Retries of a failed cloud call (429, 5xx, timeout) before espeak answers."),
    int_key<kTts, &TtsConfig::breaker_failures>("tts.breaker_failures", 1, 1000,
                                                "Consecutive cloud failures that open its breaker."),
    duration_key<kTts, &TtsConfig::breaker_open_duration>(
        "tts.breaker_open_duration", "How long the cloud breaker stays open (espeak answers) before a probe."),
    int_key<kTts, &TtsConfig::breaker_probes>("tts.breaker_probes", 1, 100,
                                              "Trial cloud calls that must succeed to close the breaker."),
    size_key<kTts, &TtsConfig::cache_bytes>("tts.cache_bytes", 0, kGiB,
                                            "Synthesised audio kept in memory for repeats; 0 turns the cache off."),
    duration_key<kTts, &TtsConfig::cache_ttl>("tts.cache_ttl", "How long synthesised audio is kept for repeats."),

    int_key<kLimits, &LimitsConfig::free_daily_messages>(
        "limits.free_daily_messages", 0, 1'000'000,
        "Chat messages a free user may send per day; premium is unlimited."),
    int_key<kLimits, &LimitsConfig::message_max_chars>("limits.message_max_chars", 1, 1'000'000,
                                                       "Longest chat message, in characters."),
    size_key<kLimits, &LimitsConfig::image_max_bytes>("limits.image_max_bytes", 1, kGiB,
                                                      "Largest image attached to a chat message."),

    int_key<kRateLimits, &RateLimitsConfig::auth_per_min>("rate_limits.auth_per_min", 1, kManyPerMinute,
                                                          "Sign-in requests per minute per IP address."),
    int_key<kRateLimits, &RateLimitsConfig::chat_per_min>("rate_limits.chat_per_min", 1, kManyPerMinute,
                                                          "Chat messages per minute per user."),
    int_key<kRateLimits, &RateLimitsConfig::tts_per_min>("rate_limits.tts_per_min", 1, kManyPerMinute,
                                                         "Speech requests per minute per user."),
    int_key<kRateLimits, &RateLimitsConfig::api_per_min>("rate_limits.api_per_min", 1, kManyPerMinute,
                                                         "Other API requests per minute per user."),
    int_key<kRateLimits, &RateLimitsConfig::admin_login_per_min>(
        "rate_limits.admin_login_per_min", 1, kManyPerMinute, "Admin panel login attempts per minute per IP address."),

    text_key<kBackup, &BackupConfig::dir>("backup.dir", "Directory of local backups; empty: <data_dir>/backups."),
    int_key<kBackup, &BackupConfig::retention_days>("backup.retention_days", 1, 3650, "Days local backups are kept."),
    duration_key<kBackup, &BackupConfig::interval>("backup.interval",
                                                   "How often the worker takes a backup; 0 turns it off.", 0),

    int_key<kRetention, &RetentionConfig::message_days>(
        "retention.message_days", 0, 36500, "Chat messages older than this many days are deleted; 0 keeps them."),
    duration_key<kRetention, &RetentionConfig::interval>("retention.interval",
                                                         "How often old messages are looked for."),
    int_key<kRetention, &RetentionConfig::batch_size>("retention.batch_size", 1, 100000,
                                                      "Messages deleted per statement, so no lock is held long."),

    int_key<kMemory, &MemoryConfig::summary_threshold>(
        "memory.summary_threshold", 1, 100'000,
        "A summary is made once more than this many messages follow the last one."),
    int_key<kMemory, &MemoryConfig::max_facts>("memory.max_facts", 1, 1000,
                                               "Most facts kept about a user (pinned ones included)."),
    int_key<kMemory, &MemoryConfig::max_fact_chars>("memory.max_fact_chars", 10, 10'000,
                                                    "Longest fact, in characters."),
    int_key<kMemory, &MemoryConfig::max_summary_chars>("memory.max_summary_chars", 100, 100'000,
                                                       "Longest rolling summary, in characters."),
    int_key<kMemory, &MemoryConfig::max_messages_per_summary>(
        "memory.max_messages_per_summary", 2, 10'000, "Most messages folded into the summary by one model call."),
    duration_key<kMemory, &MemoryConfig::job_lease>(
        "memory.job_lease", "How long one worker holds a user's summary job; keep it above llm.total_timeout."),
    duration_key<kMemory, &MemoryConfig::job_poll_interval>("memory.job_poll_interval",
                                                            "How often the worker looks for summary jobs."),
    duration_key<kMemory, &MemoryConfig::retry_delay>(
        "memory.retry_delay", "Wait before a failed summary is tried again (doubled per attempt); 0: at the next look.",
        0),
    int_key<kMemory, &MemoryConfig::max_attempts>("memory.max_attempts", 1, 100,
                                                  "Attempts of one summary job before it is given up."),

    text_key<kObservability, &ObservabilityConfig::service_name>(
        "observability.service_name", "service.name of exported spans; tells nodes of different services apart.", 1),
    text_key<kObservability, &ObservabilityConfig::environment>(
        "observability.environment", "Deployment name put on error reports (production, staging, ...).", 1),
    text_key<kObservability, &ObservabilityConfig::otlp_endpoint>(
        "observability.otlp_endpoint",
        "OTLP/HTTP collector base URL (spans go to <url>/v1/traces as JSON); empty: no trace export."),
    duration_key<kObservability, &ObservabilityConfig::otlp_flush_interval>(
        "observability.otlp_flush_interval", "How often finished spans are sent to the collector."),
    int_key<kObservability, &ObservabilityConfig::otlp_max_queue>(
        "observability.otlp_max_queue", 1, 1'000'000,
        "Finished spans waiting for export; more are dropped and counted."),
    secret_key<kObservability, &ObservabilityConfig::sentry_dsn>(
        "observability.sentry_dsn",
        "Sentry DSN (https://key@host/project) for reports of 5xx answers and unhandled errors; empty: off."),
    int_key<kObservability, &ObservabilityConfig::sentry_max_events_per_min>(
        "observability.sentry_max_events_per_min", 1, 10'000, "Most error reports sent per minute; more are dropped."),
    int_key<kObservability, &ObservabilityConfig::sentry_max_queue>(
        "observability.sentry_max_queue", 1, 100'000,
        "Error reports waiting to be sent; more are dropped and counted."),
    duration_key<kObservability, &ObservabilityConfig::export_timeout>(
        "observability.export_timeout",
        "Longest call to the trace collector or the error-report endpoint; a slow one never holds up a request."),
};

/// Parses the unsigned decimal that makes up all of `text`.
std::optional<std::int64_t> parse_whole(std::string_view text) {
  if (text.empty() || !std::isdigit(static_cast<unsigned char>(text.front()))) {
    return std::nullopt;
  }
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

/// Splits "30s" into its number and its unit, then scales the number by the unit's factor.
template <std::size_t N>
std::optional<std::int64_t> parse_with_units(std::string_view text,
                                             const std::array<std::pair<std::string_view, std::int64_t>, N>& units,
                                             std::int64_t bare_factor) {
  const auto digits_end =
      std::find_if(text.begin(), text.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)) == 0; });
  const auto number = parse_whole(text.substr(0, static_cast<std::size_t>(digits_end - text.begin())));
  if (!number) {
    return std::nullopt;
  }
  const std::string_view unit = text.substr(static_cast<std::size_t>(digits_end - text.begin()));
  std::int64_t factor = 0;
  if (unit.empty()) {
    factor = bare_factor;
  } else {
    for (const auto& [name, scale] : units) {
      if (unit == name) {
        factor = scale;
      }
    }
  }
  if (factor == 0 || *number > kInt64Max / factor) {
    return std::nullopt;
  }
  return *number * factor;
}

/// Writes `value` with the largest unit (largest first in `units`) that divides it.
template <std::size_t N>
std::string format_with_units(std::int64_t value,
                              const std::array<std::pair<std::string_view, std::int64_t>, N>& units) {
  for (const auto& [name, scale] : units) {
    if (value % scale == 0 && (value != 0 || scale == units.back().second)) {
      return fmt::format("{}{}", value / scale, name);
    }
  }
  return fmt::format("{}{}", value, units.back().first);
}

constexpr std::array<std::pair<std::string_view, std::int64_t>, 5> kDurationUnits{
    {{"ms", 1}, {"s", kSecond}, {"m", kMinute}, {"h", kHour}, {"d", kDay}}};
// One day reads better as 24h; whole multiples of days from two on use "d".
constexpr std::array<std::pair<std::string_view, std::int64_t>, 4> kDurationWriteUnits{
    {{"h", kHour}, {"m", kMinute}, {"s", kSecond}, {"ms", 1}}};
constexpr std::array<std::pair<std::string_view, std::int64_t>, 4> kSizeUnits{
    {{"B", 1}, {"KiB", kKiB}, {"MiB", kMiB}, {"GiB", kGiB}}};
constexpr std::array<std::pair<std::string_view, std::int64_t>, 4> kSizeWriteUnits{
    {{"GiB", kGiB}, {"MiB", kMiB}, {"KiB", kKiB}, {"B", 1}}};

/// `text` as a TOML basic string, quotes included.
std::string toml_string(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\f': out += "\\f"; break;
      case '\r': out += "\\r"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          out += fmt::format("\\u{:04X}", static_cast<unsigned>(static_cast<unsigned char>(c)));
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

/// A value as TOML text for its key's type.
std::string toml_value(const KeyDescriptor& key, const KeyValue& value) {
  switch (key.type) {
    case KeyType::kString:
    case KeyType::kEnum: return toml_string(std::get<std::string>(value));
    case KeyType::kBool: return std::get<bool>(value) ? "true" : "false";
    case KeyType::kInteger:
    case KeyType::kPort: return std::to_string(std::get<std::int64_t>(value));
    case KeyType::kDuration: return toml_string(format_duration(milliseconds(std::get<std::int64_t>(value))));
    case KeyType::kSize: return toml_string(format_size(static_cast<std::size_t>(std::get<std::int64_t>(value))));
    case KeyType::kStringList: {
      std::string out = "[";
      for (const auto& item : std::get<std::vector<std::string>>(value)) {
        out += out.size() > 1 ? ", " : "";
        out += toml_string(item);
      }
      return out + "]";
    }
  }
  return {};
}

/// Hides the password of a URL's user info ("postgresql://app:***@db/evolveai").
std::string hide_url_password(std::string text) {
  const auto scheme_end = text.find("://");
  if (scheme_end == std::string::npos) {
    return text;
  }
  const auto authority = scheme_end + 3;
  const auto authority_end = std::min(text.find_first_of("/?#", authority), text.size());
  const auto at = text.rfind('@', authority_end);
  if (at == std::string::npos || at < authority) {
    return text;
  }
  const auto colon = text.find(':', authority);
  if (colon == std::string::npos || colon > at) {
    return text;
  }
  return text.replace(colon + 1, at - colon - 1, "***");
}

/// Comment lines describing what a key accepts, beyond its help.
std::string constraint_comment(const KeyDescriptor& key) {
  switch (key.type) {
    case KeyType::kEnum: return fmt::format("# One of: {}.\n", key.allowed_text());
    case KeyType::kInteger:
    case KeyType::kPort:
      return key.max == kInt64Max ? fmt::format("# At least {}.\n", key.min)
                                  : fmt::format("# From {} to {}.\n", key.min, key.max);
    case KeyType::kString: return key.min > 0 ? std::string("# Must not be empty.\n") : std::string();
    case KeyType::kBool:
    case KeyType::kStringList:
    case KeyType::kDuration:
    case KeyType::kSize: return {};
  }
  return {};
}

/// Every key's lines after `text`, section by section; `write_key` appends the lines of one key.
template <typename WriteKey>
std::string render_sections(std::string text, WriteKey&& write_key) {
  std::string_view section;
  for (const auto& key : kKeys) {
    if (key.section() != section) {
      section = key.section();
      text += fmt::format("\n[{}]\n", section);
    }
    write_key(text, key);
  }
  return text;
}

}  // namespace

std::string_view KeyDescriptor::section() const {
  return name.substr(0, name.find('.'));
}

std::string_view KeyDescriptor::leaf() const {
  return name.substr(name.find('.') + 1);
}

std::string KeyDescriptor::env_var() const {
  std::string out = "EVOLVEAI_";
  for (const char c : section()) {
    out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  out += "__";
  for (const char c : leaf()) {
    out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

std::string KeyDescriptor::default_text() const {
  return toml_value(*this, get(Config{}));
}

std::string KeyDescriptor::allowed_text() const {
  std::string out;
  for (const auto value : allowed) {
    out += out.empty() ? "" : ", ";
    out += value.empty() ? std::string("\"\"") : std::string(value);
  }
  return out;
}

std::span<const KeyDescriptor> config_keys() {
  return kKeys;
}

const KeyDescriptor* find_config_key(std::string_view name) {
  const auto found =
      std::find_if(kKeys.begin(), kKeys.end(), [&](const KeyDescriptor& key) { return key.name == name; });
  return found == kKeys.end() ? nullptr : &*found;
}

std::optional<milliseconds> parse_duration(std::string_view text) {
  const auto value = parse_with_units(text, kDurationUnits, kSecond);
  return value ? std::optional<milliseconds>(milliseconds(*value)) : std::nullopt;
}

std::optional<std::size_t> parse_size(std::string_view text) {
  const auto value = parse_with_units(text, kSizeUnits, 1);
  return value ? std::optional<std::size_t>(static_cast<std::size_t>(*value)) : std::nullopt;
}

std::string format_duration(milliseconds duration) {
  const std::int64_t value = duration.count();
  if (value != 0 && value % kDay == 0 && value / kDay > 1) {
    return fmt::format("{}d", value / kDay);
  }
  return value == 0 ? std::string("0s") : format_with_units(value, kDurationWriteUnits);
}

std::string format_size(std::size_t bytes) {
  return format_with_units(static_cast<std::int64_t>(bytes), kSizeWriteUnits);
}

std::string render_effective(const Config& config) {
  return render_sections("# Effective EvolveAI configuration; secrets are shown as \"***\".\n",
                         [&](std::string& text, const KeyDescriptor& key) {
                           KeyValue value = key.get(config);
                           if (auto* string = std::get_if<std::string>(&value)) {
                             if (key.secret && !string->empty()) {
                               *string = "***";
                             } else if (!key.secret) {
                               *string = hide_url_password(std::move(*string));
                             }
                           }
                           text += fmt::format("{} = {}\n", key.leaf(), toml_value(key, value));
                         });
}

std::string render_example() {
  return render_sections(
      "# EvolveAI example configuration: every key, its meaning and its default value.\n"
      "# Generated by render_example() (src/app/config.cpp); a unit test keeps the two equal.\n"
      "#\n"
      "# Copy it to config/evolveai.toml (read when --config names no file) and keep the keys\n"
      "# you change; a key left out keeps its default. Unknown keys are errors.\n"
      "# Every key can be set by environment as EVOLVEAI_<SECTION>__<KEY>, e.g.\n"
      "# EVOLVEAI_SERVER__PORT=9000, which wins over this file; every secret also by\n"
      "# EVOLVEAI_<SECTION>__<KEY>_FILE naming a file that holds it, which wins over both.\n"
      "# Durations: \"250ms\", \"30s\", \"10m\", \"24h\", \"7d\" or whole seconds.\n"
      "# Sizes: \"512B\", \"64KiB\", \"14MiB\", \"1GiB\" or whole bytes.\n",
      [](std::string& text, const KeyDescriptor& key) {
        text += fmt::format("\n# {}\n", key.help);
        text += constraint_comment(key);
        if (key.secret) {
          text += fmt::format("# Secret. Environment: {0} or {0}_FILE.\n", key.env_var());
        } else if (key.type == KeyType::kStringList) {
          text += fmt::format("# Environment: {} (comma-separated).\n", key.env_var());
        } else {
          text += fmt::format("# Environment: {}.\n", key.env_var());
        }
        text += fmt::format("{} = {}\n", key.leaf(), key.default_text());
      });
}

}  // namespace evolveai::app
