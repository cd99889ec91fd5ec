#include "net/redis_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <optional>

#include "net/redis_connection.hpp"
#include "obs/logger.hpp"

namespace evolveai::net {

namespace {

namespace asio = boost::asio;
using Signal = asio::experimental::concurrent_channel<void(boost::system::error_code)>;
constexpr auto kAsTuple = asio::as_tuple(asio::use_awaitable);

/// A caller waiting for its slot's connect attempt.
struct Waiter {
  explicit Waiter(const asio::any_io_executor& executor) : signal(executor, 1) {}
  Signal signal;
  std::shared_ptr<RedisConnection> connection;
  std::exception_ptr error;
};

/// One pooled connection and the callers waiting while it connects.
struct Slot {
  std::mutex mutex;
  std::shared_ptr<RedisConnection> connection;
  bool connecting = false;
  std::vector<std::shared_ptr<Waiter>> waiters;
};

bool worth_reconnecting(const std::exception& failure) {
  const auto* error = dynamic_cast<const RedisError*>(&failure);
  if (error == nullptr)
    return false;
  switch (error->kind()) {
    case RedisErrorKind::kConnect: return error->server_code().empty();  // a refused AUTH/SELECT will not get better
    case RedisErrorKind::kConnectionLost:
    case RedisErrorKind::kTimeout: return true;
    default: return false;
  }
}

}  // namespace

struct RedisClient::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::any_io_executor ex, const RedisClientOptions& options, obs::Logger& log)
      : executor(std::move(ex)),
        logger(log),
        retry(options.reconnect, [this](const std::exception& e) { return !closed.load() && worth_reconnecting(e); }) {
    connection_options.endpoint = parse_redis_url(options.url);
    connection_options.connect_timeout = options.connect_timeout;
    connection_options.command_timeout = options.command_timeout;
    const std::size_t size = std::max<std::size_t>(options.pool_size, 1);
    for (std::size_t i = 0; i < size; ++i)
      slots.push_back(std::make_unique<Slot>());
    retry.on_retry([this](unsigned attempt, std::chrono::nanoseconds delay, const std::exception& e) {
      logger.warn(
          "redis_connect_retry",
          {{"host", connection_options.endpoint.host},
           {"port", connection_options.endpoint.port},
           {"attempt", attempt},
           {"delay_ms", static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(delay).count())},
           {"error", e.what()}});
    });
  }

  asio::any_io_executor executor;
  obs::Logger& logger;
  RedisConnectionOptions connection_options;
  RetryPolicy retry;
  std::vector<std::unique_ptr<Slot>> slots;
  std::atomic<std::size_t> next_slot{0};
  std::atomic<bool> closed{false};

  Task<std::shared_ptr<RedisConnection>> acquire() {
    Slot& slot = *slots[next_slot.fetch_add(1, std::memory_order_relaxed) % slots.size()];
    auto waiter = std::make_shared<Waiter>(co_await asio::this_coro::executor);
    bool start = false;
    {
      const std::scoped_lock lock(slot.mutex);
      if (closed)
        throw RedisError(RedisErrorKind::kConnectionLost, "redis client closed");
      if (slot.connection && !slot.connection->broken())
        co_return slot.connection;
      slot.waiters.push_back(waiter);
      if (!slot.connecting) {
        slot.connecting = true;
        start = true;
      }
    }
    // The attempt runs on its own so that a cancelled caller does not cancel it for the others.
    if (start)
      asio::co_spawn(executor, connect_slot(shared_from_this(), &slot), asio::detached);
    auto [ec] = co_await waiter->signal.async_receive(kAsTuple);
    if (ec)
      throw boost::system::system_error(asio::error::operation_aborted);
    if (waiter->error)
      std::rethrow_exception(waiter->error);
    co_return waiter->connection;
  }

  static Task<void> connect_slot(std::shared_ptr<Impl> self, Slot* slot) {
    std::shared_ptr<RedisConnection> connection;
    std::optional<RedisError> error;  // copied into each waiter: no exception object shared across threads
    try {
      connection = co_await self->retry.run(timer_sleeper(self->executor), [&self] {
        return RedisConnection::connect(self->executor, self->connection_options);
      });
    } catch (const std::exception& e) {
      const auto* redis_error = dynamic_cast<const RedisError*>(&e);
      error = redis_error ? redis_error->clone() : RedisError(RedisErrorKind::kConnect, e.what());
      if (!self->closed) {
        self->logger.warn("redis_connect_failed", {{"host", self->connection_options.endpoint.host},
                                                   {"port", self->connection_options.endpoint.port},
                                                   {"error", e.what()}});
      }
    }
    std::vector<std::shared_ptr<Waiter>> waiters;
    {
      const std::scoped_lock lock(slot->mutex);
      slot->connecting = false;
      if (connection && !self->closed) {
        slot->connection = connection;
      }
      waiters.swap(slot->waiters);
    }
    if (connection && self->closed) {
      connection->close();
      connection.reset();
      error = RedisError(RedisErrorKind::kConnectionLost, "redis client closed");
    }
    if (connection) {
      self->logger.info("redis_connected", {{"host", self->connection_options.endpoint.host},
                                            {"port", self->connection_options.endpoint.port},
                                            {"db", self->connection_options.endpoint.db}});
    }
    for (const auto& waiter : waiters) {
      waiter->connection = connection;
      if (error)
        waiter->error = std::make_exception_ptr(error->clone());
      (void)waiter->signal.try_send(boost::system::error_code{});
    }
  }
};

RedisClient::RedisClient(boost::asio::any_io_executor executor, const RedisClientOptions& options, obs::Logger& logger)
    : impl_(std::make_shared<Impl>(std::move(executor), options, logger)) {}

RedisClient::~RedisClient() {
  close();
}

void RedisClient::close() {
  impl_->closed = true;
  for (const auto& slot : impl_->slots) {
    std::shared_ptr<RedisConnection> connection;
    {
      const std::scoped_lock lock(slot->mutex);
      connection = std::move(slot->connection);
      slot->connection.reset();
    }
    if (connection)
      connection->close();
  }
}

std::size_t RedisClient::open_connections() const {
  std::size_t open = 0;
  for (const auto& slot : impl_->slots) {
    const std::scoped_lock lock(slot->mutex);
    if (slot->connection && !slot->connection->broken())
      ++open;
  }
  return open;
}

Task<RedisReply> RedisClient::command(RedisCommand command) {
  auto impl = impl_;
  auto payload = encode_command(command);
  const auto connection = co_await impl->acquire();
  auto replies = co_await connection->exchange(std::move(payload), 1);
  replies.front().throw_if_error();
  co_return std::move(replies.front());
}

Task<std::vector<RedisReply>> RedisClient::pipeline(std::vector<RedisCommand> commands) {
  auto impl = impl_;
  std::string payload;
  for (const auto& command : commands)
    append_command(payload, command);
  const auto connection = co_await impl->acquire();
  co_return co_await connection->exchange(std::move(payload), commands.size());
}

}  // namespace evolveai::net
