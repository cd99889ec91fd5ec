#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "app/build_info.hpp"
#include "core/errors.hpp"
#include "fakes/fake_sentry.hpp"
#include "support/http_test_client.hpp"
#include "support/prometheus_parser.hpp"
#include "support/test_app.hpp"

namespace evolveai {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::SizeIs;

constexpr auto kWait = 10s;

/// Routes that fail in the ways the HTTP edge must tell apart.
void failing_routes(http::Router& router) {
  router.add("GET", "/api/v1/broken/{id}", [](http::Request&, http::RequestContext&) -> Task<http::Response> {
    throw core::upstream_unavailable("The model is unavailable", "gemini answered 500 INTERNAL", 502);
  });
  router.add("GET", "/api/v1/crash", [](http::Request&, http::RequestContext&) -> Task<http::Response> {
    throw std::runtime_error("handler crashed");
  });
  router.add("POST", "/api/v1/invalid", [](http::Request&, http::RequestContext&) -> Task<http::Response> {
    throw core::validation_failed("message", "Too long");
  });
  router.add("GET", "/api/v1/limited",
             [](http::Request&, http::RequestContext&) -> Task<http::Response> { throw core::rate_limited(5s); });
  router.add("GET", "/api/v1/unconfigured", [](http::Request&, http::RequestContext&) -> Task<http::Response> {
    throw core::llm_not_configured("No model is configured");
  });
}

class ErrorReporting : public ::testing::Test {
 protected:
  void start(const std::function<void(app::Config&)>& tweak = {},
             const std::function<void(http::Router&)>& extra_routes = {}) {
    auto config = testing::test_config(dir_.path());
    config.observability.sentry_dsn = sentry_.dsn();
    config.observability.environment = "staging";
    if (tweak) {
      tweak(config);
    }
    app_ = std::make_unique<testing::TestApp>(std::move(config), [&extra_routes](http::Router& router) {
      failing_routes(router);
      if (extra_routes) {
        extra_routes(router);
      }
    });
  }

  [[nodiscard]] std::uint16_t port() const { return app_->port(); }

  /// Makes a 5xx and returns its request id; a report that must come after all earlier ones.
  std::string marker() {
    const auto reply = testing::http_request(port(), "GET", "/api/v1/crash");
    EXPECT_TRUE(reply && reply->status == 500);
    return reply ? reply->header("x-request-id") : std::string();
  }

  /// A sample of /metrics, 0 when absent.
  double metric(const std::string& name, const testing::MetricLabels& labels = {}) {
    const auto reply = testing::http_request(port(), "GET", "/metrics");
    if (!reply || reply->status != 200) {
      ADD_FAILURE() << "no /metrics";
      return -1;
    }
    return testing::parse_prometheus_text(reply->body).value(name, labels).value_or(0);
  }

  /// Scrapes until the sample reaches `expected` (sending is asynchronous); returns the last value.
  double await_metric(const std::string& name, const testing::MetricLabels& labels, double expected) {
    const auto deadline = std::chrono::steady_clock::now() + kWait;
    double value = metric(name, labels);
    while (value < expected && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(20ms);
      value = metric(name, labels);
    }
    return value;
  }

  testing::TempDir dir_;
  testing::FakeSentry sentry_;
  std::unique_ptr<testing::TestApp> app_;
};

TEST_F(ErrorReporting, ServerErrorSendsOneEnvelopeWithReleaseEnvironmentRequestIdRouteAndStatus) {
  start();
  const auto reply = testing::http_request(port(), "GET", "/api/v1/broken/7?q=private-words");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 502);
  const auto request_id = reply->header("x-request-id");
  ASSERT_FALSE(request_id.empty());
  const auto marker_id = marker();

  ASSERT_TRUE(sentry_.wait_for_requests(2, kWait));
  const auto envelopes = sentry_.envelopes();
  ASSERT_THAT(envelopes, SizeIs(2)) << "malformed: " << sentry_.malformed().size();
  EXPECT_EQ(envelopes[1].tag("request_id"), marker_id);  // nothing else was reported in between

