#include "net/http_client.hpp"

// Asio's TLS layer is separately compiled too (BOOST_ASIO_SEPARATE_COMPILATION) and this
// client is its only user so far; it belongs in net/asio_impl.cpp once another appears.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/system/system_error.hpp>
#include <boost/url/parse.hpp>

#include <openssl/ssl.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <deque>
#include <mutex>
#include <tuple>
#include <unordered_map>

namespace evolveai::net {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;

constexpr auto kAsTuple = asio::as_tuple(asio::use_awaitable);
/// Error bodies of streamed calls are read whole; they are small, so this bounds them.
constexpr std::size_t kErrorBodyLimit = std::size_t{1024} * 1024;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

/// Where a URL points, split the way a connection needs it.
struct Target {
  bool tls = false;
  std::string host;         ///< without IPv6 brackets
  std::string port;         ///< numeric
  std::string host_header;  ///< as the Host header wants it
  std::string resource;     ///< path and query
  std::string key;          ///< pool key: scheme://host:port
};

Target parse_target(std::string_view url) {
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) {
    throw HttpError(HttpErrorKind::kInvalidRequest, "invalid URL");
  }
  Target target;
  const std::string scheme(parsed->scheme());
  if (iequals(scheme, "https")) {
    target.tls = true;
  } else if (!iequals(scheme, "http")) {
    throw HttpError(HttpErrorKind::kInvalidRequest, "unsupported URL scheme '" + scheme + "'");
  }
  target.host = std::string(parsed->encoded_host_address());
  if (target.host.empty()) {
    throw HttpError(HttpErrorKind::kInvalidRequest, "URL without a host");
  }
  target.port = parsed->has_port() ? std::string(parsed->port()) : std::string(target.tls ? "443" : "80");
  target.host_header = std::string(parsed->encoded_host_and_port());
  target.resource = std::string(parsed->encoded_target());
  if (target.resource.empty() || target.resource.front() != '/') {
    target.resource.insert(0, "/");
  }
  target.key = (target.tls ? "https://" : "http://") + target.host + ":" + target.port;
  return target;
}

/// One TCP or TLS connection and the bytes read past the last response.
struct Connection {
  std::unique_ptr<ssl::stream<tcp::socket>> tls;
  std::unique_ptr<tcp::socket> plain;
  beast::flat_buffer buffer;
  std::string key;
  Clock::time_point idle_since = Clock::now();

  tcp::socket& socket() { return tls ? tls->next_layer() : *plain; }

  void close() {
    error_code ignored;
    socket().shutdown(tcp::socket::shutdown_both, ignored);
    socket().close(ignored);
  }
};

/// The deadline of one phase and which timeout it stands for: the phase's own, or the
/// total one when that comes first.
struct Phase {
  Clock::time_point deadline;
  TimeoutKind kind;
};

Phase phase(std::chrono::milliseconds timeout, Clock::time_point total_deadline, TimeoutKind kind) {
  const auto own = Clock::now() + timeout;
  if (own < total_deadline) {
    return {own, kind};
  }
  return {total_deadline, TimeoutKind::kTotal};
}

/// Runs a deferred operation until `deadline`. Returns whether the time ran out (the
/// operation is then cancelled), its error code and its other results. Cancelling the
/// calling coroutine cancels the operation too (its error is then operation_aborted).
template <typename... Values, typename Op>
Task<std::tuple<bool, error_code, Values...>> until(Op operation, Clock::time_point deadline) {
  asio::steady_timer timer(co_await asio::this_coro::executor, deadline);
  auto result = co_await asio::experimental::make_parallel_group(std::move(operation), timer.async_wait(asio::deferred))
                    .async_wait(asio::experimental::wait_for_one(), asio::use_awaitable);
  const bool timed_out = std::get<0>(result)[0] == 1;
  co_return [&]<std::size_t... I>(std::index_sequence<I...>) {
    return std::tuple<bool, error_code, Values...>(timed_out, std::move(std::get<1 + I>(result))...);
  }
  (std::make_index_sequence<1 + sizeof...(Values)>{});
}

