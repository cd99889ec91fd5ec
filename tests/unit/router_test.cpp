#include <gtest/gtest.h>

#include "http/router.hpp"

namespace evolveai::http {
namespace {

Handler noop() {
  return [](Request&, RequestContext&) -> Task<Response> { co_return Response::empty(204); };
}

TEST(Router, MatchesLiteralRoutes) {
  Router router;
  router.add("GET", "/healthz", noop());
  const auto match = router.match("GET", "/healthz");
  ASSERT_NE(match.route, nullptr);
  EXPECT_EQ(match.route->pattern, "/healthz");
  EXPECT_EQ(router.match("GET", "/healthz/extra").route, nullptr);
  EXPECT_EQ(router.match("GET", "/health").route, nullptr);
}

TEST(Router, CapturesPathParameters) {
  Router router;
  router.add("POST", "/api/v1/admin/users/{id}/premium", noop());
  const auto match = router.match("POST", "/api/v1/admin/users/17/premium");
  ASSERT_NE(match.route, nullptr);
  ASSERT_EQ(match.params.size(), 1U);
  EXPECT_EQ(match.params[0].first, "id");
  EXPECT_EQ(match.params[0].second, "17");
}

TEST(Router, LiteralSegmentBeatsParameter) {
  Router router;
  router.add("GET", "/api/v1/items/{id}", noop());
  router.add("GET", "/api/v1/items/latest", noop());
  const auto match = router.match("GET", "/api/v1/items/latest");
  ASSERT_NE(match.route, nullptr);
  EXPECT_EQ(match.route->pattern, "/api/v1/items/latest");
  EXPECT_TRUE(match.params.empty());
}

TEST(Router, ReportsAllowedMethodsWhenOnlyTheMethodIsWrong) {
  Router router;
  router.add("GET", "/api/v1/profile", noop());
  router.add("PATCH", "/api/v1/profile", noop());
  const auto match = router.match("DELETE", "/api/v1/profile");
  EXPECT_EQ(match.route, nullptr);
  EXPECT_EQ(match.allowed_methods, (std::vector<std::string>{"GET", "PATCH"}));
}

TEST(Router, HeadIsServedByGetRoutes) {
  Router router;
  router.add("GET", "/healthz", noop());
  EXPECT_NE(router.match("HEAD", "/healthz").route, nullptr);
}

TEST(Router, RejectsDuplicateAndMalformedPatterns) {
  Router router;
  router.add("GET", "/a/{id}", noop());
  EXPECT_THROW(router.add("GET", "/a/{other}", noop()), std::logic_error);
  EXPECT_THROW(router.add("GET", "no-slash", noop()), std::logic_error);
  EXPECT_THROW(router.add("GET", "/a/b{c}", noop()), std::logic_error);
  EXPECT_NO_THROW(router.add("POST", "/a/{id}", noop()));
}

TEST(Router, KeepsRouteOptions) {
  Router router;
  RouteOptions options;
  options.body_limit = 14 * 1024 * 1024;
  options.access = Access::kUser;
  options.rate_limit_policy = "chat";
  router.add("POST", "/api/v1/chat", noop(), options);
  const auto match = router.match("POST", "/api/v1/chat");
  ASSERT_NE(match.route, nullptr);
  EXPECT_EQ(match.route->options.body_limit, 14U * 1024 * 1024);
  EXPECT_EQ(match.route->options.access, Access::kUser);
  EXPECT_EQ(match.route->options.rate_limit_policy, "chat");
}

}  // namespace
}  // namespace evolveai::http
