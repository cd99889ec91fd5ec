#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "core/task.hpp"
#include "net/redis_protocol.hpp"
#include "net/retry_policy.hpp"

namespace evolveai::obs {
class Logger;
}

namespace evolveai::net {

/// How a RedisClient reaches its server (built by the composition root from `[redis]`).
struct RedisClientOptions {
  std::string url;            ///< `redis://[[user]:password@]host[:port][/db]`
  std::size_t pool_size = 4;  ///< connections; each one pipelines all the callers it is given
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds command_timeout{1000};
  /// Attempts and backoff of (re)connecting; commands themselves are never retried.
  RetrySettings reconnect{3, std::chrono::milliseconds(50), std::chrono::milliseconds(1000)};
};

/// Redis client over a small pool of pipelined connections. Each call takes the next
/// connection round-robin and queues its request there, so concurrent callers share a few
/// sockets and their requests and replies stay in order per connection (pool_size 1 puts
/// every caller on one connection). A missing or broken connection is (re)connected on
/// demand, once per connection however many callers wait, with the backoff of
/// `options.reconnect` (one net::RetryPolicy); callers then wait for that attempt. Commands
/// are not retried (not all are idempotent): a call on a connection that breaks fails with
/// RedisError, and the next call reconnects. Guard calls with a CircuitBreaker to fail fast
/// while Redis is down. Thread-safe. Construct it, and destroy it, while its executor runs;
/// the logger must outlive the executor's work.
class RedisClient {
 public:
  /// Validates the URL (throws RedisError kInvalidUrl) but does not connect yet.
  RedisClient(boost::asio::any_io_executor executor, const RedisClientOptions& options, obs::Logger& logger);
  /// Closes every connection.
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  /// Runs one command; an error reply is thrown as RedisError (kServer), transport failures
  /// as RedisError (kConnect, kConnectionLost, kTimeout).
  Task<RedisReply> command(RedisCommand command);
  /// Sends the commands in one write on one connection and returns their replies in order;
  /// error replies are returned in place, transport failures are thrown.
  Task<std::vector<RedisReply>> pipeline(std::vector<RedisCommand> commands);

  /// Closes every connection; calls made afterwards fail with kConnectionLost.
  void close();
  /// Connections open and usable right now (tests, metrics).
  [[nodiscard]] std::size_t open_connections() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace evolveai::net
