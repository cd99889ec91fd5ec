#include "app/telegram_wiring.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <atomic>
#include <random>

#include "net/circuit_breaker.hpp"
#include "net/http_client.hpp"
#include "obs/logger.hpp"
#include "services/premium_plans.hpp"
#include "telegram/bot.hpp"
#include "telegram/bot_api.hpp"
#include "telegram/bot_star_refunds.hpp"
#include "telegram/dispatcher.hpp"
#include "telegram/poller.hpp"
#include "telegram/webhook.hpp"

namespace evolveai::app {
namespace {

namespace asio = boost::asio;

/// How often stop() looks whether the poller has ended.
constexpr std::chrono::milliseconds kStopPoll{20};

net::HttpClientOptions client_options(const TelegramConfig& config) {
  net::HttpClientOptions options;
  const auto longest = config.timeout + config.poll_timeout;
  options.connect_timeout = std::min<std::chrono::milliseconds>(config.timeout, std::chrono::seconds(10));
  options.first_byte_timeout = longest;
  options.read_timeout = longest;
  options.total_timeout = longest;
  options.user_agent = "evolveai-telegram";
  return options;
}

std::string node_owner() {
  std::random_device entropy;
  return "node-" + std::to_string(entropy()) + "-" + std::to_string(entropy());
}

}  // namespace

/// Members in construction order; the bot parts exist only with a token.
struct TelegramLayer::Parts {
  Parts(const Config& cfg, obs::Logger& log, asio::any_io_executor ex)
      : config(cfg.telegram), logger(log), executor(std::move(ex)), strand(asio::make_strand(executor)) {}

