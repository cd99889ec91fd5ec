#include <gtest/gtest.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>

#include <atomic>
#include <fstream>
#include <future>
#include <thread>

#include "core/errors.hpp"
#include "obs/health.hpp"
#include "support/http_test_client.hpp"
#include "support/prometheus_parser.hpp"
#include "support/test_app.hpp"

namespace evolveai {
namespace {

using namespace std::chrono_literals;
using testing::HttpReply;
using testing::RawConnection;

Task<void> sleep_for(std::chrono::milliseconds duration) {
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
  timer.expires_after(duration);
  co_await timer.async_wait(boost::asio::use_awaitable);
}

std::string error_code_of(const HttpReply& reply) {
  return std::string(boost::json::parse(reply.body).at("error").at("code").as_string());
}

class HttpServer : public ::testing::Test {
 protected:
  void start(const std::function<void(app::Config&)>& tweak = {},
             const std::function<void(http::Router&)>& routes = {}) {
    auto config = testing::test_config(dir_.path());
    if (tweak) {
      tweak(config);
    }
    app_ = std::make_unique<testing::TestApp>(std::move(config), routes);
  }

  [[nodiscard]] std::uint16_t port() const { return app_->port(); }

  testing::TempDir dir_;
  std::unique_ptr<testing::TestApp> app_;
};

TEST_F(HttpServer, HealthzAnswersOk) {
  start();
  const auto reply = testing::http_request(port(), "GET", "/healthz");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->body, R"({"status":"ok"})");
  EXPECT_EQ(reply->header("content-type"), "application/json");
  EXPECT_FALSE(reply->header("x-request-id").empty());
}

TEST_F(HttpServer, ReadyzIsReadyWithNoFailingChecks) {
  start();
  const auto reply = testing::http_request(port(), "GET", "/readyz");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(boost::json::parse(reply->body).at("status").as_string(), "ready");
}

TEST(Readiness, FailingCheckMakesReadyz503WithDetails) {
  testing::TempDir dir;
  testing::TestApp app(testing::test_config(dir.path()), {}, [](obs::HealthChecks& health) {
    health.add("database", []() -> Task<obs::CheckResult> { co_return obs::CheckResult{true, false, ""}; });
    health.add("llm", []() -> Task<obs::CheckResult> { co_return obs::CheckResult{false, false, "no answer"}; });
  });
  const auto reply = testing::http_request(app.port(), "GET", "/readyz");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 503);
  const auto body = boost::json::parse(reply->body);
  EXPECT_EQ(body.at("status").as_string(), "not_ready");
  EXPECT_TRUE(body.at("checks").at("database").at("ok").as_bool());
  EXPECT_FALSE(body.at("checks").at("llm").at("ok").as_bool());
  EXPECT_EQ(body.at("checks").at("llm").at("detail").as_string(), "no answer");
}

TEST(Readiness, DegradedDependencyIsReportedButStillReady) {
  testing::TempDir dir;
  testing::TestApp app(testing::test_config(dir.path()), {}, [](obs::HealthChecks& health) {
    health.add("redis", []() -> Task<obs::CheckResult> { co_return obs::CheckResult{false, true, "refused"}; });
  });
  const auto reply = testing::http_request(app.port(), "GET", "/readyz");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  const auto body = boost::json::parse(reply->body);
  EXPECT_EQ(body.at("status").as_string(), "ready");
  EXPECT_TRUE(body.at("checks").at("redis").at("degraded").as_bool());
}

TEST(Readiness, CheckThatThrowsCountsAsFailed) {
  testing::TempDir dir;
  testing::TestApp app(testing::test_config(dir.path()), {}, [](obs::HealthChecks& health) {
    health.add("database", []() -> Task<obs::CheckResult> {
      throw std::runtime_error("connection refused");
      co_return obs::CheckResult{};
    });
  });
  const auto reply = testing::http_request(app.port(), "GET", "/readyz");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 503);
}

