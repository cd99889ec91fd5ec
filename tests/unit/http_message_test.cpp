#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "http/error_response.hpp"
#include "http/message.hpp"
#include "http/middleware.hpp"
#include "http/static_files.hpp"

namespace evolveai::http {
namespace {

using namespace std::chrono_literals;

TEST(SseFormat, SingleLineEvent) {
  EXPECT_EQ(format_sse_event("delta", R"({"text":"Hi"})"), "event: delta\ndata: {\"text\":\"Hi\"}\n\n");
}

TEST(SseFormat, MultiLineDataBecomesSeveralDataLines) {
  EXPECT_EQ(format_sse_event("delta", "a\nb\r\nc\rd"), "event: delta\ndata: a\ndata: b\ndata: c\ndata: d\n\n");
}

TEST(SseFormat, EventWithoutName) {
  EXPECT_EQ(format_sse_event("", "x"), "data: x\n\n");
}

TEST(SseFormat, CommentCannotInjectLines) {
  EXPECT_EQ(format_sse_comment("a\nevent: evil"), ": a event: evil\n\n");
}

TEST(HttpHeaders, LookupIsCaseInsensitiveAndSetReplaces) {
  Headers headers;
  headers.add("Content-Type", "text/plain");
  headers.add("X-Thing", "1");
  EXPECT_EQ(headers.get("content-type"), "text/plain");
  headers.set("CONTENT-TYPE", "application/json");
  EXPECT_EQ(headers.get("Content-Type"), "application/json");
  EXPECT_EQ(headers.fields().size(), 2U);
  EXPECT_FALSE(headers.get("missing"));
}

TEST(HttpRequest, QueryParametersAreDecoded) {
  Request request;
  request.query = "q=hello%20world&limit=20&empty=&plus=a+b";
  EXPECT_EQ(request.query_param("q"), "hello world");
  EXPECT_EQ(request.query_param("limit"), "20");
  EXPECT_EQ(request.query_param("empty"), "");
  EXPECT_FALSE(request.query_param("absent"));
}

TEST(ErrorResponse, CarriesCodeMessageRequestIdAndField) {
  const auto response = error_response(core::validation_failed("message", "Message must not be empty"), "req-1");
  EXPECT_EQ(response.status, 400);
  const auto body = boost::json::parse(response.body);
  EXPECT_EQ(body.at("error").at("code").as_string(), "validation_failed");
  EXPECT_EQ(body.at("error").at("field").as_string(), "message");
  EXPECT_EQ(body.at("error").at("request_id").as_string(), "req-1");
  EXPECT_EQ(response.headers.get("Content-Type"), "application/json");
}

TEST(ErrorResponse, StatusesFollowTheContract) {
  EXPECT_EQ(status_for(core::unauthorized("x")), 401);
  EXPECT_EQ(status_for(core::token_expired()), 401);
  EXPECT_EQ(status_for(core::forbidden("x")), 403);
  EXPECT_EQ(status_for(core::not_found()), 404);
  EXPECT_EQ(status_for(core::payload_too_large("x")), 413);
  EXPECT_EQ(status_for(core::unsupported_media_type("x")), 415);
  EXPECT_EQ(status_for(core::premium_required("x")), 402);
  EXPECT_EQ(status_for(core::rate_limited(3s)), 429);
  EXPECT_EQ(status_for(core::quota_exceeded("2026-01-01T00:00:00Z", 60s)), 429);
  EXPECT_EQ(status_for(core::llm_not_configured("x")), 503);
  EXPECT_EQ(status_for(core::upstream_unavailable("x", "y", 504)), 504);
  EXPECT_EQ(status_for(core::service_unavailable("x")), 503);
}

TEST(ErrorResponse, QuotaExceededHasResetTimeAndRetryAfter) {
  const auto response = error_response(core::quota_exceeded("2026-11-26T00:00:00Z", 3600s), "r");
  EXPECT_EQ(response.status, 429);
  EXPECT_EQ(response.headers.get("Retry-After"), "3600");
  const auto body = boost::json::parse(response.body);
  EXPECT_EQ(body.at("error").at("resets_at").as_string(), "2026-11-26T00:00:00Z");
}

TEST(ErrorResponse, InternalErrorSaysNothingInternal) {
  const auto response = internal_error_response("r-9");
  EXPECT_EQ(response.status, 500);
  const auto body = boost::json::parse(response.body);
  EXPECT_EQ(body.at("error").at("code").as_string(), "internal");
}

TEST(RequestId, AcceptsOnlySafeIds) {
  EXPECT_TRUE(is_valid_request_id("abc-123_x.y"));
  EXPECT_FALSE(is_valid_request_id(""));
  EXPECT_FALSE(is_valid_request_id(std::string(65, 'a')));
  EXPECT_FALSE(is_valid_request_id("a b"));
  EXPECT_FALSE(is_valid_request_id("a\nb"));
}

TEST(StaticContentTypes, ByExtension) {
  EXPECT_EQ(content_type_for("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(content_type_for("assets/app.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(content_type_for("a.css"), "text/css; charset=utf-8");
  EXPECT_EQ(content_type_for("logo.svg"), "image/svg+xml");
  EXPECT_EQ(content_type_for("noext"), "application/octet-stream");
}

}  // namespace
}  // namespace evolveai::http
