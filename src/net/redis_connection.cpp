#include "net/redis_connection.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/system/system_error.hpp>
#include <boost/url/parse.hpp>

#include <array>
#include <atomic>
#include <cctype>
#include <charconv>
#include <deque>
#include <optional>

#include "net/deadline.hpp"

namespace evolveai::net {

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using Strand = asio::strand<asio::any_io_executor>;
/// Wakes a waiting caller once its request is complete (replies or error are in the Request).
using Signal = asio::experimental::concurrent_channel<void(boost::system::error_code)>;

constexpr auto kAsTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kReadChunk = std::size_t{16} * 1024;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

/// One caller's request: how many replies it waits for and, once complete, what came back.
struct Request {
  Request(const asio::any_io_executor& executor, std::size_t count) : signal(executor, 1), expected(count) {}

  Signal signal;
  std::size_t expected;
  std::vector<RedisReply> replies;
  std::exception_ptr error;
  Clock::time_point deadline;
};

RedisError lost(const boost::system::error_code& ec) {
  return {RedisErrorKind::kConnectionLost, "redis connection lost: " + ec.message()};
}

/// A connected socket (behind a pointer: co_spawn, under with_timeout, needs a default-constructible result).
Task<std::unique_ptr<tcp::socket>> open_socket(Strand strand, RedisEndpoint endpoint) {
  const std::string where = endpoint.host + ":" + endpoint.port;
  tcp::resolver resolver(strand);
  auto [resolve_error, endpoints] = co_await resolver.async_resolve(endpoint.host, endpoint.port, kAsTuple);
  if (resolve_error) {
    throw RedisError(RedisErrorKind::kConnect, "cannot resolve redis host " + where + ": " + resolve_error.message());
  }
  auto socket = std::make_unique<tcp::socket>(strand);
  auto [connect_error, connected] = co_await asio::async_connect(*socket, endpoints, kAsTuple);
  if (connect_error) {
    throw RedisError(RedisErrorKind::kConnect, "cannot connect to redis at " + where + ": " + connect_error.message());
  }
  boost::system::error_code ignored;
  socket->set_option(tcp::no_delay(true), ignored);
  co_return socket;
}

}  // namespace

RedisEndpoint parse_redis_url(std::string_view url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) {
    throw RedisError(RedisErrorKind::kInvalidUrl, "redis.url is not a valid URL");
  }
  if (!iequals(parsed->scheme(), "redis")) {
    throw RedisError(RedisErrorKind::kInvalidUrl, "redis.url must start with redis:// (TLS is not supported)");
  }
  RedisEndpoint endpoint;
  endpoint.host = std::string(parsed->encoded_host_address());
  if (endpoint.host.empty()) {
    throw RedisError(RedisErrorKind::kInvalidUrl, "redis.url has no host");
  }
  if (parsed->has_port()) {
    const auto port = parsed->port();
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
      throw RedisError(RedisErrorKind::kInvalidUrl, "redis.url has an invalid port");
    }
    endpoint.port = std::string(port);
  }
  if (parsed->has_userinfo()) {
    endpoint.username = parsed->user();
    if (parsed->has_password())
      endpoint.password = parsed->password();
  }
  std::string_view path = parsed->encoded_path();
  if (!path.empty() && path.front() == '/')
    path.remove_prefix(1);
  if (!path.empty()) {
    int db = 0;
    const auto [end, ec] = std::from_chars(path.data(), path.data() + path.size(), db);
    if (ec != std::errc() || end != path.data() + path.size() || db < 0) {
      throw RedisError(RedisErrorKind::kInvalidUrl, "redis.url path must be a database number, e.g. /0");
    }
    endpoint.db = db;
  }
  return endpoint;
}

/// Everything one connection owns; lives on its strand and as long as its reader runs.
struct RedisConnection::State : std::enable_shared_from_this<State> {
  State(Strand s, tcp::socket sock, std::chrono::milliseconds timeout)
      : strand(std::move(s)), socket(std::move(sock)), watchdog(strand), command_timeout(timeout) {}

  Strand strand;
  tcp::socket socket;
  asio::steady_timer watchdog;
  RespParser parser;
  std::string outgoing;  // encoded requests not yet handed to a write
  bool writing = false;
  std::deque<std::shared_ptr<Request>> awaiting;  // written or queued, oldest first
  std::optional<RedisError> failure;              // set once, when the connection breaks
  std::atomic<bool> is_broken{false};
  std::chrono::milliseconds command_timeout;

  void start() {
    asio::co_spawn(strand, read_loop(shared_from_this()), asio::detached);
    asio::co_spawn(strand, watch(shared_from_this()), asio::detached);
  }

  static void finish(Request& request, std::exception_ptr error) {
    request.error = std::move(error);
    (void)request.signal.try_send(boost::system::error_code{});
  }

  void enqueue(const std::shared_ptr<Request>& request, std::string_view payload) {
    if (is_broken) {
      finish(*request, std::make_exception_ptr(failure->clone()));
      return;
    }
    request->deadline = Clock::now() + command_timeout;
    const bool was_idle = awaiting.empty();
    awaiting.push_back(request);
    outgoing += payload;
    if (was_idle)
      watchdog.cancel();  // re-arm for this request's deadline
    if (!writing) {
      writing = true;
      asio::co_spawn(strand, write_loop(shared_from_this()), asio::detached);
    }
  }

  void deliver(RedisReply reply) {
    if (awaiting.empty()) {
      fail(RedisError(RedisErrorKind::kProtocol, "redis sent a reply nobody asked for"));
      return;
    }
    auto& front = *awaiting.front();
    front.replies.push_back(std::move(reply));
    if (front.replies.size() == front.expected) {
      const auto done = std::move(awaiting.front());
      awaiting.pop_front();
      finish(*done, nullptr);
    }
  }

