#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/task.hpp"
#include "net/redis_protocol.hpp"

namespace evolveai::net {

/// Where Redis listens and how to log in, as given by `redis://[[user]:password@]host[:port][/db]`.
struct RedisEndpoint {
  std::string host = "127.0.0.1";
  std::string port = "6379";
  std::string username;  ///< ACL user; empty means the default user
  std::string password;  ///< secret; empty means no AUTH
  int db = 0;            ///< SELECTed after connecting when not 0

  bool operator==(const RedisEndpoint&) const = default;
};

/// Parses a `redis://` URL (user and password percent-decoded); throws RedisError (kInvalidUrl)
/// with a message that never contains the password.
[[nodiscard]] RedisEndpoint parse_redis_url(std::string_view url);

/// Deadlines of one connection.
struct RedisConnectionOptions {
  RedisEndpoint endpoint;
  std::chrono::milliseconds connect_timeout{2000};  ///< name resolution and TCP connect
  std::chrono::milliseconds command_timeout{1000};  ///< request written -> its last reply read (AUTH/SELECT too)
};

/// One TCP connection to Redis shared by any number of concurrent callers: their requests
/// are written in the order they arrive (one write per request, batched when several are
/// queued) and the replies, which Redis sends in the same order, are handed back to each
/// caller. A reply missing after `command_timeout` means the server is stuck or gone: the
/// connection is then closed and every waiting request fails with kTimeout. A caller whose
/// coroutine is cancelled stops waiting at once (`operation_aborted`); its replies are read
/// and dropped. Thread-safe; all socket work runs on the connection's own strand.
class RedisConnection {
 public:
  /// Connects, logs in (AUTH) and selects the database; throws RedisError (kConnect,
  /// kTimeout) when any step fails.
  static Task<std::shared_ptr<RedisConnection>> connect(boost::asio::any_io_executor executor,
                                                        RedisConnectionOptions options);
  /// Closes the socket; waiting requests fail with kConnectionLost.
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  /// Sends one command and returns its reply; an error reply is thrown as RedisError (kServer).
  Task<RedisReply> command(RedisCommand command);
  /// Sends every command in one write and returns their replies in order; error replies
  /// are returned in place (see RedisReply::throw_if_error), not thrown.
  Task<std::vector<RedisReply>> pipeline(std::vector<RedisCommand> commands);
  /// Sends bytes holding `reply_count` encoded commands and returns that many replies.
  Task<std::vector<RedisReply>> exchange(std::string payload, std::size_t reply_count);

  /// True once the connection can no longer be used (lost, timed out, closed).
  [[nodiscard]] bool broken() const noexcept;
  /// Closes the connection; requests still waiting fail with kConnectionLost.
  void close();

 private:
  struct State;
  explicit RedisConnection(std::shared_ptr<State> state);

  std::shared_ptr<State> state_;
};

}  // namespace evolveai::net