TEST_F(HttpServer, ClientRequestIdIsEchoedAndBadOnesReplaced) {
  start();
  auto reply = testing::http_request(port(), "GET", "/healthz", {}, {{"X-Request-Id", "abc-123"}});
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->header("x-request-id"), "abc-123");
  reply = testing::http_request(port(), "GET", "/healthz", {}, {{"X-Request-Id", "bad id<script>"}});
  ASSERT_TRUE(reply);
  EXPECT_NE(reply->header("x-request-id"), "bad id<script>");
  EXPECT_FALSE(reply->header("x-request-id").empty());
}

TEST_F(HttpServer, PathParametersReachTheHandler) {
  start({}, [](http::Router& router) {
    router.add("GET", "/api/v1/things/{id}/parts/{part}",
               [](http::Request& request, http::RequestContext&) -> Task<http::Response> {
                 co_return http::Response::text(200, std::string(*request.param("id")) + "/" +
                                                         std::string(*request.param("part")) + "?" +
                                                         request.query_param("q").value_or("-"));
               });
  });
  const auto reply = testing::http_request(port(), "GET", "/api/v1/things/42/parts/wheel%20one?q=a%26b");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->body, "42/wheel one?a&b");
}

TEST_F(HttpServer, UnknownApiRouteIsJson404AndWrongMethodIs405) {
  start();
  auto reply = testing::http_request(port(), "GET", "/api/v1/nope");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 404);
  EXPECT_EQ(error_code_of(*reply), "not_found");
  reply = testing::http_request(port(), "DELETE", "/healthz");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 405);
  EXPECT_EQ(error_code_of(*reply), "method_not_allowed");
  EXPECT_EQ(reply->header("allow"), "GET");
}

TEST_F(HttpServer, TypedErrorsBecomeTheDocumentedJsonBody) {
  start({}, [](http::Router& router) {
    router.add("POST", "/api/v1/limited",
               [](http::Request&, http::RequestContext&) -> Task<http::Response> { throw core::rate_limited(12s); });
    router.add("GET", "/api/v1/crash", [](http::Request&, http::RequestContext&) -> Task<http::Response> {
      throw std::runtime_error("secret internals");
    });
  });
  auto reply = testing::http_request(port(), "POST", "/api/v1/limited", "{}");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 429);
  EXPECT_EQ(reply->header("retry-after"), "12");
  const auto body = boost::json::parse(reply->body);
  EXPECT_EQ(body.at("error").at("code").as_string(), "rate_limited");
  EXPECT_EQ(body.at("error").at("request_id").as_string(), reply->header("x-request-id"));

  reply = testing::http_request(port(), "GET", "/api/v1/crash");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 500);
  EXPECT_EQ(error_code_of(*reply), "internal");
  EXPECT_EQ(reply->body.find("secret internals"), std::string::npos);
}

TEST_F(HttpServer, BodyOverTheRouteLimitIs413) {
  start({}, [](http::Router& router) {
    http::RouteOptions options;
    options.body_limit = 1024;
    router.add(
        "POST", "/api/v1/small",
        [](http::Request& request, http::RequestContext&) -> Task<http::Response> {
          co_return http::Response::text(200, std::to_string(request.body.size()));
        },
        options);
  });
  auto reply = testing::http_request(port(), "POST", "/api/v1/small", std::string(1024, 'x'));
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->body, "1024");

  reply = testing::http_request(port(), "POST", "/api/v1/small", std::string(1025, 'x'));
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 413);
  EXPECT_EQ(error_code_of(*reply), "payload_too_large");

  // A chunked body has no length up front: the limit still holds while reading.
  RawConnection connection(port());
  std::string request = "POST /api/v1/small HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 3; ++i) {
    request += "200\r\n" + std::string(512, 'y') + "\r\n";
  }
  request += "0\r\n\r\n";
  connection.send(request);
  const auto chunked = connection.read_reply();
  ASSERT_TRUE(chunked);
  EXPECT_EQ(chunked->status, 413);
}