[[noreturn]] void throw_cancelled() {
  throw boost::system::system_error(asio::error::operation_aborted);
}

HttpError timeout_error(TimeoutKind kind, const Target& target) {
  return HttpError(HttpErrorKind::kTimeout,
                   std::string(timeout_kind_name(kind)) + " timeout talking to " + target.host + ":" + target.port,
                   kind);
}

/// Maps a failed read or write to its kind.
HttpError transport_error(const error_code& ec, const Target& target, std::string_view during) {
  const std::string where = " (" + std::string(during) + " " + target.host + ":" + target.port + ")";
  if (ec == bhttp::error::body_limit) {
    return {HttpErrorKind::kBodyTooLarge, "response body over the limit" + where};
  }
  if (ec == bhttp::error::partial_message || ec == asio::error::eof || ec == asio::error::connection_reset ||
      ec == asio::error::broken_pipe || ec == ssl::error::stream_truncated || ec == bhttp::error::end_of_stream) {
    return {HttpErrorKind::kConnect, "connection closed by the server" + where};
  }
  if (ec.category() == bhttp::make_error_code(bhttp::error::bad_version).category()) {
    return {HttpErrorKind::kProtocol, "malformed HTTP response: " + ec.message() + where};
  }
  if (ec.category() == asio::error::get_ssl_category()) {
    return {HttpErrorKind::kTls, "TLS failure: " + ec.message() + where};
  }
  return {HttpErrorKind::kConnect, ec.message() + where};
}

}  // namespace

HttpError::HttpError(HttpErrorKind kind, const std::string& message, TimeoutKind timeout)
    : std::runtime_error(message), kind_(kind), timeout_(timeout) {}

HttpError HttpError::status_error(HttpResponse response) {
  HttpError error(HttpErrorKind::kStatus, "HTTP status " + std::to_string(response.status));
  error.bytes_received_ = response.body.size() + 1;
  error.response_ = std::move(response);
  return error;
}

std::string_view timeout_kind_name(TimeoutKind kind) noexcept {
  switch (kind) {
    case TimeoutKind::kConnect: return "connect";
    case TimeoutKind::kFirstByte: return "first_byte";
    case TimeoutKind::kRead: return "read";
    case TimeoutKind::kTotal: return "total";
    case TimeoutKind::kNone: break;
  }
  return "none";
}

/// What one exchange produced.
struct Outcome {
  int status = 0;
  HttpHeaders headers;
  std::string body;  ///< collected unless forwarded
  std::size_t body_bytes = 0;
  bool stopped = false;
};

struct HttpClient::Impl : std::enable_shared_from_this<Impl> {
  explicit Impl(HttpClientOptions client_options)
      : options(std::move(client_options)), tls_context(ssl::context::tls_client) {
    SSL_CTX_set_min_proto_version(tls_context.native_handle(), TLS1_2_VERSION);
    tls_context.set_default_verify_paths();
    if (!options.extra_ca_pem.empty()) {
      tls_context.add_certificate_authority(asio::buffer(options.extra_ca_pem));
    }
    tls_context.set_verify_mode(options.verify_peer ? ssl::verify_peer : ssl::verify_none);
  }

  ~Impl() { close_idle(); }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  HttpClientOptions options;
  ssl::context tls_context;
  mutable std::mutex mutex;
  std::unordered_map<std::string, std::deque<std::unique_ptr<Connection>>> idle;

  /// Owns a connection while a call uses it; gives it back to the pool only when the
  /// exchange finished cleanly, and closes it otherwise (error, stop, cancellation).
  struct Lease {
    explicit Lease(std::shared_ptr<Impl> pool) : owner(std::move(pool)) {}
    ~Lease() {
      if (!connection) {
        return;
      }
      if (reusable) {
        owner->give_back(std::move(connection));
      } else {
        connection->close();
      }
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;

    std::shared_ptr<Impl> owner;
    std::unique_ptr<Connection> connection;
    bool reusable = false;
  };

