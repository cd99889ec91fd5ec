#include "app/application.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_future.hpp>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <random>
#include <string_view>
#include <thread>

#include "api/auth_routes.hpp"
#include "api/health.hpp"
#include "api/memory_routes.hpp"
#include "api/openapi.hpp"
#include "api/premium_routes.hpp"
#include "api/rate_limit_middleware.hpp"
#include "api/store_unavailable_middleware.hpp"
#include "api/tts_routes.hpp"
#include "app/admin_wiring.hpp"
#include "app/auth_wiring.hpp"
#include "app/build_info.hpp"
#include "app/cache_wiring.hpp"
#include "app/chat_wiring.hpp"
#include "app/cli_worker.hpp"
#include "app/memory_wiring.hpp"
#include "app/observability_wiring.hpp"
#include "app/store_wiring.hpp"
#include "app/telegram_wiring.hpp"
#include "app/tts_wiring.hpp"
#include "core/errors.hpp"
#include "http/error_report_middleware.hpp"
#include "http/middleware.hpp"
#include "http/pipeline.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "http/static_files.hpp"
#include "net/http_client.hpp"
#include "net/otlp_exporter.hpp"
#include "obs/health.hpp"
#include "obs/logger.hpp"
#include "obs/metrics.hpp"
#include "obs/process_metrics.hpp"
#include "obs/tracer.hpp"
#include "services/auth/password_hasher.hpp"
#include "services/auth_service.hpp"
#include "services/feature_flags.hpp"
#include "services/premium_plans.hpp"
#include "services/profile_service.hpp"
#include "services/scheduler.hpp"
#include "services/voice_replies.hpp"
#include "storage/cached_user_store.hpp"
#include "storage/store.hpp"

