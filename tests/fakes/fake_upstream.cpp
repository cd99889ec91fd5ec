#include "fakes/fake_upstream.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "core/task.hpp"

namespace evolveai::testing {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using asio::use_awaitable;
constexpr auto kAsTuple = asio::as_tuple(use_awaitable);

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

/// A self-signed certificate for 127.0.0.1 and localhost, and its key, in PEM.
struct SelfSigned {
  std::string certificate;
  std::string key;
};

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_ctrl(bio, BIO_CTRL_INFO, 0, static_cast<void*>(&data));
  return std::string(data, static_cast<std::size_t>(size));
}

SelfSigned make_self_signed() {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
  if (!key || !cert) {
    throw std::runtime_error("cannot create a test certificate");
  }
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24L * 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  const std::string common_name = "evolveai test upstream";
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                             -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, cert.get(), cert.get(), nullptr, nullptr, 0);
  for (const auto& [nid, value] : std::vector<std::pair<int, std::string>>{
           {NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost"}, {NID_basic_constraints, "critical,CA:TRUE"}}) {
    X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value.c_str());
    if (extension == nullptr) {
      throw std::runtime_error("cannot add a test certificate extension");
    }
    X509_add_ext(cert.get(), extension, -1);
    X509_EXTENSION_free(extension);
  }
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) {
    throw std::runtime_error("cannot sign a test certificate");
  }
  SelfSigned result;
  std::unique_ptr<BIO, decltype(&BIO_free)> cert_bio(BIO_new(BIO_s_mem()), BIO_free);
  PEM_write_bio_X509(cert_bio.get(), cert.get());
  result.certificate = bio_text(cert_bio.get());
  std::unique_ptr<BIO, decltype(&BIO_free)> key_bio(BIO_new(BIO_s_mem()), BIO_free);
  PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  result.key = bio_text(key_bio.get());
  return result;
}

/// How writing a reply ended.
enum class Served { kDone, kClientGone, kDropped };

}  // namespace

std::string RecordedRequest::header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) {
      return value;
    }
  }
  return {};
}

FakeReply FakeReply::whole(int status, std::string content_type, std::string body) {
  FakeReply reply;
  reply.status = status;
  reply.headers.emplace_back("Content-Type", std::move(content_type));
  reply.body = std::move(body);
  return reply;
}

FakeReply FakeReply::json(int status, std::string body) {
  return whole(status, "application/json", std::move(body));
}

FakeReply FakeReply::event_stream(std::vector<std::string> chunks, std::chrono::milliseconds interval) {
  FakeReply reply;
  reply.headers.emplace_back("Content-Type", "text/event-stream");
  reply.headers.emplace_back("Cache-Control", "no-cache");
  reply.chunks = std::move(chunks);
  reply.chunk_interval = interval;
  return reply;
}

FakeReply FakeReply::bytes_in_pieces(int status, std::string content_type, std::string_view bytes, std::size_t piece) {
  FakeReply reply;
  reply.status = status;
  reply.headers.emplace_back("Content-Type", std::move(content_type));
  piece = std::max<std::size_t>(piece, 1);
  for (std::size_t at = 0; at < bytes.size(); at += piece) {
    reply.chunks.emplace_back(bytes.substr(at, piece));
  }
  if (reply.chunks.empty()) {
    reply.body.clear();
  }
  return reply;
}

struct FakeUpstream::Impl {
  // Declared so that the I/O objects go first and the state their coroutines use last.
  std::unique_ptr<ssl::context> tls_context;
  mutable std::mutex mutex;
  mutable std::condition_variable changed;
  std::deque<FakeReply> queue;
  Responder responder;
  std::vector<RecordedRequest> recorded;
  std::size_t aborts = 0;
  std::size_t accepted = 0;

  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::thread thread;

  FakeReply next_reply(const RecordedRequest& request) {
    Responder fallback;
    {
      const std::scoped_lock lock(mutex);
      recorded.push_back(request);
      changed.notify_all();
      if (!queue.empty()) {
        FakeReply reply = std::move(queue.front());
        queue.pop_front();
        return reply;
      }
      fallback = responder;
    }
    if (fallback) {
      return fallback(request);
    }
    return FakeReply::json(500, R"({"error":{"code":500,"message":"no scripted reply","status":"INTERNAL"}})");
  }