  /// Breaks the connection: every waiting request fails with `error` (each gets its own copy,
  /// so callers on different threads never share one exception object).
  void fail(const RedisError& error) {
    if (is_broken.exchange(true))
      return;
    failure = error.clone();
    boost::system::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
    watchdog.cancel();
    outgoing.clear();
    auto pending = std::move(awaiting);
    awaiting.clear();
    for (const auto& request : pending)
      finish(*request, std::make_exception_ptr(failure->clone()));
  }

  static Task<void> read_loop(std::shared_ptr<State> self) {
    std::array<char, kReadChunk> buffer{};
    while (!self->is_broken) {
      auto [ec, n] = co_await self->socket.async_read_some(asio::buffer(buffer), kAsTuple);
      if (ec) {
        self->fail(lost(ec));
        co_return;
      }
      try {
        self->parser.feed(std::string_view(buffer.data(), n));
        while (auto reply = self->parser.next()) {
          self->deliver(std::move(*reply));
        }
      } catch (const RedisError& e) {
        self->fail(e);
      }
    }
  }

  static Task<void> write_loop(std::shared_ptr<State> self) {
    while (!self->outgoing.empty() && !self->is_broken) {
      std::string chunk;
      chunk.swap(self->outgoing);
      auto [ec, n] = co_await asio::async_write(self->socket, asio::buffer(chunk), kAsTuple);
      if (ec) {
        self->fail(lost(ec));
      }
    }
    self->writing = false;
  }

  /// Fails the connection when its oldest request is past its deadline: replies come in
  /// order, so a late oldest reply means the server is stuck or unreachable.
  static Task<void> watch(std::shared_ptr<State> self) {
    while (!self->is_broken) {
      self->watchdog.expires_at(self->awaiting.empty() ? Clock::time_point::max() : self->awaiting.front()->deadline);
      co_await self->watchdog.async_wait(kAsTuple);
      if (self->is_broken)
        co_return;
      if (!self->awaiting.empty() && self->awaiting.front()->deadline <= Clock::now()) {
        self->fail(RedisError(RedisErrorKind::kTimeout, "redis command timed out after " +
                                                            std::to_string(self->command_timeout.count()) + " ms"));
      }
    }
  }
};

Task<std::shared_ptr<RedisConnection>> RedisConnection::connect(boost::asio::any_io_executor executor,
                                                                RedisConnectionOptions options) {
  Strand strand = asio::make_strand(executor);
  auto socket = co_await with_timeout(open_socket(strand, options.endpoint), options.connect_timeout);
  if (!socket || !*socket) {
    throw RedisError(RedisErrorKind::kTimeout, "redis connect to " + options.endpoint.host + ":" +
                                                   options.endpoint.port + " timed out after " +
                                                   std::to_string(options.connect_timeout.count()) + " ms");
  }
  auto state = std::make_shared<State>(strand, std::move(**socket), options.command_timeout);
  asio::dispatch(strand, [state] { state->start(); });
  std::shared_ptr<RedisConnection> connection(new RedisConnection(state));

  const auto& endpoint = options.endpoint;
  std::vector<RedisCommand> handshake;
  std::vector<std::string_view> steps;
  if (!endpoint.password.empty()) {
    handshake.push_back(endpoint.username.empty() ? RedisCommand{"AUTH", endpoint.password}
                                                  : RedisCommand{"AUTH", endpoint.username, endpoint.password});
    steps.emplace_back("AUTH");
  }
  if (endpoint.db != 0) {
    handshake.push_back({"SELECT", std::to_string(endpoint.db)});
    steps.emplace_back("SELECT");
  }
  if (!handshake.empty()) {
    const auto replies = co_await connection->pipeline(std::move(handshake));
    for (std::size_t i = 0; i < replies.size(); ++i) {
      if (replies[i].is_error()) {
        connection->close();
        // The reply text never holds the password; it is safe to report.
        throw RedisError::handshake(steps[i], replies[i].text);
      }
    }
  }
  co_return connection;
}

RedisConnection::RedisConnection(std::shared_ptr<State> state) : state_(std::move(state)) {}

RedisConnection::~RedisConnection() {
  close();
}

void RedisConnection::close() {
  asio::dispatch(state_->strand, [state = state_] {
    state->fail(RedisError(RedisErrorKind::kConnectionLost, "redis connection closed"));
  });
}

bool RedisConnection::broken() const noexcept {
  return state_->is_broken.load();
}

Task<std::vector<RedisReply>> RedisConnection::exchange(std::string payload, std::size_t reply_count) {
  if (reply_count == 0)
    co_return std::vector<RedisReply>{};
  auto state = state_;
  auto request = std::make_shared<Request>(co_await asio::this_coro::executor, reply_count);
  asio::dispatch(state->strand, [state, request, payload = std::move(payload)] { state->enqueue(request, payload); });
  auto [ec] = co_await request->signal.async_receive(kAsTuple);
  if (ec) {
    // Only cancellation of the caller wakes it without a result; the replies are read and dropped.
    throw boost::system::system_error(asio::error::operation_aborted);
  }
  if (request->error)
    std::rethrow_exception(request->error);
  co_return std::move(request->replies);
}

Task<RedisReply> RedisConnection::command(RedisCommand command) {
  auto replies = co_await exchange(encode_command(command), 1);
  replies.front().throw_if_error();
  co_return std::move(replies.front());
}

Task<std::vector<RedisReply>> RedisConnection::pipeline(std::vector<RedisCommand> commands) {
  std::string payload;
  for (const auto& command : commands)
    append_command(payload, command);
  co_return co_await exchange(std::move(payload), commands.size());
}

}  // namespace evolveai::net