  const auto& sent = envelopes[0];
  const std::string version(app::build_version());
  EXPECT_EQ(sent.path, "/api/42/envelope/");
  EXPECT_EQ(sent.content_type, "application/x-sentry-envelope");
  EXPECT_THAT(sent.auth, HasSubstr("sentry_version=7"));
  EXPECT_THAT(sent.auth, HasSubstr("sentry_key=publickey1"));
  EXPECT_THAT(sent.auth, HasSubstr("sentry_client=evolveai/" + version));
  EXPECT_EQ(sent.header.at("dsn").as_string(), sentry_.dsn());
  EXPECT_EQ(sent.header.at("event_id"), sent.event.at("event_id"));
  EXPECT_EQ(sent.item_header.at("type").as_string(), "event");
  EXPECT_EQ(sent.event.at("release").as_string(), "evolveai@" + version);
  EXPECT_EQ(sent.event.at("environment").as_string(), "staging");
  EXPECT_EQ(sent.event.at("level").as_string(), "error");
  EXPECT_EQ(sent.event.at("platform").as_string(), "native");
  EXPECT_EQ(sent.event.at("logger").as_string(), "http");
  EXPECT_EQ(sent.event.at("event_id").as_string().size(), 32U);
  EXPECT_FALSE(sent.event.at("server_name").as_string().empty());
  EXPECT_EQ(sent.tag("request_id"), request_id);
  EXPECT_EQ(sent.tag("route"), "/api/v1/broken/{id}");
  EXPECT_EQ(sent.tag("status"), "502");
  EXPECT_EQ(sent.tag("code"), "upstream_unavailable");
  EXPECT_EQ(sent.tag("role"), "api");
  EXPECT_EQ(sent.event.at("request").at("method").as_string(), "GET");
  EXPECT_EQ(sent.event.at("request").at("url").as_string(), "/api/v1/broken/7");
  const auto& exception = sent.event.at("exception").at("values").as_array().at(0);
  EXPECT_EQ(exception.at("type").as_string(), "upstream_unavailable");
  EXPECT_EQ(exception.at("value").as_string(), "gemini answered 500 INTERNAL");
  EXPECT_THAT(sent.raw, Not(HasSubstr("private-words")));

  const auto& crash = envelopes[1];
  EXPECT_EQ(crash.tag("status"), "500");
  EXPECT_EQ(crash.tag("code"), "internal");
  EXPECT_EQ(crash.event.at("exception").at("values").as_array().at(0).at("value").as_string(), "handler crashed");
}

TEST_F(ErrorReporting, ClientErrorsAndDeliberateUnavailabilityAreNotReported) {
  start();
  auto reply = testing::http_request(port(), "POST", "/api/v1/invalid", "{}");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 400);
  reply = testing::http_request(port(), "GET", "/api/v1/limited");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 429);
  reply = testing::http_request(port(), "GET", "/api/v1/nothing-here");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 404);
  reply = testing::http_request(port(), "GET", "/api/v1/unconfigured");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 503);
  const auto marker_id = marker();

  ASSERT_TRUE(sentry_.wait_for_requests(1, kWait));
  const auto envelopes = sentry_.envelopes();
  ASSERT_THAT(envelopes, SizeIs(1));
  EXPECT_EQ(envelopes[0].tag("request_id"), marker_id);
}

TEST_F(ErrorReporting, ReportsOverThePerMinuteLimitAreDroppedAndCounted) {
  start([](app::Config& config) { config.observability.sentry_max_events_per_min = 2; });
  for (int i = 0; i < 5; ++i) {
    const auto reply = testing::http_request(port(), "GET", "/api/v1/broken/1");
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->status, 502);
  }
  EXPECT_EQ(metric("evolveai_error_reports_dropped_total", {{"reason", "rate_limited"}}), 3);
  EXPECT_EQ(await_metric("evolveai_error_reports_total", {}, 2), 2);
  EXPECT_EQ(sentry_.envelopes().size(), 2U);
}

TEST_F(ErrorReporting, CollectorAskingToBackOffPausesReportsButNotRequests) {
  sentry_.enqueue(testing::FakeSentry::too_many(600s));
  start();
  auto reply = testing::http_request(port(), "GET", "/api/v1/broken/1");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 502);
  // The 429 itself is counted once the collector's answer is in; from then on reports pause.
  ASSERT_EQ(await_metric("evolveai_error_reports_dropped_total", {{"reason", "collector_limited"}}, 1), 1);
  for (int i = 0; i < 3; ++i) {
    reply = testing::http_request(port(), "GET", "/api/v1/broken/2");
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->status, 502);
  }
  EXPECT_EQ(metric("evolveai_error_reports_dropped_total", {{"reason", "collector_limited"}}), 4);
  EXPECT_EQ(sentry_.request_count(), 1U);
  EXPECT_EQ(metric("evolveai_error_reports_total"), 0);
}

