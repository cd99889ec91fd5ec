#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "http/pipeline.hpp"
#include "http/router.hpp"

namespace boost::asio {
class io_context;
}

namespace evolveai::obs {
class Logger;
class MetricsRegistry;
}  // namespace evolveai::obs

namespace evolveai::http {

/// Limits and timeouts of the HTTP server; every one comes from config.
struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
  std::size_t max_connections = 10000;
  std::size_t header_limit = std::size_t{16} * 1024;
  std::size_t body_limit = std::size_t{64} * 1024;
  /// From a connection's first byte (or a request's) until its header is complete.
  std::chrono::milliseconds header_timeout{10'000};
  /// Keep-alive wait for the next request.
  std::chrono::milliseconds idle_timeout{60'000};
  /// Reading the body plus running the handler.
  std::chrono::milliseconds request_timeout{30'000};
  /// Longest life of one event stream.
  std::chrono::milliseconds stream_timeout{600'000};
  /// A single write to a slow reader.
  std::chrono::milliseconds write_timeout{30'000};
  std::chrono::milliseconds sse_heartbeat{15'000};
};

/// Serves requests that no route matched (static files); returns nullopt-like 404 by throwing.
using FallbackHandler = Handler;

/// The HTTP/1.1 server: one coroutine per connection on a strand, keep-alive, limits,
/// server-sent events and graceful shutdown. Beast stays inside server.cpp.
class Server {
 public:
  Server(boost::asio::io_context& io, ServerOptions options, const Router& router, const Pipeline& pipeline,
         FallbackHandler fallback, obs::Logger& logger, obs::MetricsRegistry& metrics);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Binds and starts accepting; throws std::runtime_error naming the address when binding fails.
  void start();
  /// The bound port (useful with port 0).
  [[nodiscard]] std::uint16_t port() const;
  /// Stops accepting, closes idle connections, lets in-flight requests and streams finish
  /// until `deadline`, then closes whatever is left.
  Task<void> shutdown(std::chrono::milliseconds deadline);
  /// Open connections right now.
  [[nodiscard]] std::size_t open_connections() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace evolveai::http
