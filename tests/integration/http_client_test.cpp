#include "net/http_client.hpp"

#include <gtest/gtest.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/system/system_error.hpp>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "fakes/fake_upstream.hpp"

namespace evolveai::net {
namespace {

using namespace std::chrono_literals;
using testing::FakeReply;
using testing::FakeUpstream;
using Clock = std::chrono::steady_clock;

class HttpClientTest : public ::testing::Test {
 protected:
  /// Runs a coroutine to completion on the fixture's io_context (which outlives every
  /// client a test makes, as pooled sockets require).
  template <typename T>
  T run(Task<T> task) {
    io_.restart();
    auto future = boost::asio::co_spawn(io_, std::move(task), boost::asio::use_future);
    io_.run();
    return future.get();
  }

  /// Runs a call expected to fail with an HttpError and returns it.
  template <typename T>
  HttpError failure_of(Task<T> task) {
    try {
      run(std::move(task));
    } catch (const HttpError& error) {
      return error;
    }
    ADD_FAILURE() << "the call did not fail with an HttpError";
    return HttpError(HttpErrorKind::kProtocol, "none");
  }

  static HttpRequest get(const std::string& url) {
    HttpRequest request;
    request.url = url;
    return request;
  }

  /// A stream call that appends every piece to `pieces`.
  static Task<HttpStreamResult> collect(HttpClient& client, HttpRequest request, std::vector<std::string>& pieces) {
    co_return co_await client.stream(std::move(request), [&pieces](std::string_view chunk) -> Task<bool> {
      pieces.emplace_back(chunk);
      co_return true;
    });
  }