  void note_abort() {
    const std::scoped_lock lock(mutex);
    ++aborts;
    changed.notify_all();
  }

  Task<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(kAsTuple);
      if (ec) {
        co_return;
      }
      {
        const std::scoped_lock lock(mutex);
        ++accepted;
      }
      if (tls_context) {
        asio::co_spawn(io, tls_session(std::move(socket)), asio::detached);
      } else {
        asio::co_spawn(io, plain_session(std::move(socket)), asio::detached);
      }
    }
  }

  Task<void> plain_session(tcp::socket socket) { co_await session(socket, socket); }

  Task<void> tls_session(tcp::socket socket) {
    ssl::stream<tcp::socket> stream(std::move(socket), *tls_context);
    auto [ec] = co_await stream.async_handshake(ssl::stream_base::server, kAsTuple);
    if (!ec) {
      co_await session(stream, stream.next_layer());
    }
    boost::system::error_code ignored;
    stream.next_layer().close(ignored);
  }

  template <typename Stream>
  Task<void> session(Stream& stream, tcp::socket& socket) {
    beast::flat_buffer buffer;
    for (;;) {
      bhttp::request_parser<bhttp::string_body> parser;
      parser.body_limit(std::size_t{64} * 1024 * 1024);
      auto [ec, read] = co_await bhttp::async_read(stream, buffer, parser, kAsTuple);
      if (ec) {
        break;
      }
      const auto& message = parser.get();
      RecordedRequest request;
      request.method = std::string(message.method_string());
      request.target = std::string(message.target());
      const auto question = request.target.find('?');
      request.path = request.target.substr(0, question);
      request.query = question == std::string::npos ? std::string() : request.target.substr(question + 1);
      for (const auto& field : message) {
        request.headers.emplace_back(lower(field.name_string()), std::string(field.value()));
      }
      request.body = message.body();
      const bool keep_alive = message.keep_alive();
      FakeReply reply = next_reply(request);

      using asio::experimental::awaitable_operators::operator||;
      const auto outcome = co_await (write_reply(stream, socket, reply, keep_alive) || watch_client(socket));
      const Served served = outcome.index() == 0 ? std::get<0>(outcome) : Served::kClientGone;
      if (served == Served::kClientGone) {
        note_abort();
      }
      if (served != Served::kDone || reply.close_after || reply.close_silently || !keep_alive) {
        break;
      }
    }
    boost::system::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
  }

  /// Completes when the client closes its side while we still owe it bytes.
  Task<void> watch_client(tcp::socket& socket) {
    auto [ec] = co_await socket.async_wait(tcp::socket::wait_read, kAsTuple);
    boost::system::error_code available_error;
    if (ec == asio::error::operation_aborted) {
      co_return;
    }
    if (!ec && socket.available(available_error) > 0 && !available_error) {
      // The client sent more (TLS records, a pipelined request): nothing to learn; wait to be cancelled.
      asio::steady_timer forever(socket.get_executor(), std::chrono::steady_clock::time_point::max());
      co_await forever.async_wait(kAsTuple);
    }
  }

  template <typename Stream>
  Task<Served> write_reply(Stream& stream, tcp::socket& socket, const FakeReply& reply, bool keep_alive) {
    asio::steady_timer timer(socket.get_executor());
    if (reply.first_byte_delay.count() > 0) {
      timer.expires_after(reply.first_byte_delay);
      co_await timer.async_wait(use_awaitable);
    }
    const bool keep = keep_alive && !reply.close_after;
    if (reply.chunks.empty()) {
      bhttp::response<bhttp::string_body> response;
      response.version(11);
      response.result(static_cast<unsigned>(reply.status));
      for (const auto& [name, value] : reply.headers) {
        response.insert(name, value);
      }
      response.body() = reply.body;
      response.keep_alive(keep);
      response.prepare_payload();
      auto [ec, written] = co_await bhttp::async_write(stream, response, kAsTuple);
      co_return ec ? Served::kClientGone : Served::kDone;
    }
    bhttp::response<bhttp::empty_body> head;
    head.version(11);
    head.result(static_cast<unsigned>(reply.status));
    for (const auto& [name, value] : reply.headers) {
      head.insert(name, value);
    }
    head.keep_alive(keep);
    head.chunked(true);
    bhttp::response_serializer<bhttp::empty_body> serializer{head};
    {
      auto [ec, written] = co_await bhttp::async_write_header(stream, serializer, kAsTuple);
      if (ec) {
        co_return Served::kClientGone;
      }
    }
    for (std::size_t i = 0; i < reply.chunks.size(); ++i) {
      if (reply.stall_after && i == *reply.stall_after) {
        timer.expires_at(std::chrono::steady_clock::time_point::max());
        co_await timer.async_wait(use_awaitable);
      }
      if (reply.drop_after && i == *reply.drop_after) {
        boost::system::error_code ignored;
        socket.close(ignored);
        co_return Served::kDropped;
      }
      if (i > 0 && reply.chunk_interval.count() > 0) {
        timer.expires_after(reply.chunk_interval);
        co_await timer.async_wait(use_awaitable);
      }
      if (reply.chunks[i].empty()) {
        continue;  // an empty chunk would end the body
      }
      auto [ec, written] =
          co_await asio::async_write(stream, bhttp::make_chunk(asio::buffer(reply.chunks[i])), kAsTuple);
      if (ec) {
        co_return Served::kClientGone;
      }
    }
    if (reply.stall_after && *reply.stall_after >= reply.chunks.size()) {
      timer.expires_at(std::chrono::steady_clock::time_point::max());
      co_await timer.async_wait(use_awaitable);
    }
    if (reply.drop_after && *reply.drop_after >= reply.chunks.size()) {
      boost::system::error_code ignored;
      socket.close(ignored);
      co_return Served::kDropped;
    }
    auto [ec, written] = co_await asio::async_write(stream, bhttp::make_chunk_last(), kAsTuple);
    co_return ec ? Served::kClientGone : Served::kDone;
  }
};

