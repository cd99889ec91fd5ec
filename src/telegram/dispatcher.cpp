#include "telegram/dispatcher.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <deque>
#include <map>
#include <mutex>
#include <optional>

#include "obs/error_reporter.hpp"
#include "obs/logger.hpp"

namespace evolveai::telegram {
namespace {

namespace asio = boost::asio;

/// How often drain() looks again.
constexpr std::chrono::milliseconds kDrainPoll{20};

}  // namespace

struct Dispatcher::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::any_io_executor ex, Handler h, std::size_t max, obs::Logger& log, obs::ErrorReporter* reporter)
      : executor(std::move(ex)), handler(std::move(h)), slots(executor, max), logger(log), errors(reporter) {}

  asio::any_io_executor executor;
  Handler handler;
  /// A counting semaphore: a buffered value is a slot taken.
  asio::experimental::concurrent_channel<void(boost::system::error_code)> slots;
  obs::Logger& logger;
  obs::ErrorReporter* errors;  ///< may be null
  mutable std::mutex mutex;
  std::map<std::int64_t, std::deque<Update>> chats;  ///< chats with a running worker and what waits behind it
  std::size_t active = 0;

  void release_slot() {
    slots.try_receive([](boost::system::error_code) {});
    const std::scoped_lock lock(mutex);
    --active;
  }

  Task<void> run_one(Update update) {
    auto self = shared_from_this();
    const auto id = update.update_id;
    try {
      auto handling = handler(std::move(update));
      co_await std::move(handling);
    } catch (const std::exception& e) {
      logger.error("telegram_update_failed", {{"update_id", id}, {"error", e.what()}});
      if (errors != nullptr) {
        obs::ErrorReport report;
        report.logger = "telegram";
        report.exception_type = obs::exception_type_name(e);
        report.exception_value = e.what();
        report.tags = {{"update_id", std::to_string(id)}, {"role", "bot"}};
        errors->report(std::move(report));
      }
    }
    release_slot();
  }

  Task<void> chat_worker(std::int64_t chat, Update first) {
    auto self = shared_from_this();
    auto running = run_one(std::move(first));
    co_await std::move(running);
    for (;;) {
      Update next;
      {
        const std::scoped_lock lock(mutex);
        auto found = chats.find(chat);
        if (found->second.empty()) {
          chats.erase(found);
          co_return;
        }
        next = std::move(found->second.front());
        found->second.pop_front();
      }
      auto again = run_one(std::move(next));
      co_await std::move(again);
    }
  }
};

Dispatcher::Dispatcher(asio::any_io_executor executor, Handler handler, std::size_t max_in_flight, obs::Logger& logger,
                       obs::ErrorReporter* errors)
    : impl_(std::make_shared<Impl>(std::move(executor), std::move(handler), std::max<std::size_t>(1, max_in_flight),
                                   logger, errors)) {}

Dispatcher::~Dispatcher() = default;

Task<void> Dispatcher::submit(Update update) {
  auto impl = impl_;
  co_await impl->slots.async_send(boost::system::error_code{}, asio::use_awaitable);
  const auto key = ordering_key(update);
  std::optional<Update> to_run;  // set unless the update waits behind its chat's running worker
  {
    const std::scoped_lock lock(impl->mutex);
    ++impl->active;
    const bool queued_behind = key && !impl->chats.try_emplace(*key).second;
    if (queued_behind) {
      impl->chats.at(*key).push_back(std::move(update));
    } else {
      to_run = std::move(update);
    }
  }
  if (!to_run) {
    co_return;
  }
  if (key) {
    asio::co_spawn(impl->executor, impl->chat_worker(*key, std::move(*to_run)), asio::detached);
  } else {
    asio::co_spawn(impl->executor, impl->run_one(std::move(*to_run)), asio::detached);
  }
}

Task<bool> Dispatcher::drain(std::chrono::milliseconds timeout) {
  auto impl = impl_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  asio::steady_timer timer(impl->executor);
  while (in_flight() > 0) {
    if (std::chrono::steady_clock::now() >= deadline) {
      co_return false;
    }
    timer.expires_after(kDrainPoll);
    co_await timer.async_wait(asio::use_awaitable);
  }
  co_return true;
}

std::size_t Dispatcher::in_flight() const {
  const std::scoped_lock lock(impl_->mutex);
  return impl_->active;
}

}  // namespace evolveai::telegram