namespace evolveai::app {
namespace {

namespace asio = boost::asio;

constexpr std::size_t kMaxWebBytes = 256ULL * 1024 * 1024;
/// Each dependency check of /readyz gets this long; a load balancer polls often.
constexpr std::chrono::milliseconds kReadinessCheckTimeout{2000};

http::ServerOptions server_options(const Config& config) {
  const auto& server = config.server;
  http::ServerOptions options;
  options.host = server.host;
  options.port = server.port;
  options.max_connections = server.max_connections;
  options.header_limit = server.header_limit;
  options.body_limit = server.body_limit;
  options.header_timeout = server.header_timeout;
  options.idle_timeout = server.idle_timeout;
  options.request_timeout = server.request_timeout;
  // A single write may take as long as reading a request may.
  options.write_timeout = server.request_timeout;
  options.stream_timeout = server.stream_timeout;
  options.sse_heartbeat = server.sse_heartbeat;
  return options;
}

obs::LogLevel log_level(const Config& config) {
  obs::LogLevel level = obs::LogLevel::kInfo;
  obs::parse_log_level(config.log.level, level);  // the loader has validated the name
  return level;
}

obs::Logger::Format log_format(const Config& config) {
  return config.log.format == "text" ? obs::Logger::Format::kText : obs::Logger::Format::kJson;
}

/// Creates the data directory (the SQLite file, secrets and backups live there) before anything opens it.
/// The named rate-limit policies routes refer to, from `[rate_limits]` (all per minute).
api::RatePolicies rate_policies(const Config& config) {
  const auto per_minute = [](std::string name, int limit) {
    return cache::RatePolicy{std::move(name), static_cast<unsigned>(limit), std::chrono::minutes(1)};
  };
  const auto& limits = config.rate_limits;
  api::RatePolicies policies;
  for (auto policy : {per_minute("auth", limits.auth_per_min), per_minute("admin_login", limits.admin_login_per_min),
                      per_minute("chat", limits.chat_per_min), per_minute("tts", limits.tts_per_min),
                      per_minute("api", limits.api_per_min)}) {
    auto name = policy.name;
    policies.emplace(std::move(name), std::move(policy));
  }
  return policies;
}

/// The worker's periodic tasks from `[retention]` and `[backup]`.
WorkerTaskOptions worker_options(const Config& config) {
  WorkerTaskOptions options;
  options.message_retention_days = config.retention.message_days;
  options.message_retention_interval = config.retention.interval;
  options.message_retention_batch = static_cast<std::size_t>(config.retention.batch_size);
  options.processed_updates_interval = config.retention.interval;
  options.backup_interval = config.backup.interval;
  return options;
}

constexpr std::string_view kApiRole = "api";
constexpr std::string_view kBotRole = "bot";
constexpr std::string_view kWorkerRole = "worker";

/// True when this node was given `role` (server.roles, or serve --roles).
bool has_role(const Config& config, std::string_view role) {
  return std::find(config.server.roles.begin(), config.server.roles.end(), role) != config.server.roles.end();
}

Config with_data_dir(Config config) {
  std::filesystem::create_directories(config.server.data_dir);
  return config;
}

}  // namespace

/// Every long-lived object, in construction order; members are destroyed in reverse.
struct Application::Components {
  explicit Components(Config cfg)
      : config(with_data_dir(std::move(cfg))),
        logger(log_level(config), log_format(config)),
        tracer(tracer_options(config), metrics),
        io(static_cast<int>(config.server.threads)),
        blocking(std::max<std::size_t>(2, static_cast<std::size_t>(config.database.pool_size))),
        errors(make_error_reporter(config, io.get_executor(), metrics, logger)),
        cache_layer(config, io.get_executor(), metrics, logger, health),
        store(std::make_unique<storage::CachedUserStore>(
            storage::open_store(
                store_settings(config, make_store_observer(logger, metrics, config.database.slow_query_threshold)),
                blocking, io.get_executor()),
            cache_layer.cache(), config.redis.user_cache_ttl)),
        flags(make_feature_flags(*store, cache_layer.cache())),
        access_tokens(crypto, access_token_settings(config)),
        init_data_verifier(make_init_data_verifier(crypto, config)),
        login_widget_verifier(make_login_widget_verifier(config)),
        passwords(crypto),
        auth(*store, access_tokens, init_data_verifier.get(), login_widget_verifier.get(), passwords, blocking, logger,
             flags.get()),
        profiles(*store, config.limits.free_daily_messages, [] { return std::chrono::system_clock::now(); }),
        tts_layer(config, *store, blocking, metrics, logger),
        voice_replies(*store, tts_layer.service(),
                      [this](storage::UserId user_id) { return flags->enabled(services::kFlagVoiceReplies, user_id); }),
        // Summaries need the chat model, so the memory service comes after the chat layer;
        // the hook only runs once serving has begun.
        chat_layer(config, *store, metrics, logger, health,
                   [this](storage::UserId user_id) { return memory->note_turn(user_id); }),
        memory(std::make_unique<services::MemoryService>(*store, chat_layer.model(), memory_options(config), logger,
                                                         metrics)),
        plans(services::PremiumPlans::parse(config.premium.plans)),
        telegram_layer(config,
                       TelegramServices{*store, chat_layer.chat(), chat_layer.history(), *memory, profiles,
                                        voice_replies, plans, cache_layer.limiter(), errors.get()},
                       metrics, logger, io.get_executor()),
        // Refunds go through the bot; without a token its StarRefunds says unavailable.
        admin_layer(config, *store, *flags, &telegram_layer.star_refunds(), blocking, logger),
        policies(rate_policies(config)),
        static_files(config.server.web_root, kMaxWebBytes) {
    obs::register_process_metrics(metrics, std::string(build_version()), std::string(build_commit()));
    auto worker = worker_options(config);
    worker.memory = memory.get();
    worker.admin = &admin_layer.service();
    worker.memory_job_interval = config.memory.job_poll_interval;
    worker.scheduler.errors = errors.get();
    worker.scheduler.first_run_delay = config.server.worker_first_run_delay;
    scheduler = make_worker_tasks(*store, blocking, config, logger, metrics, worker);
    health.add("database", [this]() -> Task<obs::CheckResult> {
      co_await store->ping();
      co_return obs::CheckResult{true, false, ""};
    });

    std::random_device entropy;
    const std::uint64_t seed = (static_cast<std::uint64_t>(entropy()) << 32U) | entropy();
    pipeline.use(http::request_id_middleware(seed));
    pipeline.use(http::tracing_middleware(tracer));
    pipeline.use(http::observe_middleware(logger, metrics));
    pipeline.use(http::error_middleware(logger));
    pipeline.use(http::error_report_middleware(*errors));
    pipeline.use(api::store_unavailable_middleware());
    pipeline.use(http::deadline_middleware(config.server.request_timeout));
    pipeline.use(api::authentication_middleware(auth));
    pipeline.use(api::rate_limit_middleware(cache_layer.limiter(), policies));

    // Every node answers probes and metrics; the roles decide the rest.
    api::add_health_routes(router, health, metrics, kReadinessCheckTimeout);
    chat_layer.chat().use_feature_flags(flags.get());
    chat_layer.chat().use_tracer(&tracer);
    if (has_role(config, kApiRole)) {
      api::add_openapi_routes(router);
      api::add_auth_routes(router, auth);
      api::add_profile_routes(router, profiles);
      api::add_tts_routes(router, tts_layer.service());
      chat_layer.add_routes(router, &voice_replies);
      api::add_memory_routes(router, *memory);
      api::add_premium_routes(router, profiles, plans, telegram_layer.invoice_links());
      admin_layer.add_routes(router);
    }
    if (has_role(config, kBotRole)) {
      telegram_layer.add_routes(router);
    }

    http::FallbackHandler fallback = [this](http::Request& request, http::RequestContext& context) {
      return static_files.serve(request, context);
    };
    if (!has_role(config, kApiRole)) {
      fallback = [](http::Request&, http::RequestContext&) -> Task<http::Response> { throw core::not_found(); };
    }
    server = std::make_unique<http::Server>(io, server_options(config), router, pipeline, std::move(fallback), logger,
                                            metrics);
    trace_exporter = make_trace_exporter(config, tracer, logger, metrics);
  }

