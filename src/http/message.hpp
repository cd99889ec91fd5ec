#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/task.hpp"
#include "net/http_headers.hpp"

namespace evolveai::http {

/// An ordered list of header fields with case-insensitive lookup, shared with the HTTP client.
using Headers = net::HttpHeaders;

/// A parsed HTTP request as handlers see it: no Beast types, body fully read.
struct Request {
  std::string method;
  std::string target;
  std::string path;   ///< percent-decoded path without the query
  std::string query;  ///< raw query string without '?'
  Headers headers;
  std::string body;
  std::string remote_address;
  std::vector<std::pair<std::string, std::string>> path_params;

  /// A path parameter captured by the router (`/users/{id}` → "id").
  [[nodiscard]] std::optional<std::string_view> param(std::string_view name) const;
  /// A percent-decoded query parameter.
  [[nodiscard]] std::optional<std::string> query_param(std::string_view name) const;
};

/// Writes server-sent events to a client; implemented by the server over its socket.
class EventSink {
 public:
  virtual ~EventSink() = default;
  /// Sends one event; returns false once the client has gone away.
  virtual Task<bool> send(std::string_view event, std::string_view data) = 0;
  /// True until the client disconnects or the stream is cut off.
  [[nodiscard]] virtual bool open() const = 0;
};

/// Produces the events of a streamed response.
using StreamBody = std::function<Task<void>(EventSink&)>;

/// A response as handlers build it; the server turns it into bytes.
struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  /// When set, the response is a `text/event-stream` produced by this function.
  StreamBody stream;

  /// A JSON response (`body` must already be serialized JSON).
  static Response json(int status, std::string json_body);
  /// A plain-text response.
  static Response text(int status, std::string text, std::string content_type = "text/plain; charset=utf-8");
  /// An empty response such as 204 or 304.
  static Response empty(int status);
  /// A server-sent-events stream.
  static Response event_stream(StreamBody body);
};

/// Formats one server-sent event: multi-line data is split into several `data:` lines.
std::string format_sse_event(std::string_view event, std::string_view data);

/// Formats a server-sent-events comment line (used as a heartbeat).
std::string format_sse_comment(std::string_view text);

}  // namespace evolveai::http