TEST_F(HttpServer, MalformedRequestLineIs400AndServerKeepsServing) {
  start();
  for (const std::string garbage : {"GARBAGE\r\n\r\n", "GET /x HTTP/9.9\r\n\r\n", "GET  HTTP/1.1\r\n\r\n",
                                    "\x01\x02\x03 / HTTP/1.1\r\n\r\n", "GET /healthz HTTP/1.1\r\nBad Header\r\n\r\n"}) {
    RawConnection connection(port());
    connection.send(garbage);
    const auto reply = connection.read_reply();
    ASSERT_TRUE(reply) << garbage;
    EXPECT_EQ(reply->status, 400) << garbage;
    EXPECT_TRUE(connection.closed_within(2s));
  }
  const auto healthy = testing::http_request(port(), "GET", "/healthz");
  ASSERT_TRUE(healthy);
  EXPECT_EQ(healthy->status, 200);
}

TEST_F(HttpServer, OversizedHeadersAre431) {
  start([](app::Config& config) { config.server.header_limit = 4096; });
  RawConnection connection(port());
  connection.send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(8192, 'a') + "\r\n\r\n");
  const auto reply = connection.read_reply();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 431);
  const auto healthy = testing::http_request(port(), "GET", "/healthz");
  ASSERT_TRUE(healthy);
  EXPECT_EQ(healthy->status, 200);
}

TEST_F(HttpServer, SlowlorisIsDroppedAfterHeaderTimeoutWhileOthersAreServed) {
  start([](app::Config& config) { config.server.header_timeout = 500ms; });
  RawConnection slow(port());
  ASSERT_TRUE(slow.send("GET /healthz HTTP/1.1\r\n"));
  const auto started = std::chrono::steady_clock::now();
  // Meanwhile other clients are served normally.
  for (int i = 0; i < 5; ++i) {
    const auto reply = testing::http_request(port(), "GET", "/healthz");
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->status, 200);
  }
  // Dribble a header byte at a time; the server must still cut the connection.
  bool closed = false;
  for (int i = 0; i < 40 && !closed; ++i) {
    if (!slow.send("X")) {
      closed = true;
      break;
    }
    closed = slow.closed_within(100ms);
  }
  EXPECT_TRUE(closed);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
}

TEST_F(HttpServer, IdleKeepAliveConnectionIsClosedAfterIdleTimeout) {
  start([](app::Config& config) { config.server.idle_timeout = 300ms; });
  RawConnection connection(port());
  connection.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(connection.read_reply());
  EXPECT_TRUE(connection.closed_within(3s));
}

TEST_F(HttpServer, TenThousandSequentialKeepAliveRequestsOnOneConnection) {
  start();
  RawConnection connection(port());
  for (int i = 0; i < 10'000; ++i) {
    ASSERT_TRUE(connection.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")) << i;
    const auto reply = connection.read_reply();
    ASSERT_TRUE(reply) << i;
    ASSERT_EQ(reply->status, 200) << i;
  }
}

TEST_F(HttpServer, HandlerPastTheRequestDeadlineGets503) {
  start([](app::Config& config) { config.server.request_timeout = 200ms; },
        [](http::Router& router) {
          router.add("GET", "/api/v1/stuck", [](http::Request&, http::RequestContext&) -> Task<http::Response> {
            co_await sleep_for(10s);
            co_return http::Response::text(200, "late");
          });
        });
  const auto reply = testing::http_request(port(), "GET", "/api/v1/stuck");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 503);
  EXPECT_EQ(error_code_of(*reply), "service_unavailable");
}

TEST_F(HttpServer, ARouteWithItsOwnDeadlineOutlastsTheServersButNotItsOwn) {
  start([](app::Config& config) { config.server.request_timeout = 200ms; },
        [](http::Router& router) {
          http::RouteOptions patient;
          patient.timeout = 5s;
          router.add(
              "GET", "/api/v1/patient",
              [](http::Request&, http::RequestContext&) -> Task<http::Response> {
                co_await sleep_for(500ms);
                co_return http::Response::text(200, "worth it");
              },
              patient);
          http::RouteOptions hasty;
          hasty.timeout = 100ms;
          router.add(
              "GET", "/api/v1/hasty",
              [](http::Request&, http::RequestContext&) -> Task<http::Response> {
                co_await sleep_for(10s);
                co_return http::Response::text(200, "late");
              },
              hasty);
        });
  const auto patient = testing::http_request(port(), "GET", "/api/v1/patient");
  ASSERT_TRUE(patient);
  EXPECT_EQ(patient->status, 200);
  EXPECT_EQ(patient->body, "worth it");
  const auto hasty = testing::http_request(port(), "GET", "/api/v1/hasty");
  ASSERT_TRUE(hasty);
  EXPECT_EQ(hasty->status, 503);
}