  TelegramConfig config;
  obs::Logger& logger;
  asio::any_io_executor executor;
  asio::strand<asio::any_io_executor> strand;
  std::unique_ptr<net::CircuitBreaker> breaker;
  std::unique_ptr<telegram::BotApi> api;
  std::unique_ptr<telegram::Bot> bot;
  std::unique_ptr<telegram::Dispatcher> dispatcher;
  std::unique_ptr<telegram::Poller> poller;
  std::unique_ptr<telegram::BotStarRefunds> refunds;
  asio::cancellation_signal stop_polling;
  std::shared_ptr<std::atomic<bool>> polling_done = std::make_shared<std::atomic<bool>>(true);
  /// The start-up calls (getMe, setMyCommands, setWebhook) may still be retrying at stop: they are
  /// cancelled and waited for, so that none outlives the client and breaker it uses.
  asio::cancellation_signal stop_set_up;
  std::shared_ptr<std::atomic<bool>> set_up_done = std::make_shared<std::atomic<bool>>(true);
};

TelegramLayer::TelegramLayer(const Config& config, TelegramServices services, obs::MetricsRegistry& metrics,
                             obs::Logger& logger, asio::any_io_executor executor)
    : parts_(std::make_unique<Parts>(config, logger, std::move(executor))) {
  auto& p = *parts_;
  if (config.telegram.bot_token.empty()) {
    p.refunds = std::make_unique<telegram::BotStarRefunds>(nullptr);
    return;
  }
  net::BreakerSettings breaker_settings;
  breaker_settings.failure_threshold = static_cast<unsigned>(config.telegram.breaker_failures);
  breaker_settings.open_duration = config.telegram.breaker_open_duration;
  p.breaker = std::make_unique<net::CircuitBreaker>("telegram", breaker_settings, metrics, logger);

  telegram::BotApiOptions api_options;
  api_options.base_url = config.telegram.api_base_url;
  api_options.token = config.telegram.bot_token;
  api_options.retry.max_attempts = static_cast<unsigned>(config.telegram.max_retries) + 1;
  api_options.max_flood_wait = std::chrono::duration_cast<std::chrono::seconds>(config.telegram.max_flood_wait);
  p.api = std::make_unique<telegram::BotApi>(api_options,
                                             std::make_shared<net::HttpClient>(client_options(config.telegram)),
                                             p.breaker.get(), metrics, logger);

  telegram::BotOptions bot_options;
  bot_options.public_url = config.telegram.public_url;
  bot_options.stream_edit_interval = config.telegram.stream_edit_interval;
  bot_options.use_drafts = config.telegram.use_drafts;
  bot_options.max_file_bytes = config.telegram.max_file_bytes;
  bot_options.rate_policy.limit = static_cast<unsigned>(config.telegram.rate_per_min);
  p.bot = std::make_unique<telegram::Bot>(
      *p.api,
      telegram::BotServices{services.store, services.chat, services.history, services.memory, services.profiles,
                            services.voice, services.plans, services.limiter},
      bot_options, metrics, logger);
  p.dispatcher = std::make_unique<telegram::Dispatcher>(
      p.executor, [bot = p.bot.get()](telegram::Update update) { return bot->handle(std::move(update)); },
      static_cast<std::size_t>(config.telegram.max_in_flight), logger, services.errors);
  if (config.telegram.mode == "polling") {
    telegram::PollerOptions poller_options;
    poller_options.owner = node_owner();
    poller_options.lease_ttl = config.telegram.lease_ttl;
    poller_options.poll_timeout = std::chrono::duration_cast<std::chrono::seconds>(config.telegram.poll_timeout);
    p.poller = std::make_unique<telegram::Poller>(*p.api, services.store, *p.dispatcher, poller_options, logger);
  }
  p.refunds = std::make_unique<telegram::BotStarRefunds>(p.api.get());
}

TelegramLayer::~TelegramLayer() = default;

void TelegramLayer::add_routes(http::Router& router) {
  auto& p = *parts_;
  auto* dispatcher = p.config.mode == "webhook" ? p.dispatcher.get() : nullptr;
  telegram::add_webhook_route(router, dispatcher, p.config.webhook_secret, p.logger);
}

void TelegramLayer::start() {
  auto& p = *parts_;
  if (!p.bot) {
    return;
  }
  auto set_up = [&p]() -> Task<void> {
    try {
      auto registering = p.bot->set_up();
      co_await std::move(registering);
      if (p.config.mode == "webhook" && !p.config.public_url.empty()) {
        boost::json::object params;
        std::string base = p.config.public_url;
        while (!base.empty() && base.back() == '/') {
          base.pop_back();
        }
        params["url"] = base + "/telegram/webhook";
        params["secret_token"] = p.config.webhook_secret;
        boost::json::array kinds;
        for (const auto& kind : telegram::allowed_updates()) {
          kinds.emplace_back(kind);
        }
        params["allowed_updates"] = std::move(kinds);
        auto setting = p.api->call("setWebhook", std::move(params));
        co_await std::move(setting);
        p.logger.info("telegram_webhook_set", {});
      }
    } catch (const boost::system::system_error& e) {
      if (e.code() != asio::error::operation_aborted) {
        p.logger.error("telegram_set_up_failed", {{"error", e.what()}});
      }
    } catch (const std::exception& e) {
      p.logger.error("telegram_set_up_failed", {{"error", e.what()}});
    }
  };
  p.set_up_done->store(false);
  auto set_up_done = p.set_up_done;
  asio::co_spawn(p.strand, std::move(set_up),
                 asio::bind_cancellation_slot(p.stop_set_up.slot(),
                                              [set_up_done](const std::exception_ptr&) { set_up_done->store(true); }));
  if (p.poller) {
    p.polling_done->store(false);
    auto done = p.polling_done;
    auto& logger = p.logger;
    asio::co_spawn(
        p.strand, p.poller->run(),
        asio::bind_cancellation_slot(p.stop_polling.slot(), [done, &logger](const std::exception_ptr& error) {
          if (error) {
            try {
              std::rethrow_exception(error);
            } catch (const boost::system::system_error& e) {
              if (e.code() != asio::error::operation_aborted) {
                logger.error("telegram_poller_stopped", {{"error", e.what()}});
              }
            } catch (const std::exception& e) {
              logger.error("telegram_poller_stopped", {{"error", e.what()}});
            }
          }
          done->store(true);
        }));
  }
}

Task<void> TelegramLayer::stop(std::chrono::milliseconds timeout) {
  auto& p = *parts_;
  if (!p.bot) {
    co_return;
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  asio::steady_timer timer(p.executor);
  asio::post(p.strand, [&p] { p.stop_set_up.emit(asio::cancellation_type::terminal); });
  while (!p.set_up_done->load() && std::chrono::steady_clock::now() < deadline) {
    timer.expires_after(kStopPoll);
    co_await timer.async_wait(asio::use_awaitable);
  }
  if (p.poller) {
    asio::post(p.strand, [&p] { p.stop_polling.emit(asio::cancellation_type::terminal); });
    while (!p.polling_done->load() && std::chrono::steady_clock::now() < deadline) {
      timer.expires_after(kStopPoll);
      co_await timer.async_wait(asio::use_awaitable);
    }
    auto releasing = p.poller->release();
    co_await std::move(releasing);
  }
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  auto draining = p.dispatcher->drain(std::max(left, std::chrono::milliseconds(0)));
  if (!co_await std::move(draining)) {
    p.logger.warn("telegram_updates_unfinished", {{"in_flight", p.dispatcher->in_flight()}});
  }
}

services::StarRefunds& TelegramLayer::star_refunds() {
  return *parts_->refunds;
}

api::InvoiceLinkMaker TelegramLayer::invoice_links() {
  auto* bot = parts_->bot.get();
  if (bot == nullptr) {
    return {};
  }
  return [bot](storage::UserId user_id, const services::PremiumPlan& plan, const obs::TraceContext& trace) {
    return bot->create_invoice_link(user_id, plan, telegram::Lang::kEn, trace);
  };
}

bool TelegramLayer::enabled() const noexcept {
  return parts_->bot != nullptr;
}

}  // namespace evolveai::app
