#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace evolveai::testing {

/// A request as a fake upstream received it.
struct RecordedRequest {
  std::string method;
  std::string target;  ///< path and query as sent
  std::string path;
  std::string query;                                         ///< without '?'
  std::vector<std::pair<std::string, std::string>> headers;  ///< names lower-cased
  std::string body;

  /// The first value of a header (give the name in lower case), or "".
  [[nodiscard]] std::string header(std::string_view lower_name) const;
};

/// One scripted reply of a fake upstream, with the faults it should show.
struct FakeReply {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;                               ///< sent with Content-Length when `chunks` is empty
  std::vector<std::string> chunks;                ///< otherwise sent chunked, one write per element
  std::chrono::milliseconds first_byte_delay{0};  ///< silence before the status line
  std::chrono::milliseconds chunk_interval{0};    ///< pause before every chunk but the first
  std::optional<std::size_t> stall_after;         ///< after this many chunks go silent, connection kept open
  std::optional<std::size_t> drop_after;          ///< after this many chunks cut the connection
  bool close_after = false;                       ///< `Connection: close` and close once sent
  bool close_silently = false;                    ///< promise keep-alive, then close once sent

  /// A whole body with a content type.
  static FakeReply whole(int status, std::string content_type, std::string body);
  /// A JSON body.
  static FakeReply json(int status, std::string body);
  /// A chunked `text/event-stream` body.
  static FakeReply event_stream(std::vector<std::string> chunks, std::chrono::milliseconds interval = {});
  /// `bytes` sent chunked in pieces of `piece` bytes (cuts fall anywhere, even inside CRLF).
  static FakeReply bytes_in_pieces(int status, std::string content_type, std::string_view bytes, std::size_t piece);
};

/// A real HTTP/1.1 server on 127.0.0.1, port 0, with its own thread: scripted replies
/// (a queue, then a responder), recorded requests, fault injection, and an observable
/// signal when a client closes its connection while a reply is still due or in flight.
/// With `tls` it serves HTTPS with a self-signed certificate for 127.0.0.1 and localhost.
class FakeUpstream {
 public:
  /// Decides the reply to a request when no scripted one is queued.
  using Responder = std::function<FakeReply(const RecordedRequest&)>;

  explicit FakeUpstream(bool tls = false);
  virtual ~FakeUpstream();
  FakeUpstream(const FakeUpstream&) = delete;
  FakeUpstream& operator=(const FakeUpstream&) = delete;

  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  /// "http://127.0.0.1:PORT" (or https).
  [[nodiscard]] std::string origin() const;
  /// The certificate to trust for the TLS variant (PEM).
  [[nodiscard]] const std::string& certificate_pem() const noexcept { return certificate_pem_; }

  /// Queues replies, served in order to the next requests.
  void enqueue(FakeReply reply);
  /// Sets the reply for requests when the queue is empty (default: 500 "no scripted reply").
  void set_responder(Responder responder);

  [[nodiscard]] std::vector<RecordedRequest> requests() const;
  [[nodiscard]] std::size_t request_count() const;
  /// Waits until at least `count` requests arrived; false on timeout.
  bool wait_for_requests(std::size_t count, std::chrono::milliseconds timeout) const;

  /// Connections the client closed while a reply was being delayed, stalled or written.
  [[nodiscard]] std::size_t client_aborts() const;
  /// Waits until client_aborts() exceeds `seen`; false on timeout.
  bool wait_for_client_abort(std::size_t seen, std::chrono::milliseconds timeout) const;
  [[nodiscard]] std::size_t connections_accepted() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::uint16_t port_ = 0;
  bool tls_ = false;
  std::string certificate_pem_;
};

}  // namespace evolveai::testing