TEST_F(HttpServer, MetricsParseAsPrometheusTextAndCountRequests) {
  start();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(testing::http_request(port(), "GET", "/healthz"));
  }
  const auto reply = testing::http_request(port(), "GET", "/metrics");
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->status, 200);
  EXPECT_EQ(reply->header("content-type").rfind("text/plain; version=0.0.4", 0), 0U);
  const auto exposition = testing::parse_prometheus_text(reply->body);
  EXPECT_EQ(
      exposition.value("evolveai_http_requests_total", {{"route", "/healthz"}, {"method", "GET"}, {"status", "200"}}),
      3.0);
  EXPECT_GE(exposition.value("evolveai_http_connections_open").value_or(0), 1.0);
  EXPECT_GT(exposition.value("process_resident_memory_bytes").value_or(0), 0.0);
  EXPECT_NE(exposition.family("evolveai_http_request_duration_seconds"), nullptr);
  EXPECT_NE(exposition.family("evolveai_build_info"), nullptr);
}

class StaticFilesServer : public HttpServer {
 protected:
  void SetUp() override {
    const auto web = dir_.path() / "web";
    std::filesystem::create_directories(web / "assets");
    std::ofstream(web / "index.html") << "<!doctype html><title>EvolveAI</title>";
    std::ofstream(web / "assets" / "app-1a2b3c.js") << "console.log('hi')";
    std::ofstream(dir_.path() / "secret.txt") << "do not serve";
    start();
  }
};

TEST_F(StaticFilesServer, ServesFilesWithTypesAndCaching) {
  auto reply = testing::http_request(port(), "GET", "/");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->header("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(reply->header("cache-control"), "no-cache");
  EXPECT_NE(reply->body.find("EvolveAI"), std::string::npos);

  reply = testing::http_request(port(), "GET", "/assets/app-1a2b3c.js");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->header("content-type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(reply->header("cache-control"), "public, max-age=31536000, immutable");

  const auto etag = reply->header("etag");
  ASSERT_FALSE(etag.empty());
  reply = testing::http_request(port(), "GET", "/assets/app-1a2b3c.js", {}, {{"If-None-Match", etag}});
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 304);
  EXPECT_TRUE(reply->body.empty());
}

TEST_F(StaticFilesServer, AdminRouteServesTheApp) {
  const auto reply = testing::http_request(port(), "GET", "/admin");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  EXPECT_NE(reply->body.find("EvolveAI"), std::string::npos);
}

TEST_F(StaticFilesServer, PathTraversalAttemptsAre404) {
  for (const std::string target :
       {"/../secret.txt", "/assets/../../secret.txt", "/%2e%2e/secret.txt", "/%2e%2e%2fsecret.txt", "/..%2fsecret.txt",
        "/assets/..%5c..%5csecret.txt", "//secret.txt", "/./../secret.txt", "/assets/%2e%2e/%2e%2e/etc/passwd",
        "/../../../../etc/passwd", "/index.html%00.js", "/.%2e/secret.txt"}) {
    const auto reply = testing::http_request(port(), "GET", target);
    ASSERT_TRUE(reply) << target;
    EXPECT_TRUE(reply->status == 404 || reply->status == 400) << target << " -> " << reply->status;
    EXPECT_EQ(reply->body.find("do not serve"), std::string::npos) << target;
  }
}

TEST_F(HttpServer, EventStreamSendsEventsAndHeartbeats) {
  start([](app::Config& config) { config.server.sse_heartbeat = 100ms; },
        [](http::Router& router) {
          router.add("GET", "/api/v1/events", [](http::Request&, http::RequestContext&) -> Task<http::Response> {
            co_return http::Response::event_stream([](http::EventSink& sink) -> Task<void> {
              co_await sink.send("start", R"({"n":0})");
              co_await sleep_for(350ms);
              co_await sink.send("delta", "line one\nline two");
              co_await sink.send("end", "{}");
            });
          });
        });
  RawConnection connection(port());
  connection.send("GET /api/v1/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n");
  const auto reply = connection.read_reply();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->header("content-type"), "text/event-stream");
  EXPECT_NE(reply->body.find("event: start\ndata: {\"n\":0}\n\n"), std::string::npos);
  EXPECT_NE(reply->body.find("event: delta\ndata: line one\ndata: line two\n\n"), std::string::npos);
  EXPECT_NE(reply->body.find(": keep-alive\n\n"), std::string::npos);
  EXPECT_NE(reply->body.find("event: end\n"), std::string::npos);
  // The connection stays usable after the stream.
  connection.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  const auto next = connection.read_reply();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->status, 200);
}