  void close_idle() {
    const std::scoped_lock lock(mutex);
    for (auto& [key, connections] : idle) {
      for (auto& connection : connections) {
        connection->close();
      }
    }
    idle.clear();
  }

  [[nodiscard]] std::size_t idle_count() const {
    const std::scoped_lock lock(mutex);
    std::size_t count = 0;
    for (const auto& [key, connections] : idle) {
      count += connections.size();
    }
    return count;
  }

  std::unique_ptr<Connection> take_idle(const std::string& key) {
    const std::scoped_lock lock(mutex);
    auto found = idle.find(key);
    if (found == idle.end()) {
      return nullptr;
    }
    auto& connections = found->second;
    const auto oldest_allowed = Clock::now() - options.idle_ttl;
    while (!connections.empty()) {
      auto connection = std::move(connections.back());
      connections.pop_back();
      if (connection->idle_since >= oldest_allowed && connection->socket().is_open()) {
        return connection;
      }
      connection->close();
    }
    return nullptr;
  }

  void give_back(std::unique_ptr<Connection> connection) {
    if (options.max_idle_per_host == 0 || connection->buffer.size() != 0 || !connection->socket().is_open()) {
      connection->close();
      return;
    }
    connection->idle_since = Clock::now();
    const std::scoped_lock lock(mutex);
    auto& connections = idle[connection->key];
    while (connections.size() >= options.max_idle_per_host) {
      connections.front()->close();
      connections.pop_front();
    }
    connections.push_back(std::move(connection));
  }

  Task<std::unique_ptr<Connection>> open(const Target& target, Clock::time_point total_deadline) {
    auto executor = co_await asio::this_coro::executor;
    const auto connect_phase = phase(options.connect_timeout, total_deadline, TimeoutKind::kConnect);

    tcp::resolver::results_type endpoints;
    error_code address_error;
    const auto address = asio::ip::make_address(target.host, address_error);
    if (!address_error) {
      const auto port = static_cast<unsigned short>(std::stoul(target.port));
      endpoints = tcp::resolver::results_type::create(tcp::endpoint(address, port), target.host, target.port);
    } else {
      // Resolvers take no per-operation cancellation: a timer cancels the resolver itself.
      auto resolver = std::make_shared<tcp::resolver>(executor);
      auto fired = std::make_shared<bool>(false);
      asio::steady_timer timer(executor, connect_phase.deadline);
      timer.async_wait([resolver, fired](const error_code& ec) {
        if (!ec) {
          *fired = true;
          resolver->cancel();
        }
      });
      auto [ec, results] = co_await resolver->async_resolve(target.host, target.port, kAsTuple);
      timer.cancel();
      if (*fired) {
        throw timeout_error(connect_phase.kind, target);
      }
      if (ec) {
        throw HttpError(HttpErrorKind::kConnect, "cannot resolve " + target.host + ": " + ec.message());
      }
      endpoints = std::move(results);
    }

    auto connection = std::make_unique<Connection>();
    connection->key = target.key;
    if (target.tls) {
      connection->tls = std::make_unique<ssl::stream<tcp::socket>>(executor, tls_context);
    } else {
      connection->plain = std::make_unique<tcp::socket>(executor);
    }
    {
      auto [timed_out, ec, endpoint] = co_await until<tcp::endpoint>(
          asio::async_connect(connection->socket(), endpoints, asio::deferred), connect_phase.deadline);
      if (timed_out) {
        throw timeout_error(connect_phase.kind, target);
      }
      if (ec == asio::error::operation_aborted) {
        throw_cancelled();
      }
      if (ec) {
        throw HttpError(HttpErrorKind::kConnect,
                        "cannot connect to " + target.host + ":" + target.port + ": " + ec.message());
      }
    }
    error_code ignored;
    connection->socket().set_option(tcp::no_delay(true), ignored);
    if (target.tls) {
      auto& stream = *connection->tls;
      error_code literal_error;
      asio::ip::make_address(target.host, literal_error);
      // Server name indication is for names only; IP literals are checked against the certificate as they are.
      // (SSL_set_tlsext_host_name spelled out: the macro hides a C-style cast.)
      if (literal_error && SSL_ctrl(stream.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                                    static_cast<void*>(const_cast<char*>(target.host.c_str()))) != 1) {
        throw HttpError(HttpErrorKind::kTls, "cannot set TLS server name for " + target.host);
      }
      if (options.verify_peer) {
        stream.set_verify_mode(ssl::verify_peer);
        stream.set_verify_callback(ssl::host_name_verification(target.host));
      } else {
        stream.set_verify_mode(ssl::verify_none);
      }
      auto [timed_out, ec] =
          co_await until<>(stream.async_handshake(ssl::stream_base::client, asio::deferred), connect_phase.deadline);
      if (timed_out) {
        throw timeout_error(connect_phase.kind, target);
      }
      if (ec == asio::error::operation_aborted) {
        throw_cancelled();
      }
      if (ec) {
        throw HttpError(HttpErrorKind::kTls,
                        "TLS handshake with " + target.host + ":" + target.port + " failed: " + ec.message());
      }
    }
    co_return connection;
  }