FakeUpstream::FakeUpstream(bool tls) : impl_(std::make_unique<Impl>()), tls_(tls) {
  if (tls_) {
    const auto pair = make_self_signed();
    certificate_pem_ = pair.certificate;
    impl_->tls_context = std::make_unique<ssl::context>(ssl::context::tls_server);
    impl_->tls_context->use_certificate_chain(asio::buffer(pair.certificate));
    impl_->tls_context->use_private_key(asio::buffer(pair.key), ssl::context::pem);
  }
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
  impl_->acceptor.open(endpoint.protocol());
  impl_->acceptor.set_option(asio::socket_base::reuse_address(true));
  impl_->acceptor.bind(endpoint);
  impl_->acceptor.listen();
  port_ = impl_->acceptor.local_endpoint().port();
  asio::co_spawn(impl_->io, impl_->accept_loop(), asio::detached);
  impl_->thread = std::thread([impl = impl_.get()] { impl->io.run(); });
}

FakeUpstream::~FakeUpstream() {
  asio::post(impl_->io, [impl = impl_.get()] {
    boost::system::error_code ignored;
    impl->acceptor.close(ignored);
  });
  impl_->io.stop();
  impl_->thread.join();
}

std::string FakeUpstream::origin() const {
  return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_);
}

void FakeUpstream::enqueue(FakeReply reply) {
  const std::scoped_lock lock(impl_->mutex);
  impl_->queue.push_back(std::move(reply));
}

void FakeUpstream::set_responder(Responder responder) {
  const std::scoped_lock lock(impl_->mutex);
  impl_->responder = std::move(responder);
}

std::vector<RecordedRequest> FakeUpstream::requests() const {
  const std::scoped_lock lock(impl_->mutex);
  return impl_->recorded;
}

std::size_t FakeUpstream::request_count() const {
  const std::scoped_lock lock(impl_->mutex);
  return impl_->recorded.size();
}

bool FakeUpstream::wait_for_requests(std::size_t count, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mutex);
  return impl_->changed.wait_for(lock, timeout, [&] { return impl_->recorded.size() >= count; });
}

std::size_t FakeUpstream::client_aborts() const {
  const std::scoped_lock lock(impl_->mutex);
  return impl_->aborts;
}

bool FakeUpstream::wait_for_client_abort(std::size_t seen, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mutex);
  return impl_->changed.wait_for(lock, timeout, [&] { return impl_->aborts > seen; });
}

std::size_t FakeUpstream::connections_accepted() const {
  const std::scoped_lock lock(impl_->mutex);
  return impl_->accepted;
}

}  // namespace evolveai::testing