TEST_F(HttpServer, EventStreamNoticesClientDisconnectPromptly) {
  auto cancelled = std::make_shared<std::promise<std::chrono::steady_clock::time_point>>();
  auto cancelled_at = cancelled->get_future();
  start({}, [cancelled](http::Router& router) {
    router.add("GET", "/api/v1/events", [cancelled](http::Request&, http::RequestContext&) -> Task<http::Response> {
      co_return http::Response::event_stream([cancelled](http::EventSink& sink) -> Task<void> {
        co_await sink.send("start", "{}");
        try {
          co_await sleep_for(30s);
        } catch (const boost::system::system_error&) {
          cancelled->set_value(std::chrono::steady_clock::now());
          throw;
        }
      });
    });
  });
  {
    RawConnection connection(port());
    connection.send("GET /api/v1/events HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_TRUE(connection.read_head());
    ASSERT_TRUE(connection.read_chunk());
  }
  const auto closed_at = std::chrono::steady_clock::now();
  ASSERT_EQ(cancelled_at.wait_for(5s), std::future_status::ready);
  EXPECT_LT(cancelled_at.get() - closed_at, 2s);
}

TEST_F(HttpServer, EventStreamBodyStillRunsWhenTheClientLeftBeforeItsHead) {
  // The body learns at once that nobody listens, so it can let go of what it holds.
  auto handler_entered = std::make_shared<std::promise<void>>();
  auto entered = handler_entered->get_future();
  auto client_gone = std::make_shared<std::atomic<bool>>(false);
  auto body_saw_open = std::make_shared<std::promise<bool>>();
  auto saw_open = body_saw_open->get_future();
  start({}, [handler_entered, client_gone, body_saw_open](http::Router& router) {
    router.add(
        "GET", "/api/v1/late-stream",
        [handler_entered, client_gone, body_saw_open](http::Request&, http::RequestContext&) -> Task<http::Response> {
          handler_entered->set_value();
          while (!client_gone->load()) {
            co_await sleep_for(10ms);
          }
          co_await sleep_for(50ms);  // margin for the reset to be taken in on loopback
          co_return http::Response::event_stream([body_saw_open](http::EventSink& sink) -> Task<void> {
            const bool sent = co_await sink.send("start", "{}");
            body_saw_open->set_value(sent || sink.open());
          });
        });
  });
  RawConnection connection(port());
  ASSERT_TRUE(connection.send("GET /api/v1/late-stream HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_EQ(entered.wait_for(5s), std::future_status::ready);
  connection.reset();
  client_gone->store(true);
  ASSERT_EQ(saw_open.wait_for(5s), std::future_status::ready) << "the body never ran";
  EXPECT_FALSE(saw_open.get());
}

TEST_F(HttpServer, ConnectionsBeyondTheLimitAreRefused) {
  start([](app::Config& config) { config.server.max_connections = 2; });
  RawConnection first(port());
  RawConnection second(port());
  first.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  second.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(first.read_reply());
  ASSERT_TRUE(second.read_reply());
  RawConnection third(port());
  EXPECT_TRUE(third.closed_within(2s));
  first.close();
  // Once a slot frees, new clients get in again.
  std::optional<HttpReply> reply;
  for (int i = 0; i < 50 && !reply; ++i) {
    std::this_thread::sleep_for(20ms);
    reply = testing::http_request(port(), "GET", "/healthz");
  }
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
}

}  // namespace
}  // namespace evolveai
