#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace evolveai::testing {

/// A parsed HTTP/1.1 response as the tests see it.
struct HttpReply {
  int status = 0;
  std::map<std::string, std::string> headers;  ///< names lower-cased
  std::string body;
  /// For chunked responses, each chunk's data in order.
  std::vector<std::string> chunks;

  [[nodiscard]] std::string header(const std::string& lower_name) const;
};

/// A blocking TCP connection with plain sockets, for exercising the server byte by byte.
class RawConnection {
 public:
  explicit RawConnection(std::uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  /// Sends bytes; false when the peer has closed.
  bool send(const std::string& bytes);
  /// Reads one response (Content-Length, chunked or until close); nullopt when the peer
  /// closed or the timeout passed before a whole response arrived.
  std::optional<HttpReply> read_reply();
  /// Reads and returns the next chunk's data of a chunked body whose head was read with
  /// `read_head()`; nullopt at the last chunk, on close or timeout.
  std::optional<std::string> read_chunk();
  /// Reads only the status line and headers.
  std::optional<HttpReply> read_head();
  /// True when the server closes the connection within `wait`.
  bool closed_within(std::chrono::milliseconds wait);
  /// Closes the socket from this side.
  void close();
  /// Aborts the connection: closes with a TCP reset, as a crashed client would.
  void reset();

 private:
  bool fill(std::chrono::milliseconds wait);
  std::optional<std::string> read_line();
  std::optional<std::string> read_exact(std::size_t count);

  int fd_ = -1;
  std::chrono::milliseconds timeout_;
  std::string buffer_;
};

/// One request on a fresh connection.
std::optional<HttpReply> http_request(std::uint16_t port, const std::string& method, const std::string& target,
                                      const std::string& body = {},
                                      const std::map<std::string, std::string>& headers = {});

}  // namespace evolveai::testing