  boost::asio::io_context io_;
};

std::string joined(const std::vector<std::string>& pieces) {
  std::string all;
  for (const auto& piece : pieces) {
    all += piece;
  }
  return all;
}

TEST_F(HttpClientTest, SendsTheRequestAndReadsTheResponse) {
  FakeUpstream fake;
  fake.enqueue(FakeReply::json(201, R"({"ok":true})"));
  HttpClient client;
  HttpRequest request;
  request.method = "POST";
  request.url = fake.origin() + "/v1/things?x=1";
  request.headers.set("X-Test", "yes");
  request.headers.set("Content-Type", "text/plain");
  request.body = "hello";
  const auto response = run(client.request(request));
  EXPECT_EQ(response.status, 201);
  EXPECT_EQ(response.body, R"({"ok":true})");
  EXPECT_EQ(response.headers.get("content-type").value_or(""), "application/json");

  ASSERT_EQ(fake.request_count(), 1U);
  const auto recorded = fake.requests().front();
  EXPECT_EQ(recorded.method, "POST");
  EXPECT_EQ(recorded.path, "/v1/things");
  EXPECT_EQ(recorded.query, "x=1");
  EXPECT_EQ(recorded.header("x-test"), "yes");
  EXPECT_EQ(recorded.header("host"), "127.0.0.1:" + std::to_string(fake.port()));
  EXPECT_EQ(recorded.header("content-length"), "5");
  EXPECT_EQ(recorded.header("user-agent"), "evolveai");
  EXPECT_EQ(recorded.body, "hello");
}

TEST_F(HttpClientTest, ReusesKeptAliveConnections) {
  FakeUpstream fake;
  fake.enqueue(FakeReply::json(200, "{}"));
  fake.enqueue(FakeReply::json(200, "{}"));
  HttpClient client;
  EXPECT_EQ(run(client.request(get(fake.origin() + "/a"))).status, 200);
  EXPECT_EQ(client.idle_connections(), 1U);
  EXPECT_EQ(run(client.request(get(fake.origin() + "/b"))).status, 200);
  EXPECT_EQ(fake.connections_accepted(), 1U);
}

TEST_F(HttpClientTest, ReplacesAKeptAliveConnectionTheServerClosed) {
  FakeUpstream fake;
  auto first = FakeReply::json(200, "{}");
  first.close_silently = true;
  fake.enqueue(first);
  fake.enqueue(FakeReply::json(200, R"({"second":true})"));
  HttpClient client;
  EXPECT_EQ(run(client.request(get(fake.origin() + "/a"))).status, 200);
  std::this_thread::sleep_for(50ms);
  const auto second = run(client.request(get(fake.origin() + "/b")));
  EXPECT_EQ(second.body, R"({"second":true})");
  EXPECT_EQ(fake.connections_accepted(), 2U);
  EXPECT_EQ(fake.request_count(), 2U);
}

TEST_F(HttpClientTest, UnaryCallsReturnErrorStatusesAsResponses) {
  FakeUpstream fake;
  fake.enqueue(FakeReply::json(503, R"({"error":"busy"})"));
  HttpClient client;
  const auto response = run(client.request(get(fake.origin() + "/")));
  EXPECT_EQ(response.status, 503);
  EXPECT_EQ(response.body, R"({"error":"busy"})");
}

TEST_F(HttpClientTest, StreamsBodyPiecesAsTheyArrive) {
  FakeUpstream fake;
  fake.enqueue(FakeReply::event_stream({"data: 1\n\n", "data: 2\n\n", "data: 3\n\n", "data: 4\n\n"}, 150ms));
  HttpClient client;
  std::vector<Clock::time_point> arrivals;
  std::string body;
  const auto result = run(client.stream(get(fake.origin() + "/s"), [&](std::string_view chunk) -> Task<bool> {
    arrivals.push_back(Clock::now());
    body += chunk;
    co_return true;
  }));
  EXPECT_EQ(result.status, 200);
  EXPECT_FALSE(result.stopped);
  EXPECT_EQ(body, "data: 1\n\ndata: 2\n\ndata: 3\n\ndata: 4\n\n");
  ASSERT_GE(arrivals.size(), 2U);
  EXPECT_GE(arrivals.back() - arrivals.front(), 300ms);
  EXPECT_EQ(client.idle_connections(), 1U);
}

TEST_F(HttpClientTest, StreamsThrowStatusErrorsWithBodyAndHeaders) {
  FakeUpstream fake;
  auto reply = FakeReply::json(429, R"({"error":{"message":"slow down"}})");
  reply.headers.emplace_back("Retry-After", "7");
  fake.enqueue(reply);
  HttpClient client;
  std::vector<std::string> pieces;
  const auto error = failure_of(collect(client, get(fake.origin() + "/s"), pieces));
  EXPECT_EQ(error.kind(), HttpErrorKind::kStatus);
  EXPECT_EQ(error.status(), 429);
  EXPECT_EQ(error.body(), R"({"error":{"message":"slow down"}})");
  EXPECT_EQ(error.headers().get("retry-after").value_or(""), "7");
  EXPECT_TRUE(pieces.empty());
}

TEST_F(HttpClientTest, AHandlerThatStopsClosesTheConnection) {
  FakeUpstream fake;
  std::vector<std::string> chunks(50, "data: x\n\n");
  fake.enqueue(FakeReply::event_stream(chunks, 20ms));
  HttpClient client;
  int calls = 0;
  const auto result = run(client.stream(get(fake.origin() + "/s"), [&](std::string_view) -> Task<bool> {
    ++calls;
    co_return false;
  }));
  EXPECT_TRUE(result.stopped);
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(fake.wait_for_client_abort(0, 1s));
  EXPECT_EQ(client.idle_connections(), 0U);
}

TEST_F(HttpClientTest, CancellingTheCallerClosesTheUpstreamWithinOneSecond) {
  FakeUpstream fake;
  auto reply = FakeReply::event_stream({"data: first\n\n", "data: never\n\n"});
  reply.stall_after = 1;
  fake.enqueue(reply);
  HttpClient client;
  boost::asio::cancellation_signal cancel;
  Clock::time_point cancelled_at;
  auto call = client.stream(get(fake.origin() + "/s"), [&](std::string_view) -> Task<bool> {
    boost::asio::post(io_, [&] {
      cancelled_at = Clock::now();
      cancel.emit(boost::asio::cancellation_type::terminal);
    });
    co_return true;
  });
  io_.restart();
  auto future = boost::asio::co_spawn(io_, std::move(call),
                                      boost::asio::bind_cancellation_slot(cancel.slot(), boost::asio::use_future));
  io_.run();
  try {
    future.get();
    ADD_FAILURE() << "a cancelled call must not complete";
  } catch (const boost::system::system_error& error) {
    EXPECT_EQ(error.code(), boost::asio::error::operation_aborted);
  }
  EXPECT_TRUE(fake.wait_for_client_abort(0, 1s));
  EXPECT_LT(Clock::now() - cancelled_at, 1s);
}

TEST_F(HttpClientTest, ARefusedConnectionIsAConnectError) {
  std::uint16_t port = 0;
  {
    boost::asio::ip::tcp::acceptor probe(io_, {boost::asio::ip::make_address("127.0.0.1"), 0});
    port = probe.local_endpoint().port();
  }
  HttpClient client;
  const auto error = failure_of(client.request(get("http://127.0.0.1:" + std::to_string(port) + "/")));
  EXPECT_EQ(error.kind(), HttpErrorKind::kConnect);
  EXPECT_EQ(error.bytes_received(), 0U);
}

TEST_F(HttpClientTest, AnUnansweredTlsHandshakeIsAConnectTimeout) {
  // A listener that never accepts: TCP connects (the kernel's backlog), TLS never answers.
  boost::asio::ip::tcp::acceptor silent(io_, {boost::asio::ip::make_address("127.0.0.1"), 0});
  HttpClientOptions options;
  options.connect_timeout = 200ms;
  HttpClient client(options);
  const auto started = Clock::now();
  const auto error =
      failure_of(client.request(get("https://127.0.0.1:" + std::to_string(silent.local_endpoint().port()) + "/")));
  EXPECT_EQ(error.kind(), HttpErrorKind::kTimeout);
  EXPECT_EQ(error.timeout_kind(), TimeoutKind::kConnect);
  EXPECT_LT(Clock::now() - started, 2s);
}

TEST_F(HttpClientTest, ASlowFirstByteIsAFirstByteTimeout) {
  FakeUpstream fake;
  auto reply = FakeReply::json(200, "{}");
  reply.first_byte_delay = 3s;
  fake.enqueue(reply);
  HttpClientOptions options;
  options.first_byte_timeout = 200ms;
  HttpClient client(options);
  const auto started = Clock::now();
  const auto error = failure_of(client.request(get(fake.origin() + "/")));
  EXPECT_EQ(error.kind(), HttpErrorKind::kTimeout);
  EXPECT_EQ(error.timeout_kind(), TimeoutKind::kFirstByte);
  EXPECT_LT(Clock::now() - started, 2s);
  EXPECT_TRUE(fake.wait_for_client_abort(0, 1s));
}

TEST_F(HttpClientTest, AStallMidStreamIsAReadTimeout) {
  FakeUpstream fake;
  auto reply = FakeReply::event_stream({"data: 1\n\n", "data: 2\n\n"});
  reply.stall_after = 1;
  fake.enqueue(reply);
  HttpClientOptions options;
  options.read_timeout = 200ms;
  HttpClient client(options);
  std::vector<std::string> pieces;
  const auto error = failure_of(collect(client, get(fake.origin() + "/s"), pieces));
  EXPECT_EQ(error.kind(), HttpErrorKind::kTimeout);
  EXPECT_EQ(error.timeout_kind(), TimeoutKind::kRead);
  EXPECT_GT(error.bytes_received(), 0U);
  EXPECT_EQ(joined(pieces), "data: 1\n\n");
}

TEST_F(HttpClientTest, TheTotalDeadlineBoundsASlowButSteadyStream) {
  FakeUpstream fake;
  fake.enqueue(FakeReply::event_stream(std::vector<std::string>(30, "data: x\n\n"), 50ms));
  HttpClientOptions options;
  options.total_timeout = 300ms;
  HttpClient client(options);
  std::vector<std::string> pieces;
  const auto error = failure_of(collect(client, get(fake.origin() + "/s"), pieces));
  EXPECT_EQ(error.kind(), HttpErrorKind::kTimeout);
  EXPECT_EQ(error.timeout_kind(), TimeoutKind::kTotal);
  EXPECT_FALSE(pieces.empty());
}

TEST_F(HttpClientTest, AConnectionDroppedMidStreamIsAConnectionError) {
  FakeUpstream fake;
  auto reply = FakeReply::event_stream({"data: 1\n\n", "data: 2\n\n", "data: 3\n\n"});
  reply.drop_after = 2;
  fake.enqueue(reply);
  HttpClient client;
  std::vector<std::string> pieces;
  const auto error = failure_of(collect(client, get(fake.origin() + "/s"), pieces));
  EXPECT_EQ(error.kind(), HttpErrorKind::kConnect);
  EXPECT_GT(error.bytes_received(), 0U);
  EXPECT_EQ(joined(pieces), "data: 1\n\ndata: 2\n\n");
}

TEST_F(HttpClientTest, EnforcesBodyLimitsBothWays) {
  FakeUpstream fake;
  fake.enqueue(FakeReply::json(200, std::string(5000, 'x')));
  HttpClientOptions options;
  options.response_body_limit = 1000;
  options.request_body_limit = 10;
  HttpClient client(options);
  EXPECT_EQ(failure_of(client.request(get(fake.origin() + "/"))).kind(), HttpErrorKind::kBodyTooLarge);

  HttpRequest big = get(fake.origin() + "/");
  big.method = "POST";
  big.body = std::string(11, 'y');
  EXPECT_EQ(failure_of(client.request(big)).kind(), HttpErrorKind::kInvalidRequest);
  EXPECT_EQ(fake.request_count(), 1U);
}

TEST_F(HttpClientTest, RefusesUrlsItCannotUse) {
  HttpClient client;
  EXPECT_EQ(failure_of(client.request(get("not a url"))).kind(), HttpErrorKind::kInvalidRequest);
  EXPECT_EQ(failure_of(client.request(get("ftp://example.com/x"))).kind(), HttpErrorKind::kInvalidRequest);
}

TEST_F(HttpClientTest, SpeaksTlsToATrustedServerByAddressAndByName) {
  FakeUpstream fake(true);
  fake.set_responder([](const testing::RecordedRequest&) { return FakeReply::json(200, R"({"secure":true})"); });
  HttpClientOptions options;
  options.extra_ca_pem = fake.certificate_pem();
  HttpClient client(options);
  EXPECT_EQ(run(client.request(get(fake.origin() + "/"))).body, R"({"secure":true})");
  const auto by_name = run(client.request(get("https://localhost:" + std::to_string(fake.port()) + "/")));
  EXPECT_EQ(by_name.status, 200);
  EXPECT_EQ(fake.requests().back().header("host"), "localhost:" + std::to_string(fake.port()));
}

TEST_F(HttpClientTest, RefusesAnUntrustedCertificate) {
  FakeUpstream fake(true);
  HttpClient client;
  const auto error = failure_of(client.request(get(fake.origin() + "/")));
  EXPECT_EQ(error.kind(), HttpErrorKind::kTls);
  EXPECT_EQ(fake.request_count(), 0U);
}

}  // namespace
}  // namespace evolveai::net