  /// Writes the request and reads the response on one connection.
  template <typename Stream>
  Task<Outcome> exchange_on(Stream& stream, Lease& lease, const Target& target,
                            const bhttp::request<bhttp::string_body>& message, Clock::time_point total_deadline,
                            const BodyChunkHandler* on_chunk) {
    auto& connection = *lease.connection;
    {
      auto [timed_out, ec, written] =
          co_await until<std::size_t>(bhttp::async_write(stream, message, asio::deferred), total_deadline);
      if (timed_out) {
        throw timeout_error(TimeoutKind::kTotal, target);
      }
      if (ec == asio::error::operation_aborted) {
        throw_cancelled();
      }
      if (ec) {
        throw transport_error(ec, target, "writing to");
      }
    }

    bhttp::response_parser<bhttp::buffer_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(options.header_limit));
    parser.body_limit(options.response_body_limit);
    if (message.method() == bhttp::verb::head) {
      parser.skip(true);
    }
    {
      const auto head_phase = phase(options.first_byte_timeout, total_deadline, TimeoutKind::kFirstByte);
      auto [timed_out, ec, read] = co_await until<std::size_t>(
          bhttp::async_read_header(stream, connection.buffer, parser, asio::deferred), head_phase.deadline);
      if (timed_out) {
        throw timeout_error(head_phase.kind, target).with_bytes_received(parser.got_some() ? 1 : 0);
      }
      if (ec == asio::error::operation_aborted) {
        throw_cancelled();
      }
      if (ec) {
        throw transport_error(ec, target, "reading from").with_bytes_received(parser.got_some() ? 1 : 0);
      }
    }

    Outcome outcome;
    const auto& head = parser.get();
    outcome.status = static_cast<int>(head.result_int());
    for (const auto& field : head) {
      outcome.headers.add(std::string(field.name_string()), std::string(field.value()));
    }
    const bool success = outcome.status >= 200 && outcome.status < 300;
    const bool forward = on_chunk != nullptr && success;
    const std::size_t collect_limit =
        on_chunk != nullptr ? std::min(options.response_body_limit, kErrorBodyLimit) : options.response_body_limit;

    std::array<char, 16384> chunk{};
    while (!parser.is_done()) {
      parser.get().body().data = chunk.data();
      parser.get().body().size = chunk.size();
      const auto read_phase = phase(options.read_timeout, total_deadline, TimeoutKind::kRead);
      auto [timed_out, ec, read] = co_await until<std::size_t>(
          bhttp::async_read_some(stream, connection.buffer, parser, asio::deferred), read_phase.deadline);
      if (ec == bhttp::error::need_buffer) {
        ec = {};
      }
      if (timed_out) {
        throw timeout_error(read_phase.kind, target).with_bytes_received(outcome.body_bytes + 1);
      }
      if (ec == asio::error::operation_aborted) {
        throw_cancelled();
      }
      if (ec) {
        throw transport_error(ec, target, "reading from").with_bytes_received(outcome.body_bytes + 1);
      }
      const std::size_t got = chunk.size() - parser.get().body().size;
      if (got == 0) {
        continue;
      }
      outcome.body_bytes += got;
      if (forward) {
        if (!co_await (*on_chunk)(std::string_view(chunk.data(), got))) {
          outcome.stopped = true;
          co_return outcome;
        }
      } else {
        if (outcome.body.size() + got > collect_limit) {
          throw HttpError(HttpErrorKind::kBodyTooLarge, "response body over the limit from " + target.host)
              .with_bytes_received(outcome.body_bytes);
        }
        outcome.body.append(chunk.data(), got);
      }
    }
    lease.reusable = parser.keep_alive();
    co_return outcome;
  }