TEST_F(ErrorReporting, DeadCollectorNeverFailsRequestsAndFailuresAreCounted) {
  start([](app::Config& config) {
    // Nothing listens on port 1.
    config.observability.sentry_dsn = "http://publickey1@127.0.0.1:1/42";
  });
  for (int i = 0; i < 3; ++i) {
    const auto reply = testing::http_request(port(), "GET", "/api/v1/broken/1");
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->status, 502);
  }
  const auto health = testing::http_request(port(), "GET", "/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(await_metric("evolveai_error_reports_dropped_total", {{"reason", "send_failed"}}, 3), 3);
  EXPECT_EQ(metric("evolveai_error_reports_total"), 0);
}

TEST_F(ErrorReporting, NoSecretOrCredentialReachesAnEnvelope) {
  const std::string bot_token = "123456:AAbotTokenSecretValue";
  const std::string jwt_secret(48, 'j');
  const std::string bearer = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxNyJ9.c2lnbmF0dXJlLXZhbHVl";
  start([&](app::Config& config) {
    config.telegram.bot_token = bot_token;
    config.auth.jwt_secret = jwt_secret;
  });
  const auto crash = testing::http_request(port(), "GET", "/api/v1/broken/3?init_data=query_id%3DAAHdF6IQ",
                                           "init_data=user%3D%7B%22id%22%3A1%7D",
                                           {{"Authorization", "Bearer " + bearer}, {"Cookie", "session=cookie-value"}});
  ASSERT_TRUE(crash);
  EXPECT_EQ(crash->status, 502);
  ASSERT_TRUE(sentry_.wait_for_requests(1, kWait));
  const auto envelopes = sentry_.envelopes();
  ASSERT_THAT(envelopes, SizeIs(1));
  const auto& raw = envelopes[0].raw;
  for (const std::string& secret : {bot_token, jwt_secret, bearer, std::string("cookie-value"),
                                    std::string("init_data"), std::string("AAHdF6IQ")}) {
    EXPECT_THAT(raw, Not(HasSubstr(secret)));
  }
}

TEST_F(ErrorReporting, SecretsInAnErrorMessageAreRedacted) {
  const std::string bot_token = "654321:AAanotherBotTokenValue";
  start([&](app::Config& config) { config.telegram.bot_token = bot_token; },
        [bot_token](http::Router& router) {
          router.add(
              "GET", "/api/v1/leaky", [bot_token](http::Request&, http::RequestContext&) -> Task<http::Response> {
                throw std::runtime_error("POST https://api.telegram.org/bot" + bot_token + "/sendMessage failed");
              });
        });
  const auto reply = testing::http_request(port(), "GET", "/api/v1/leaky");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 500);
  ASSERT_TRUE(sentry_.wait_for_requests(1, kWait));
  const auto envelopes = sentry_.envelopes();
  ASSERT_THAT(envelopes, SizeIs(1));
  EXPECT_THAT(envelopes[0].raw, Not(HasSubstr(bot_token)));
  EXPECT_EQ(envelopes[0].event.at("exception").at("values").as_array().at(0).at("value").as_string(),
            "POST https://api.telegram.org/bot[redacted]/sendMessage failed");
}

TEST_F(ErrorReporting, FailedBackgroundTaskIsReported) {
  // A regular file where the backup directory should be: the backup task cannot create it.
  const auto blocked = dir_.path() / "backups-are-a-file";
  std::ofstream(blocked) << "not a directory";
  start([&](app::Config& config) { config.backup.dir = (blocked / "inner").string(); });
  EXPECT_EQ(app_->run_worker_task("backup"), services::RunOutcome::kFailed);
  ASSERT_TRUE(sentry_.wait_for_requests(1, kWait));
  const auto envelopes = sentry_.envelopes();
  ASSERT_THAT(envelopes, SizeIs(1));
  const auto& sent = envelopes[0];
  EXPECT_EQ(sent.event.at("logger").as_string(), "scheduler");
  EXPECT_EQ(sent.tag("task"), "backup");
  EXPECT_EQ(sent.tag("role"), "worker");
  EXPECT_EQ(sent.event.at("environment").as_string(), "staging");
  const auto& exception = sent.event.at("exception").at("values").as_array().at(0);
  EXPECT_THAT(std::string(exception.at("value").as_string()), HasSubstr("cannot create the backup directory"));
  EXPECT_FALSE(sent.event.contains("request"));
}

}  // namespace
}  // namespace evolveai
