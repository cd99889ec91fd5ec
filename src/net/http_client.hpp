#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/task.hpp"
#include "net/http_headers.hpp"

namespace evolveai::net {

/// One outgoing request; `url` is absolute (`http://` or `https://`).
struct HttpRequest {
  std::string method = "GET";
  std::string url;
  HttpHeaders headers;
  std::string body;
};

/// A whole response as `HttpClient::request` returns it, whatever its status.
struct HttpResponse {
  int status = 0;
  HttpHeaders headers;
  std::string body;
};

/// What `HttpClient::stream` tells once the body has ended or the caller stopped it.
struct HttpStreamResult {
  int status = 0;
  HttpHeaders headers;
  std::size_t body_bytes = 0;
  bool stopped = false;  ///< the chunk handler asked to stop; the connection was closed
};

/// Limits and deadlines of one client; every call made through it obeys them.
struct HttpClientOptions {
  std::chrono::milliseconds connect_timeout = std::chrono::seconds(5);      ///< DNS, TCP and TLS handshake
  std::chrono::milliseconds first_byte_timeout = std::chrono::seconds(30);  ///< request sent -> response head read
  std::chrono::milliseconds read_timeout = std::chrono::seconds(30);        ///< longest silence inside the body
  std::chrono::milliseconds total_timeout = std::chrono::seconds(120);      ///< the whole exchange
  std::size_t request_body_limit = std::size_t{32} * 1024 * 1024;
  std::size_t response_body_limit = std::size_t{16} * 1024 * 1024;
  std::size_t header_limit = std::size_t{64} * 1024;
  std::size_t max_idle_per_host = 8;                              ///< keep-alive connections kept per host
  std::chrono::milliseconds idle_ttl = std::chrono::seconds(30);  ///< older idle connections are not reused
  std::string user_agent = "evolveai";
  bool verify_peer = true;   ///< check the server certificate and host name
  std::string extra_ca_pem;  ///< PEM certificates trusted besides the system store (private CAs, tests)
};

/// Why a call failed.
enum class HttpErrorKind {
  kInvalidRequest,  ///< bad URL, or the request body is over its limit
  kConnect,         ///< name resolution or TCP connect failed, or the peer dropped the connection
  kTls,             ///< handshake or certificate failure
  kTimeout,         ///< see `TimeoutKind`
  kProtocol,        ///< malformed HTTP from the server
  kBodyTooLarge,    ///< the response body is over its limit
  kStatus,          ///< (streams only) the server answered with a non-2xx status
};

/// Which deadline ran out.
enum class TimeoutKind { kNone, kConnect, kFirstByte, kRead, kTotal };

/// A failed call. Cancellation by the caller is not an HttpError: it surfaces as
/// `boost::system::system_error` with `operation_aborted`, as Asio operations do.
class HttpError : public std::runtime_error {
 public:
  HttpError(HttpErrorKind kind, const std::string& message, TimeoutKind timeout = TimeoutKind::kNone);

  /// A status error carrying the response (its body already limited in size).
  static HttpError status_error(HttpResponse response);

  [[nodiscard]] HttpErrorKind kind() const noexcept { return kind_; }
  [[nodiscard]] TimeoutKind timeout_kind() const noexcept { return timeout_; }
  /// The response status for kStatus, else 0.
  [[nodiscard]] int status() const noexcept { return response_.status; }
  [[nodiscard]] const HttpHeaders& headers() const noexcept { return response_.headers; }
  [[nodiscard]] const std::string& body() const noexcept { return response_.body; }
  /// Response bytes received before the failure (0: the server may not have seen the request).
  [[nodiscard]] std::size_t bytes_received() const noexcept { return bytes_received_; }
  HttpError& with_bytes_received(std::size_t bytes) {
    bytes_received_ = bytes;
    return *this;
  }

 private:
  HttpErrorKind kind_;
  TimeoutKind timeout_;
  HttpResponse response_;
  std::size_t bytes_received_ = 0;
};

/// Receives response body bytes as they arrive (valid only during the call); returns
/// false to stop reading, which closes the connection.
using BodyChunkHandler = std::function<Task<bool>(std::string_view chunk)>;

/// Asynchronous HTTP/1.1 client over TCP or TLS (system CA store, SNI, host name check)
/// with a bounded keep-alive pool per host and the deadlines of its options. Retries are
/// not its business: callers wrap calls in a `RetryPolicy`. Thread-safe; calls may run
/// on any executor. It must outlive the calls made through it, and be destroyed before the
/// io_context those calls ran on (its pooled sockets belong to that context).
class HttpClient {
 public:
  explicit HttpClient(HttpClientOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  /// Sends a request and reads the whole response, whatever its status.
  Task<HttpResponse> request(HttpRequest request);

  /// Sends a request and hands a 2xx body to `on_chunk` piece by piece as it arrives.
  /// A non-2xx response is read whole and thrown as HttpError kStatus. If the calling
  /// coroutine is cancelled, the connection is closed at once and `operation_aborted` thrown.
  Task<HttpStreamResult> stream(HttpRequest request, BodyChunkHandler on_chunk);

  /// Idle keep-alive connections held now, all hosts together (for tests and metrics).
  [[nodiscard]] std::size_t idle_connections() const;

  [[nodiscard]] const HttpClientOptions& options() const noexcept;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

/// A name for a timeout kind, for messages and logs ("connect", "first_byte", …).
[[nodiscard]] std::string_view timeout_kind_name(TimeoutKind kind) noexcept;

}  // namespace evolveai::net