  Config config;
  obs::Logger logger;
  obs::MetricsRegistry metrics;
  obs::HealthChecks health;
  obs::Tracer tracer;
  asio::io_context io;
  net::BlockingPool blocking;
  std::unique_ptr<obs::ErrorReporter> errors;  ///< 5xx answers and background failures go here
  CacheLayer cache_layer;
  std::unique_ptr<storage::Store> store;
  std::unique_ptr<services::FeatureFlags> flags;
  std::unique_ptr<services::Scheduler> scheduler;
  services::auth::CryptoInit crypto;
  services::auth::AccessTokens access_tokens;
  std::unique_ptr<services::auth::InitDataVerifier> init_data_verifier;
  std::unique_ptr<services::auth::LoginWidgetVerifier> login_widget_verifier;
  services::auth::PasswordHasher passwords;
  services::AuthService auth;
  services::ProfileService profiles;
  TtsLayer tts_layer;
  services::VoiceReplies voice_replies;
  ChatLayer chat_layer;
  std::unique_ptr<services::MemoryService> memory;
  services::PremiumPlans plans;
  TelegramLayer telegram_layer;
  AdminLayer admin_layer;
  api::RatePolicies policies;
  http::StaticFiles static_files;
  http::Router router;
  http::Pipeline pipeline;
  std::unique_ptr<http::Server> server;
  std::unique_ptr<net::OtlpExporter> trace_exporter;
  std::atomic<bool> stopping{false};
};

Application::Application(Config config) : components_(std::make_unique<Components>(std::move(config))) {}

Application::~Application() = default;

void Application::start() {
  auto& c = *components_;
  api::check_route_policies(c.router, c.policies);
  if (c.config.database.migrate_on_start) {
    // Runs before any I/O thread exists: drive the io_context here until migrations finish.
    auto guard = asio::make_work_guard(c.io);
    auto migrated = asio::co_spawn(c.io, c.store->migrate_up(), asio::use_future);
    while (migrated.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
      c.io.run_one();
    }
    guard.reset();
    c.io.restart();
    const auto applied = migrated.get();
    c.logger.info("database_ready", {{"dialect", c.store->dialect()}, {"migrations", applied.size()}});
  }
  if (has_role(c.config, kWorkerRole)) {
    c.scheduler->start(c.io.get_executor());
  }
  c.server->start();
  if (c.trace_exporter) {
    c.trace_exporter->start(c.io.get_executor());
  }
  if (has_role(c.config, kBotRole)) {
    c.telegram_layer.start();
  }
  c.health.set_ready(true);
  c.logger.info("server_started", {{"host", c.config.server.host},
                                   {"port", static_cast<unsigned>(c.server->port())},
                                   {"threads", c.config.server.threads},
                                   {"version", build_version()},
                                   {"commit", build_commit()},
                                   {"web_files", c.static_files.file_count()}});
}

std::uint16_t Application::port() const {
  return components_->server->port();
}

http::Router& Application::router() {
  return components_->router;
}

obs::HealthChecks& Application::health() {
  return components_->health;
}

storage::Store& Application::store() {
  return *components_->store;
}

boost::asio::any_io_executor Application::executor() {
  return components_->io.get_executor();
}

std::future<services::RunOutcome> Application::run_worker_task(std::string name) {
  auto& c = *components_;
  return asio::co_spawn(
      c.io,
      [&c, task = std::move(name)]() -> Task<services::RunOutcome> { co_return co_await c.scheduler->run_now(task); },
      asio::use_future);
}

void Application::request_stop() {
  auto& c = *components_;
  if (c.stopping.exchange(true)) {
    return;
  }
  asio::co_spawn(
      c.io,
      [&c]() -> Task<void> {
        c.health.set_ready(false);
        c.logger.info("shutdown_started", {{"open_connections", c.server->open_connections()},
                                           {"deadline_ms", c.config.server.shutdown_timeout.count()}});
        // No new updates are taken; those in hand finish within the deadline.
        auto stopping_bot = c.telegram_layer.stop(c.config.server.shutdown_timeout);
        co_await std::move(stopping_bot);
        co_await c.server->shutdown(c.config.server.shutdown_timeout);
        // Jobs stop at a safe point and release their leases.
        co_await c.scheduler->stop();
        // The last spans (those of the requests just finished) go out before exit.
        if (c.trace_exporter) {
          co_await c.trace_exporter->stop();
        }
        c.logger.info("shutdown_finished", {});
        c.io.stop();
      },
      asio::detached);
}

int Application::run() {
  auto& c = *components_;
  asio::signal_set signals(c.io, SIGINT, SIGTERM);
  signals.async_wait([this](const boost::system::error_code& ec, int signal_number) {
    if (!ec) {
      components_->logger.info("signal_received", {{"signal", signal_number}});
      request_stop();
    }
  });
  auto guard = asio::make_work_guard(c.io);
  std::vector<std::thread> threads;
  const unsigned count = std::max(1U, c.config.server.threads);
  threads.reserve(count - 1);
  for (unsigned i = 1; i < count; ++i) {
    threads.emplace_back([&c] { c.io.run(); });
  }
  c.io.run();
  for (auto& thread : threads) {
    thread.join();
  }
  c.logger.flush();
  return 0;
}

}  // namespace evolveai::app
