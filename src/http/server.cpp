#include "http/server.hpp"

#include <sys/socket.h>

#include <array>
#include <cerrno>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>

#include <atomic>
#include <mutex>
#include <unordered_map>

#include "http/error_response.hpp"
#include "obs/logger.hpp"
#include "obs/metrics.hpp"

namespace evolveai::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using asio::use_awaitable;
constexpr auto kAsTuple = asio::as_tuple(use_awaitable);

/// One client connection; lives as long as its coroutine.
struct Session {
  explicit Session(tcp::socket socket) : stream(std::move(socket)) {}
  beast::tcp_stream stream;
  /// True while waiting for the next request: shutdown may close it at once.
  bool idle = true;
};

/// Writes server-sent events as HTTP chunks; one write at a time.
class ChunkedEventSink final : public EventSink {
 public:
  ChunkedEventSink(beast::tcp_stream& stream, std::chrono::milliseconds write_timeout)
      : stream_(stream), write_timeout_(write_timeout), write_done_(stream.get_executor()) {}

  Task<bool> send(std::string_view event, std::string_view data) override {
    std::string text = format_sse_event(event, data);
    co_return co_await write(std::move(text));
  }

  [[nodiscard]] bool open() const override { return open_; }

  void mark_closed() { open_ = false; }

  [[nodiscard]] std::chrono::steady_clock::duration idle_for() const {
    return std::chrono::steady_clock::now() - last_write_;
  }

  [[nodiscard]] bool writing() const { return writing_; }

  /// Writes raw SSE text as one chunk, waiting for a write already in progress.
  Task<bool> write(std::string text) {
    while (writing_ && open_) {
      // The timer is a condition variable here: a finished write cancels it.
      write_done_.expires_at(std::chrono::steady_clock::time_point::max());
      co_await write_done_.async_wait(kAsTuple);
    }
    if (!open_) {
      co_return false;
    }
    writing_ = true;
    stream_.expires_after(write_timeout_);
    const auto chunk = bhttp::make_chunk(asio::buffer(text));
    auto [ec, written] = co_await asio::async_write(stream_, chunk, kAsTuple);
    writing_ = false;
    write_done_.cancel();
    if (ec) {
      open_ = false;
    } else {
      last_write_ = std::chrono::steady_clock::now();
    }
    co_return open_;
  }

 private:
  beast::tcp_stream& stream_;
  std::chrono::milliseconds write_timeout_;
  asio::steady_timer write_done_;
  bool open_ = true;
  bool writing_ = false;
  std::chrono::steady_clock::time_point last_write_ = std::chrono::steady_clock::now();
};

bool is_quiet_disconnect(const boost::system::error_code& ec) {
  return ec == asio::error::eof || ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
         ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == bhttp::error::partial_message;
}

}  // namespace

