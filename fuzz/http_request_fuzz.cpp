// Fuzzes the HTTP request path of the server: the input is bytes from a client socket, arriving
// in pieces. Each request goes through what Server::serve_one does before a handler runs: Beast's
// request_parser with the configured header limit and no body limit until the route is known, the
// origin-form target, the decoded path, the router, the route's body limit (checked against
// Content-Length, then while the body is read), query parameters; then the next pipelined
// request. Limits must hold and nothing may crash.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/url/parse.hpp>

#include "http/message.hpp"
#include "http/router.hpp"
#include "http/server.hpp"

namespace {

namespace bhttp = boost::beast::http;
namespace http = evolveai::http;

constexpr std::size_t kChatBodyLimit = std::size_t{14} * 1024 * 1024;  // config server.chat_body_limit

/// A route table shaped like the real one: literals, parameters, per-route body limits.
http::Router make_router() {
  http::Router router;
  const http::Handler handler = [](http::Request&, http::RequestContext&) -> evolveai::Task<http::Response> {
    co_return http::Response::empty(204);
  };
  http::RouteOptions chat;
  chat.body_limit = kChatBodyLimit;
  router.add("GET", "/healthz", handler);
  router.add("POST", "/api/v1/auth", handler);
  router.add("GET", "/api/v1/profile", handler);
  router.add("PATCH", "/api/v1/profile", handler);
  router.add("POST", "/api/v1/chat", handler, chat);
  router.add("GET", "/api/v1/history", handler);
  router.add("GET", "/api/v1/search", handler);
  router.add("DELETE", "/api/v1/memory/facts/{id}", handler);
  router.add("GET", "/api/v1/admin/users/{id}", handler);
  router.add("POST", "/api/v1/admin/users/{id}/ban", handler);
  router.add("POST", "/telegram/webhook/{secret}", handler);
  return router;
}

/// Bytes from the socket: the next piece of the input, its size steered by the input itself.
class Socket {
 public:
  explicit Socket(std::string_view bytes) : bytes_(bytes) {}
  /// Appends the next piece to `buffer`; false at end of stream.
  bool read_some(std::string& buffer) {
    if (bytes_.empty()) {
      return false;
    }
    const std::size_t size = std::min<std::size_t>(bytes_.size(), 1 + static_cast<unsigned char>(bytes_[0]) * 4);
    buffer.append(bytes_.substr(0, size));
    bytes_.remove_prefix(size);
    return true;
  }

 private:
  std::string_view bytes_;
};

/// Feeds the parser until `done()` or an error; false on an error or an early end of stream.
template <typename Done>
bool feed(bhttp::request_parser<bhttp::string_body>& parser, std::string& buffer, Socket& socket, Done done) {
  while (!done()) {
    boost::system::error_code ec;
    if (!buffer.empty()) {
      const auto used = parser.put(boost::asio::buffer(buffer), ec);
      buffer.erase(0, used);
      if (ec && ec != bhttp::error::need_more) {
        return false;
      }
      if (!ec && used > 0) {
        continue;
      }
    }
    if (!socket.read_some(buffer)) {
      // The peer closed: Beast's read reports end_of_stream before any byte, else put_eof's verdict.
      if (!parser.got_some()) {
        return false;
      }
      parser.put_eof(ec);
      return !ec && done();
    }
  }
  return true;
}

/// One request as serve_one reads it; false when the connection would close.
bool serve_one(const http::Router& router, const http::ServerOptions& options, std::string& buffer, Socket& socket) {
  bhttp::request_parser<bhttp::string_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(options.header_limit));
  parser.body_limit(boost::none);
  if (!feed(parser, buffer, socket, [&] { return parser.is_header_done(); })) {
    return false;
  }
  const auto& header = parser.get();
  http::Request request;
  request.method = std::string(header.method_string());
  request.target = std::string(header.target());
  for (const auto& field : header) {
    request.headers.add(std::string(field.name_string()), std::string(field.value()));
  }
  auto target = boost::urls::parse_origin_form(request.target);
  if (!target || header.method() == bhttp::verb::unknown) {
    return false;
  }
  request.path = std::string(target->path());
  request.query = std::string(target->encoded_query());
  if (request.path.find('\0') != std::string::npos) {
    return false;
  }
  auto match = router.match(request.method, request.path);
  std::size_t body_limit = options.body_limit;
  if (match.route != nullptr && match.route->options.body_limit != 0) {
    body_limit = match.route->options.body_limit;
  }
  if (const auto length = parser.content_length(); length && *length > body_limit) {
    return false;
  }
  parser.body_limit(body_limit);
  parser.eager(true);
  if (!feed(parser, buffer, socket, [&] { return parser.is_done(); })) {
    return false;
  }
  request.body = std::move(parser.get().body());
  if (request.body.size() > body_limit) {
    std::abort();
  }
  request.path_params = std::move(match.params);
  for (const auto& [name, value] : request.path_params) {
    // The router splits on '/' and never yields an empty segment.
    if (value.empty() || request.param(name) == std::nullopt) {
      std::abort();
    }
  }
  (void)request.query_param("limit");
  (void)request.query_param("q");
  return parser.get().keep_alive();
}

}  // namespace

// NOLINTNEXTLINE(readability-identifier-naming): the entry point libFuzzer calls
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const http::Router router = make_router();
  const http::ServerOptions options;
  // Reading the fuzzer's bytes as characters is allowed aliasing.
  Socket socket(std::string_view(reinterpret_cast<const char*>(data), size));
  std::string buffer;
  // Keep-alive: requests follow each other on one connection until one closes it.
  for (int served = 0; served < 16 && serve_one(router, options, buffer, socket); ++served) {
  }
  return 0;
}
