#include "telegram/poller.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include <algorithm>
#include <charconv>
#include <optional>

#include "obs/logger.hpp"
#include "storage/store.hpp"
#include "telegram/bot_api.hpp"
#include "telegram/dispatcher.hpp"

namespace evolveai::telegram {
namespace {

bool is_cancellation(const boost::system::system_error& e) {
  return e.code() == boost::asio::error::operation_aborted;
}

std::int64_t parse_offset(const std::optional<std::string>& stored) {
  std::int64_t offset = 0;
  if (stored) {
    std::from_chars(stored->data(), stored->data() + stored->size(), offset);
  }
  return offset;
}

}  // namespace

std::vector<std::string> allowed_updates() {
  return {"message", "edited_message", "callback_query", "pre_checkout_query"};
}

Poller::Poller(BotApi& api, storage::Store& store, Dispatcher& dispatcher, PollerOptions options, obs::Logger& logger)
    : api_(api), store_(store), dispatcher_(dispatcher), options_(std::move(options)), logger_(logger) {
  // A poll must end well before the lease it renews runs out.
  const auto longest = std::chrono::duration_cast<std::chrono::seconds>(options_.lease_ttl / 2);
  options_.poll_timeout = std::max(std::chrono::seconds(0), std::min(options_.poll_timeout, longest));
}

Task<void> Poller::pause(std::chrono::milliseconds duration) {
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, duration);
  co_await timer.async_wait(boost::asio::use_awaitable);
}

Task<void> Poller::run() {
  const auto kinds = allowed_updates();
  const auto retry_lease = std::max(std::chrono::milliseconds(50), options_.lease_ttl / 4);
  bool holding = false;
  std::int64_t offset = 0;
  for (;;) {
    bool held = false;
    try {
      auto acquiring = store_.acquire_lease(kPollerLease, options_.owner, options_.lease_ttl);
      held = co_await std::move(acquiring);
      if (held && !holding) {
        auto reading = store_.kv_get(kOffsetKey);
        offset = parse_offset(co_await std::move(reading));
        logger_.info("telegram_poller_lease_taken", {{"owner", options_.owner}, {"offset", offset}});
      }
    } catch (const boost::system::system_error& e) {
      if (is_cancellation(e)) {
        throw;
      }
      logger_.warn("telegram_poller_lease_failed", {{"error", e.what()}});
    } catch (const std::exception& e) {
      logger_.warn("telegram_poller_lease_failed", {{"error", e.what()}});
    }
    if (holding && !held) {
      logger_.warn("telegram_poller_lease_lost", {{"owner", options_.owner}});
    }
    holding = held;
    if (!held) {
      auto pausing = pause(retry_lease);
      co_await std::move(pausing);
      continue;
    }

    std::optional<UpdateBatch> batch;
    try {
      auto polling = api_.get_updates(offset, options_.poll_timeout, kinds);
      batch = co_await std::move(polling);
    } catch (const boost::system::system_error& e) {
      if (is_cancellation(e)) {
        throw;
      }
      logger_.warn("telegram_poll_failed", {{"error", e.what()}});
    } catch (const std::exception& e) {
      logger_.warn("telegram_poll_failed", {{"error", e.what()}});
    }
    if (!batch) {
      auto pausing = pause(options_.error_backoff);
      co_await std::move(pausing);
      continue;
    }
    for (auto& update : batch->updates) {
      auto submitting = dispatcher_.submit(std::move(update));
      co_await std::move(submitting);
    }
    if (batch->next_offset && *batch->next_offset > offset) {
      offset = *batch->next_offset;
      try {
        const auto stored = std::to_string(offset);
        auto writing = store_.kv_set(kOffsetKey, stored);
        co_await std::move(writing);
      } catch (const boost::system::system_error& e) {
        if (is_cancellation(e)) {
          throw;
        }
        logger_.warn("telegram_offset_write_failed", {{"error", e.what()}});
      } catch (const std::exception& e) {
        logger_.warn("telegram_offset_write_failed", {{"error", e.what()}});
      }
    }
  }
}

Task<void> Poller::release() {
  try {
    auto releasing = store_.release_lease(kPollerLease, options_.owner);
    co_await std::move(releasing);
  } catch (const std::exception& e) {
    logger_.warn("telegram_poller_release_failed", {{"error", e.what()}});
  }
}

}  // namespace evolveai::telegram