struct Server::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io_context, ServerOptions server_options, const Router& routes, const Pipeline& chain,
       FallbackHandler fallback_handler, obs::Logger& log, obs::MetricsRegistry& registry)
      : io(io_context),
        options(std::move(server_options)),
        router(routes),
        pipeline(chain),
        fallback(std::move(fallback_handler)),
        logger(log),
        acceptor(io_context),
        connections_total(registry.counter("evolveai_http_connections_total", "HTTP connections accepted", {}).with()),
        connections_rejected(registry
                                 .counter("evolveai_http_connections_rejected_total",
                                          "HTTP connections refused because the connection limit was reached", {})
                                 .with()),
        open_gauge(registry.callback_gauge_family("evolveai_http_connections_open", "HTTP connections open now", {})) {
    open_gauge.set({}, [this] { return static_cast<double>(open.load()); });
  }

  ~Impl() { open_gauge.remove({}); }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  asio::io_context& io;
  ServerOptions options;
  const Router& router;
  const Pipeline& pipeline;
  FallbackHandler fallback;
  obs::Logger& logger;
  tcp::acceptor acceptor;
  obs::Counter& connections_total;
  obs::Counter& connections_rejected;
  obs::CallbackFamily& open_gauge;
  std::atomic<bool> stopping{false};
  std::atomic<std::size_t> open{0};
  std::mutex mutex;
  std::unordered_map<std::uint64_t, std::weak_ptr<Session>> sessions;
  std::uint64_t next_session_id = 0;

  void start() {
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(options.host, ec);
    if (ec) {
      throw std::runtime_error("server.host '" + options.host + "' is not an IP address");
    }
    const tcp::endpoint endpoint{address, options.port};
    acceptor.open(endpoint.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    acceptor.bind(endpoint, ec);
    if (ec) {
      throw std::runtime_error("cannot listen on " + options.host + ":" + std::to_string(options.port) + ": " +
                               ec.message());
    }
    acceptor.listen(asio::socket_base::max_listen_connections);
    asio::co_spawn(io, accept_loop(shared_from_this()), asio::detached);
  }

  static Task<void> accept_loop(std::shared_ptr<Impl> self) {
    asio::steady_timer backoff(self->io);
    while (!self->stopping) {
      auto strand = asio::make_strand(self->io);
      auto [ec, socket] = co_await self->acceptor.async_accept(strand, kAsTuple);
      if (ec) {
        if (self->stopping || ec == asio::error::operation_aborted) {
          co_return;
        }
        // Typically out of file descriptors: wait a little instead of spinning.
        self->logger.warn("http_accept_failed", {{"error", ec.message()}});
        backoff.expires_after(std::chrono::milliseconds(50));
        co_await backoff.async_wait(kAsTuple);
        continue;
      }
      if (self->open.load() >= self->options.max_connections) {
        self->connections_rejected.inc();
        boost::system::error_code ignored;
        socket.close(ignored);
        continue;
      }
      self->connections_total.inc();
      auto session = std::make_shared<Session>(std::move(socket));
      std::uint64_t id = 0;
      {
        const std::scoped_lock lock(self->mutex);
        id = self->next_session_id++;
        self->sessions.emplace(id, session);
      }
      ++self->open;
      asio::co_spawn(session->stream.get_executor(), run_session(self, session, id), asio::detached);
    }
  }

  static Task<void> run_session(std::shared_ptr<Impl> self, std::shared_ptr<Session> session, std::uint64_t id) {
    auto& stream = session->stream;
    beast::flat_buffer buffer;
    std::string remote;
    {
      boost::system::error_code ec;
      const auto endpoint = stream.socket().remote_endpoint(ec);
      remote = ec ? std::string("unknown") : endpoint.address().to_string();
    }
    try {
      bool first = true;
      while (!self->stopping) {
        if (buffer.size() == 0) {
          session->idle = true;
          stream.expires_after(first ? self->options.header_timeout : self->options.idle_timeout);
          auto [ec, read] = co_await stream.async_read_some(buffer.prepare(self->options.header_limit), kAsTuple);
          session->idle = false;
          if (ec) {
            break;
          }
          buffer.commit(read);
        }
        first = false;
        if (!co_await self->serve_one(*session, buffer, remote)) {
          break;
        }
      }
    } catch (const std::exception& e) {
      self->logger.error("http_session_failed", {{"error", e.what()}});
    }
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream.close();
    {
      const std::scoped_lock lock(self->mutex);
      self->sessions.erase(id);
    }
    --self->open;
  }

  Task<bool> write_simple(beast::tcp_stream& stream, Response response, unsigned version, bool keep_alive,
                          bool head_only) {
    bhttp::response<bhttp::string_body> out;
    out.version(version);
    out.result(static_cast<unsigned>(response.status));
    for (const auto& [name, value] : response.headers.fields()) {
      out.insert(name, value);
    }
    out.keep_alive(keep_alive);
    out.body() = std::move(response.body);
    if (response.status != 204 && response.status != 304 && response.status >= 200) {
      out.prepare_payload();
    }
    stream.expires_after(options.write_timeout);
    if (head_only) {
      bhttp::response_serializer<bhttp::string_body> serializer{out};
      auto [ec, written] = co_await bhttp::async_write_header(stream, serializer, kAsTuple);
      co_return !ec && keep_alive;
    }
    auto [ec, written] = co_await bhttp::async_write(stream, out, kAsTuple);
    co_return !ec && keep_alive;
  }

  Task<bool> write_error(beast::tcp_stream& stream, const core::Error& error, std::string_view request_id,
                         unsigned version) {
    auto response = error_response(error, request_id);
    response.headers.set("X-Request-Id", std::string(request_id));
    co_return co_await write_simple(stream, std::move(response), version, false, false);
  }

  Task<void> watch_disconnect(tcp::socket& socket, ChunkedEventSink& sink) {
    for (;;) {
      auto [ec] = co_await socket.async_wait(tcp::socket::wait_read, kAsTuple);
      if (ec == asio::error::operation_aborted) {
        co_return;
      }
      if (ec) {
        sink.mark_closed();
        co_return;
      }
      // Readiness can be reported with nothing to read (a stale readiness of the reactor); only
      // a peek that reads end-of-file or fails says the client has gone.
      std::array<char, 1> byte{};
      const auto peeked = ::recv(socket.native_handle(), byte.data(), byte.size(), MSG_PEEK | MSG_DONTWAIT);
      if (peeked == 0 || (peeked < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        sink.mark_closed();
        co_return;
      }
      if (peeked > 0) {
        break;
      }
    }
    // The client sent more bytes (a pipelined request): nothing more to watch; wait to be cancelled.
    asio::steady_timer forever(socket.get_executor(), std::chrono::steady_clock::time_point::max());
    co_await forever.async_wait(kAsTuple);
  }

  Task<void> heartbeat(ChunkedEventSink& sink, asio::any_io_executor executor) {
    asio::steady_timer timer(executor);
    while (sink.open()) {
      timer.expires_after(options.sse_heartbeat);
      auto [ec] = co_await timer.async_wait(kAsTuple);
      if (ec) {
        co_return;
      }
      if (!sink.writing() && sink.idle_for() >= options.sse_heartbeat) {
        std::string comment = format_sse_comment("keep-alive");
        if (!co_await sink.write(std::move(comment))) {
          co_return;
        }
      }
    }
  }

  Task<bool> write_stream(Session& session, Response response, unsigned version, bool keep_alive,
                          const RequestContext& context) {
    auto& stream = session.stream;
    bhttp::response<bhttp::empty_body> head;
    head.version(version);
    head.result(static_cast<unsigned>(response.status));
    for (const auto& [name, value] : response.headers.fields()) {
      head.insert(name, value);
    }
    head.keep_alive(keep_alive);
    head.chunked(true);
    bhttp::response_serializer<bhttp::empty_body> serializer{head};
    stream.expires_after(options.write_timeout);
    auto [ec, written] = co_await bhttp::async_write_header(stream, serializer, kAsTuple);
    ChunkedEventSink sink(stream, options.write_timeout);
    if (ec) {
      // The client is gone before the first byte: the body still runs, against a closed sink,
      // so that whatever it holds (a chat turn's quota unit) is given back at once.
      sink.mark_closed();
      try {
        co_await response.stream(sink);
      } catch (const std::exception& e) {
        logger.warn("http_stream_failed", {{"request_id", context.request_id}, {"error", e.what()}});
      }
      co_return false;
    }
    asio::steady_timer lifetime(stream.get_executor());
    lifetime.expires_after(options.stream_timeout);
    // Whichever ends first ends the stream and cancels the rest: the body finishing, the
    // client going away, a failed heartbeat write, or the stream's lifetime running out.
    const auto executor = stream.get_executor();
    auto [order, body_error, watch_error, heartbeat_error, lifetime_error] =
        co_await asio::experimental::make_parallel_group(
            asio::co_spawn(executor, response.stream(sink), asio::deferred),
            asio::co_spawn(executor, watch_disconnect(stream.socket(), sink), asio::deferred),
            asio::co_spawn(executor, heartbeat(sink, executor), asio::deferred), lifetime.async_wait(asio::deferred))
            .async_wait(asio::experimental::wait_for_one(), use_awaitable);
    if (order[0] == 0 && body_error) {
      try {
        std::rethrow_exception(body_error);
      } catch (const boost::system::system_error& e) {
        if (e.code() != asio::error::operation_aborted) {
          logger.warn("http_stream_failed", {{"request_id", context.request_id}, {"error", e.what()}});
        }
      } catch (const std::exception& e) {
        logger.error("http_stream_failed", {{"request_id", context.request_id}, {"error", e.what()}});
      }
    } else if (order[0] == 3) {
      logger.warn("http_stream_lifetime_exceeded", {{"request_id", context.request_id}});
    }
    if (!sink.open()) {
      logger.info("http_stream_client_gone", {{"request_id", context.request_id}});
      co_return false;
    }
    stream.expires_after(options.write_timeout);
    const auto last_chunk = bhttp::make_chunk_last();
    auto [last_ec, last_written] = co_await asio::async_write(stream, last_chunk, kAsTuple);
    co_return !last_ec && keep_alive && !stopping;
  }

  /// Reads, handles and answers one request; returns whether the connection stays open.
  Task<bool> serve_one(Session& session, beast::flat_buffer& buffer, const std::string& remote) {
    auto& stream = session.stream;
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(options.header_limit));
    // Beast checks Content-Length against the body limit while it parses the head, before the
    // route (and so its own limit, which may be larger) is known: the limit is set below.
    parser.body_limit(boost::none);
    stream.expires_after(options.header_timeout);
    auto [ec, read] = co_await bhttp::async_read_header(stream, buffer, parser, kAsTuple);
    RequestContext context;
    context.request_id = "-";
    if (ec) {
      if (ec == bhttp::error::header_limit) {
        core::Error too_large{core::ErrorKind::kBadRequest, "header_too_large", "Request headers are too large"};
        too_large.with_status(431);
        co_await write_error(stream, too_large, context.request_id, 11);
      } else if (!is_quiet_disconnect(ec)) {
        {
          const auto malformed = core::bad_request("Malformed HTTP request");
          co_await write_error(stream, malformed, context.request_id, 11);
        }
      }
      co_return false;
    }
    const auto& header = parser.get();
    const unsigned version = header.version();
    Request request;
    request.method = std::string(header.method_string());
    request.target = std::string(header.target());
    request.remote_address = remote;
    for (const auto& field : header) {
      request.headers.add(std::string(field.name_string()), std::string(field.value()));
    }
    auto target = boost::urls::parse_origin_form(request.target);
    if (!target || header.method() == bhttp::verb::unknown) {
      {
        const auto malformed = core::bad_request("Malformed request target or method");
        co_await write_error(stream, malformed, context.request_id, version);
      }
      co_return false;
    }
    request.path = std::string(target->path());
    request.query = std::string(target->encoded_query());
    if (request.path.find('\0') != std::string::npos) {
      {
        const auto malformed = core::bad_request("Malformed request path");
        co_await write_error(stream, malformed, context.request_id, version);
      }
      co_return false;
    }

    auto match = router.match(request.method, request.path);
    std::size_t body_limit = options.body_limit;
    if (match.route != nullptr && match.route->options.body_limit != 0) {
      body_limit = match.route->options.body_limit;
    }
    const auto too_large = [body_limit] {
      return core::payload_too_large("The request body is larger than this route accepts (" +
                                     std::to_string(body_limit) + " bytes)");
    };
    if (const auto length = parser.content_length(); length && *length > body_limit) {
      const auto error = too_large();
      co_await write_error(stream, error, context.request_id, version);
      co_return false;
    }
    parser.body_limit(body_limit);
    if (!parser.is_done()) {
      if (beast::iequals(header[bhttp::field::expect], "100-continue")) {
        bhttp::response<bhttp::empty_body> proceed{bhttp::status::continue_, version};
        stream.expires_after(options.write_timeout);
        auto [continue_ec, continue_written] = co_await bhttp::async_write(stream, proceed, kAsTuple);
        if (continue_ec) {
          co_return false;
        }
      }
      stream.expires_after(options.request_timeout);
      auto [body_ec, body_read] = co_await bhttp::async_read(stream, buffer, parser, kAsTuple);
      if (body_ec == bhttp::error::body_limit) {
        const auto error = too_large();
        co_await write_error(stream, error, context.request_id, version);
        co_return false;
      }
      if (body_ec) {
        if (!is_quiet_disconnect(body_ec)) {
          {
            const auto malformed = core::bad_request("Malformed request body");
            co_await write_error(stream, malformed, context.request_id, version);
          }
        }
        co_return false;
      }
    }
    const bool keep_alive = parser.get().keep_alive() && !stopping;
    request.body = std::move(parser.get().body());
    request.path_params = std::move(match.params);

    Handler endpoint;
    std::string allow;
    if (match.route != nullptr) {
      context.route = match.route;
      context.route_label = match.route->pattern;
      const Route* route = match.route;
      endpoint = [route](Request& req, RequestContext& ctx) { return route->handler(req, ctx); };
    } else if (!match.allowed_methods.empty()) {
      for (const auto& method : match.allowed_methods) {
        allow += allow.empty() ? method : ", " + method;
      }
      endpoint = [allow](Request&, RequestContext& ctx) -> Task<Response> {
        auto response = error_response(core::method_not_allowed(), ctx.request_id);
        response.headers.set("Allow", allow);
        co_return response;
      };
    } else {
      endpoint = fallback;
    }

    Response response = co_await pipeline.run(request, context, endpoint);
    if (response.stream) {
      co_return co_await write_stream(session, std::move(response), version, keep_alive, context);
    }
    const bool head_only = header.method() == bhttp::verb::head;
    co_return co_await write_simple(stream, std::move(response), version, keep_alive && !stopping, head_only);
  }

  /// Runs `action` on every session's own strand.
  void for_each_session(const std::function<void(Session&)>& action) {
    std::vector<std::shared_ptr<Session>> alive;
    {
      const std::scoped_lock lock(mutex);
      for (const auto& [id, weak] : sessions) {
        if (auto session = weak.lock()) {
          alive.push_back(std::move(session));
        }
      }
    }
    for (auto& session : alive) {
      asio::post(session->stream.get_executor(), [session, action] { action(*session); });
    }
  }

  Task<void> shutdown(std::chrono::milliseconds deadline) {
    stopping = true;
    {
      boost::system::error_code ignored;
      acceptor.cancel(ignored);
      acceptor.close(ignored);
    }
    for_each_session([](Session& session) {
      if (session.idle) {
        session.stream.cancel();
      }
    });
    asio::steady_timer poll(io);
    const auto until = std::chrono::steady_clock::now() + deadline;
    while (open.load() > 0 && std::chrono::steady_clock::now() < until) {
      poll.expires_after(std::chrono::milliseconds(10));
      co_await poll.async_wait(kAsTuple);
    }
    if (open.load() > 0) {
      logger.warn("http_shutdown_forced", {{"open_connections", open.load()}});
      for_each_session([](Session& session) {
        boost::system::error_code ignored;
        session.stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
        session.stream.cancel();
      });
      const auto grace = std::chrono::steady_clock::now() + std::chrono::seconds(1);
      while (open.load() > 0 && std::chrono::steady_clock::now() < grace) {
        poll.expires_after(std::chrono::milliseconds(10));
        co_await poll.async_wait(kAsTuple);
      }
    }
  }
};

Server::Server(asio::io_context& io, ServerOptions options, const Router& router, const Pipeline& pipeline,
               FallbackHandler fallback, obs::Logger& logger, obs::MetricsRegistry& metrics)
    : impl_(std::make_shared<Impl>(io, std::move(options), router, pipeline, std::move(fallback), logger, metrics)) {}

Server::~Server() = default;

void Server::start() {
  impl_->start();
}

std::uint16_t Server::port() const {
  return impl_->acceptor.local_endpoint().port();
}

Task<void> Server::shutdown(std::chrono::milliseconds deadline) {
  co_await impl_->shutdown(deadline);
}

std::size_t Server::open_connections() const {
  return impl_->open.load();
}

}  // namespace evolveai::http
