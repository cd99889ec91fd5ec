// `server.roles` / `serve --roles`: what a node serves when it runs only some of api, bot and worker.
#include <gtest/gtest.h>

#include "support/http_test_client.hpp"
#include "support/test_app.hpp"

namespace evolveai {
namespace {

int status_of(std::uint16_t port, const std::string& method, const std::string& target) {
  const auto reply = testing::http_request(port, method, target);
  return reply ? reply->status : -1;
}

TEST(Roles, WorkerOnlyNodeAnswersProbesAndMetricsAndNothingElse) {
  testing::TempDir dir;
  auto config = testing::test_config(dir.path());
  config.server.roles = {"worker"};
  testing::TestApp app(config);
  EXPECT_EQ(status_of(app.port(), "GET", "/healthz"), 200);
  EXPECT_EQ(status_of(app.port(), "GET", "/readyz"), 200);
  EXPECT_EQ(status_of(app.port(), "GET", "/metrics"), 200);
  EXPECT_EQ(status_of(app.port(), "GET", "/api/v1/openapi.json"), 404);
  EXPECT_EQ(status_of(app.port(), "POST", "/api/v1/auth"), 404);
  EXPECT_EQ(status_of(app.port(), "GET", "/"), 404);
  EXPECT_EQ(status_of(app.port(), "POST", "/telegram/webhook"), 404);
}

TEST(Roles, ApiNodeServesTheApiAndTheWebApp) {
  testing::TempDir dir;
  auto config = testing::test_config(dir.path());
  config.server.roles = {"api"};
  testing::TestApp app(config);
  EXPECT_EQ(status_of(app.port(), "GET", "/healthz"), 200);
  EXPECT_EQ(status_of(app.port(), "GET", "/api/v1/openapi.json"), 200);
  // Signing in is served (and refused for lack of a JSON body), not missing.
  EXPECT_EQ(status_of(app.port(), "POST", "/api/v1/auth"), 415);
}

}  // namespace
}  // namespace evolveai
