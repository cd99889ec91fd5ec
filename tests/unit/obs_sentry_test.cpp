#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include <chrono>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "app/config_loader.hpp"
#include "net/sentry_reporter.hpp"
#include "obs/sentry_dsn.hpp"
#include "obs/sentry_envelope.hpp"

namespace {

namespace app = evolveai::app;
namespace obs = evolveai::obs;
namespace json = boost::json;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;

TEST(SentryDsn, PlainHttpsDsnGivesTheEnvelopeEndpointAndAuthHeader) {
  const auto parsed = obs::parse_sentry_dsn("https://abc123@o1.ingest.example.com/42");
  ASSERT_TRUE(parsed.dsn) << parsed.problem;
  EXPECT_EQ(parsed.dsn->scheme, "https");
  EXPECT_EQ(parsed.dsn->public_key, "abc123");
  EXPECT_EQ(parsed.dsn->host, "o1.ingest.example.com");
  EXPECT_FALSE(parsed.dsn->port);
  EXPECT_EQ(parsed.dsn->project_id, "42");
  EXPECT_EQ(parsed.dsn->envelope_url(), "https://o1.ingest.example.com/api/42/envelope/");
  EXPECT_EQ(parsed.dsn->auth_header("1.2.3"),
            "Sentry sentry_version=7, sentry_key=abc123, sentry_client=evolveai/1.2.3");
}

TEST(SentryDsn, PortAndPathPrefixAreKeptBeforeTheApiPath) {
  const auto parsed = obs::parse_sentry_dsn("http://key@127.0.0.1:9000/errors/sentry/7");
  ASSERT_TRUE(parsed.dsn) << parsed.problem;
  EXPECT_EQ(parsed.dsn->port, 9000);
  EXPECT_EQ(parsed.dsn->path_prefix, "/errors/sentry");
  EXPECT_EQ(parsed.dsn->envelope_url(), "http://127.0.0.1:9000/errors/sentry/api/7/envelope/");
  EXPECT_EQ(parsed.dsn->text(), "http://key@127.0.0.1:9000/errors/sentry/7");
}

TEST(SentryDsn, LegacySecretIsDroppedAndIpv6HostsWork) {
  const auto parsed = obs::parse_sentry_dsn("https://pub:legacysecret@[::1]:8443/3");
  ASSERT_TRUE(parsed.dsn) << parsed.problem;
  EXPECT_EQ(parsed.dsn->public_key, "pub");
  EXPECT_EQ(parsed.dsn->host, "[::1]");
  EXPECT_EQ(parsed.dsn->envelope_url(), "https://[::1]:8443/api/3/envelope/");
  EXPECT_THAT(parsed.dsn->text(), Not(HasSubstr("legacysecret")));
}

struct BadDsn {
  const char* text;
  const char* problem;
};

class SentryDsnMalformed : public ::testing::TestWithParam<BadDsn> {};

TEST_P(SentryDsnMalformed, IsRefusedWithAReasonThatNeverEchoesTheKey) {
  const auto parsed = obs::parse_sentry_dsn(GetParam().text);
  EXPECT_FALSE(parsed.dsn);
  EXPECT_THAT(parsed.problem, HasSubstr(GetParam().problem));
  EXPECT_THAT(parsed.problem, Not(HasSubstr("sekrit")));
}

INSTANTIATE_TEST_SUITE_P(Forms, SentryDsnMalformed,
                         ::testing::Values(BadDsn{"sekrit@example.com/1", "expected {scheme}://"},
                                           BadDsn{"ftp://sekrit@example.com/1", "scheme must be http or https"},
                                           BadDsn{"https://example.com/1", "missing public key"},
                                           BadDsn{"https://@example.com/1", "missing public key"},
                                           BadDsn{"https://sekrit@/1", "missing host"},
                                           BadDsn{"https://sekrit@example.com", "missing project id"},
                                           BadDsn{"https://sekrit@example.com/", "missing project id"},
                                           BadDsn{"https://sekrit@example.com:0/1", "port must be a number"},
                                           BadDsn{"https://sekrit@example.com:99999/1", "port must be a number"},
                                           BadDsn{"https://sekrit@example.com:http/1", "port must be a number"},
                                           BadDsn{"https://sekrit@example.com/project", "project id must be a number"},
                                           BadDsn{"https://sekrit@example.com/1?x=1", "must not have a query"},
                                           BadDsn{"https://sek rit@example.com/1", "must not contain spaces"},
                                           BadDsn{"https://sekrit@exa_mple.com/1", "host has characters"},
                                           BadDsn{"https://sekrit@example.com//1", "empty segment"}));

TEST(ConfigSentryDsn, MalformedDsnIsAConfigErrorNamingTheKeyButNotTheValue) {
  const auto result = app::load_config(
      {std::nullopt, {{"EVOLVEAI_OBSERVABILITY__SENTRY_DSN", "https://sekrit@example.com"}}, std::nullopt});
  ASSERT_THAT(result.errors, SizeIs(1));
  EXPECT_THAT(result.errors[0], HasSubstr("observability.sentry_dsn: malformed DSN: missing project id"));
  EXPECT_THAT(result.errors[0], Not(HasSubstr("sekrit")));
}

TEST(ConfigSentryDsn, WellFormedOrEmptyDsnIsAccepted) {
  const auto good = app::load_config(
      {std::nullopt, {{"EVOLVEAI_OBSERVABILITY__SENTRY_DSN", "https://key@example.com/5"}}, std::nullopt});
  EXPECT_THAT(good.errors, IsEmpty());
  EXPECT_THAT(app::load_config({}).errors, IsEmpty());
}

obs::SentryEventContext test_context() {
  return {"evolveai@9.9.9", "staging", "node-7", "https://key@example.com/5"};
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  for (auto end = text.find('\n'); end != std::string::npos; end = text.find('\n', start)) {
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  if (start < text.size()) {
    lines.push_back(text.substr(start));
  }
  return lines;
}

TEST(SentryEnvelope, HasHeaderItemHeaderAndEventLinesWithTheEventFields) {
  obs::ErrorReport report;
  report.logger = "http";
  report.exception_type = "upstream_unavailable";
  report.exception_value = "gemini answered 500";
  report.tags = {{"request_id", "r-1"}, {"route", "/api/v1/chat"}, {"status", "503"}, {"role", "api"}};
  report.request_method = "POST";
  report.request_url = "/api/v1/chat";
  const auto when = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
  const std::string id = "0123456789abcdef0123456789abcdef";
  const auto lines = lines_of(obs::encode_envelope(report, test_context(), id, when));
  ASSERT_THAT(lines, SizeIs(3));

  const auto header = json::parse(lines[0]).as_object();
  EXPECT_EQ(header.at("event_id").as_string(), id);
  EXPECT_EQ(header.at("sent_at").as_string(), "2023-11-14T22:13:20Z");
  EXPECT_EQ(header.at("dsn").as_string(), "https://key@example.com/5");

  const auto item = json::parse(lines[1]).as_object();
  EXPECT_EQ(item.at("type").as_string(), "event");
  EXPECT_EQ(item.at("length").to_number<std::size_t>(), lines[2].size());

  const auto event = json::parse(lines[2]).as_object();
  EXPECT_EQ(event.at("event_id").as_string(), id);
  EXPECT_EQ(event.at("timestamp").as_string(), "2023-11-14T22:13:20Z");
  EXPECT_EQ(event.at("platform").as_string(), "native");
  EXPECT_EQ(event.at("level").as_string(), "error");
  EXPECT_EQ(event.at("logger").as_string(), "http");
  EXPECT_EQ(event.at("release").as_string(), "evolveai@9.9.9");
  EXPECT_EQ(event.at("environment").as_string(), "staging");
  EXPECT_EQ(event.at("server_name").as_string(), "node-7");
  const auto& exception = event.at("exception").at("values").as_array().at(0).as_object();
  EXPECT_EQ(exception.at("type").as_string(), "upstream_unavailable");
  EXPECT_EQ(exception.at("value").as_string(), "gemini answered 500");
  EXPECT_EQ(event.at("tags").at("request_id").as_string(), "r-1");
  EXPECT_EQ(event.at("tags").at("status").as_string(), "503");
  EXPECT_EQ(event.at("request").at("method").as_string(), "POST");
  EXPECT_EQ(event.at("request").at("url").as_string(), "/api/v1/chat");
  EXPECT_FALSE(event.contains("message"));
}

TEST(SentryEnvelope, PlainMessageIsSentWithoutAnException) {
  obs::ErrorReport report;
  report.logger = "scheduler";
  report.message = "backup failed";
  const auto lines = lines_of(obs::encode_envelope(report, test_context(), "ab", std::chrono::system_clock::now()));
  ASSERT_THAT(lines, SizeIs(3));
  const auto event = json::parse(lines[2]).as_object();
  EXPECT_EQ(event.at("message").as_string(), "backup failed");
  EXPECT_FALSE(event.contains("exception"));
  EXPECT_FALSE(event.contains("request"));
}

TEST(SentryEnvelope, EventIdsAreDistinctVersion4UuidsWithoutDashes) {
  std::mt19937_64 random(7);
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const auto id = obs::new_event_id(random);
    ASSERT_EQ(id.size(), 32U);
    EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
    EXPECT_EQ(id[12], '4') << id;
    EXPECT_NE(std::string("89ab").find(id[16]), std::string::npos) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 100U);
}

TEST(SentryEnvelope, ScrubbingRedactsSecretsEverywhereAndCutsTheQuery) {
  obs::ErrorReport report;
  report.message = "call to /bot123:TOKEN/sendMessage failed";
  report.exception_value = "token 123:TOKEN and key sk-live";
  report.tags = {{"detail", "sk-live"}};
  report.request_url = "/api/v1/search?q=private&token=123:TOKEN";
  const std::vector<std::string> secrets = {"123:TOKEN", "sk-live", ""};
  const auto clean = obs::scrub_report(report, secrets);
  EXPECT_EQ(clean.message, "call to /bot[redacted]/sendMessage failed");
  EXPECT_EQ(clean.exception_value, "token [redacted] and key [redacted]");
  EXPECT_EQ(clean.tags[0].second, "[redacted]");
  EXPECT_EQ(clean.request_url, "/api/v1/search");
}

TEST(SentryRateLimits, LongestEntryCoveringErrorEventsWins) {
  using std::chrono::seconds;
  EXPECT_EQ(evolveai::net::sentry_rate_limit_pause("60:error:key"), seconds(60));
  EXPECT_EQ(evolveai::net::sentry_rate_limit_pause("30::organization"), seconds(30));
  EXPECT_EQ(evolveai::net::sentry_rate_limit_pause("120:transaction;default:project, 300:error:key"), seconds(300));
  EXPECT_EQ(evolveai::net::sentry_rate_limit_pause("2700:transaction:key"), std::nullopt);
  EXPECT_EQ(evolveai::net::sentry_rate_limit_pause("soon:error:key"), std::nullopt);
  EXPECT_EQ(evolveai::net::sentry_rate_limit_pause(""), std::nullopt);
}

}  // namespace
