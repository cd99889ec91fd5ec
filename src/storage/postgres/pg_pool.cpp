#include "storage/postgres/pg_pool.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <exception>
#include <iterator>

#include "storage/store_error.hpp"

namespace evolveai::storage::postgres {

namespace {
constexpr Statement kHealthCheck{"pool.health_check", "SELECT 1"};
}  // namespace

Pool::Lease::Lease(std::shared_ptr<Pool> pool, std::unique_ptr<Connection> connection)
    : pool_(std::move(pool)), connection_(std::move(connection)) {}

Pool::Lease::~Lease() {
  if (pool_ && connection_)
    pool_->give_back(std::move(connection_));
}

std::shared_ptr<Pool> Pool::create(const boost::asio::any_io_executor& executor, ConnectSettings connect,
                                   PoolSettings settings, const StoreObserver& observer) {
  return std::shared_ptr<Pool>(new Pool(executor, std::move(connect), settings, observer));
}

Pool::Pool(const boost::asio::any_io_executor& executor, ConnectSettings connect, PoolSettings settings,
           const StoreObserver& observer)
    : executor_(executor),
      strand_(boost::asio::make_strand(executor)),
      connect_(std::move(connect)),
      settings_(settings),
      observer_(observer) {
  settings_.size = std::max<std::size_t>(settings_.size, 1);
}

Task<Pool::Lease> Pool::acquire() {
  auto self = shared_from_this();
  auto connection = co_await boost::asio::co_spawn(strand_, take(), boost::asio::use_awaitable);
  co_return Lease(std::move(self), std::move(connection));
}

Task<std::unique_ptr<Connection>> Pool::take() {
  // Runs on strand_: every member below is touched only here and in give_back's handler.
  auto self = shared_from_this();
  const auto deadline = std::chrono::steady_clock::now() + settings_.acquire_timeout;
  for (;;) {
    while (!idle_.empty()) {
      auto connection = std::move(idle_.back());
      idle_.pop_back();
      if (connection->broken()) {
        --open_;
        continue;
      }
      if (std::chrono::steady_clock::now() - connection->last_used() > settings_.health_check_after) {
        bool healthy = true;
        try {
          const Params none;
          co_await connection->execute(kHealthCheck, none);
        } catch (const StoreError&) {
          healthy = false;
        }
        if (!healthy) {
          --open_;
          continue;
        }
      }
      ++in_use_;
      report();
      co_return connection;
    }
    if (open_ < settings_.size) {
      ++open_;
      std::exception_ptr failure;
      try {
        auto connection = co_await Connection::connect(executor_, connect_);
        connection->set_call_timeout(settings_.call_timeout);
        connection->count_round_trips_in(round_trips_);
        ++in_use_;
        report();
        co_return connection;
      } catch (...) {
        failure = std::current_exception();
      }
      --open_;
      wake_one();
      std::rethrow_exception(failure);
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      throw StoreError(StoreErrorKind::kTimeout, "pool.acquire",
                       "no database connection became free within " +
                           std::to_string(settings_.acquire_timeout.count()) + " ms (pool size " +
                           std::to_string(settings_.size) + ")");
    }
    boost::asio::steady_timer timer(strand_, deadline);
    Waiter waiter;
    waiter.timer = &timer;
    waiters_.push_back(&waiter);
    const auto place = std::prev(waiters_.end());
    co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    if (!waiter.woken) {
      waiters_.erase(place);
    }
    if (waiter.handed) {
      co_return std::move(waiter.handed);  // counted in use by give_back
    }
    // Woken without a connection (one was closed: a slot to open is free), or the time ran out.
  }
}

void Pool::give_back(std::unique_ptr<Connection> connection) {
  boost::asio::post(strand_, [self = shared_from_this(), connection = std::move(connection)]() mutable {
    --self->in_use_;
    const bool reusable = !connection->broken() && connection->idle_in_transaction_free();
    if (reusable && !self->waiters_.empty()) {
      Waiter* next = self->waiters_.front();
      self->waiters_.pop_front();
      next->woken = true;
      next->handed = std::move(connection);
      ++self->in_use_;
      next->timer->cancel();
    } else if (reusable) {
      self->idle_.push_back(std::move(connection));
    } else {
      --self->open_;
      // A lost connection often means the server restarted: check the others before use.
      for (auto& idle : self->idle_)
        idle->mark_suspect();
      connection.reset();
      self->wake_one();  // a slot to open a connection in is free
    }
    self->report();
  });
}

void Pool::wake_one() {
  if (waiters_.empty())
    return;
  Waiter* next = waiters_.front();
  waiters_.pop_front();
  next->woken = true;
  next->timer->cancel();
}

void Pool::report() const {
  if (observer_.on_pool)
    observer_.on_pool(in_use_, open_);
}

}  // namespace evolveai::storage::postgres