  Task<Outcome> perform(HttpRequest request, const BodyChunkHandler* on_chunk) {
    auto self = shared_from_this();
    const auto total_deadline = Clock::now() + options.total_timeout;
    if (request.body.size() > options.request_body_limit) {
      throw HttpError(HttpErrorKind::kInvalidRequest, "request body over the limit");
    }
    const Target target = parse_target(request.url);

    bhttp::request<bhttp::string_body> message;
    message.version(11);
    const auto verb = bhttp::string_to_verb(request.method);
    if (verb == bhttp::verb::unknown) {
      message.method_string(request.method);
    } else {
      message.method(verb);
    }
    message.target(target.resource);
    message.set(bhttp::field::host, target.host_header);
    message.set(bhttp::field::user_agent, options.user_agent);
    for (auto& [name, value] : request.headers.fields()) {
      message.set(name, value);
    }
    message.body() = std::move(request.body);
    if (!message.body().empty() || verb == bhttp::verb::post || verb == bhttp::verb::put ||
        verb == bhttp::verb::patch) {
      message.prepare_payload();
    }
    message.keep_alive(true);

    for (int attempt = 0;; ++attempt) {
      Lease lease(self);
      bool reused = false;
      if (attempt == 0) {
        lease.connection = take_idle(target.key);
        reused = lease.connection != nullptr;
      }
      if (!lease.connection) {
        lease.connection = co_await open(target, total_deadline);
      }
      try {
        if (lease.connection->tls) {
          co_return co_await exchange_on(*lease.connection->tls, lease, target, message, total_deadline, on_chunk);
        }
        co_return co_await exchange_on(*lease.connection->plain, lease, target, message, total_deadline, on_chunk);
      } catch (const HttpError& error) {
        // A kept-alive connection the server closed meanwhile fails before any byte of a
        // response arrives; the request never reached the server, so a fresh one is safe.
        const bool stale = reused && error.kind() == HttpErrorKind::kConnect && error.bytes_received() == 0;
        if (!stale) {
          throw;
        }
      }
    }
  }
};

HttpClient::HttpClient(HttpClientOptions options) : impl_(std::make_shared<Impl>(std::move(options))) {}

HttpClient::~HttpClient() {
  impl_->close_idle();
}

Task<HttpResponse> HttpClient::request(HttpRequest request) {
  auto impl = impl_;
  auto outcome = co_await impl->perform(std::move(request), nullptr);
  co_return HttpResponse{outcome.status, std::move(outcome.headers), std::move(outcome.body)};
}

Task<HttpStreamResult> HttpClient::stream(HttpRequest request, BodyChunkHandler on_chunk) {
  auto impl = impl_;
  auto outcome = co_await impl->perform(std::move(request), &on_chunk);
  if (outcome.status < 200 || outcome.status >= 300) {
    throw HttpError::status_error(HttpResponse{outcome.status, std::move(outcome.headers), std::move(outcome.body)});
  }
  co_return HttpStreamResult{outcome.status, std::move(outcome.headers), outcome.body_bytes, outcome.stopped};
}

std::size_t HttpClient::idle_connections() const {
  return impl_->idle_count();
}

const HttpClientOptions& HttpClient::options() const noexcept {
  return impl_->options;
}

}  // namespace evolveai::net
