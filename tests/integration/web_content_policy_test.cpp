#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>

#include "http/static_files.hpp"
#include "support/http_test_client.hpp"
#include "support/test_app.hpp"

namespace evolveai {
namespace {

/// The directive `name` of a Content-Security-Policy header value ("" when absent).
std::string directive(std::string_view policy, std::string_view name) {
  std::size_t start = 0;
  while (start < policy.size()) {
    auto end = policy.find(';', start);
    if (end == std::string_view::npos) {
      end = policy.size();
    }
    auto part = policy.substr(start, end - start);
    while (!part.empty() && part.front() == ' ') {
      part.remove_prefix(1);
    }
    if (part.starts_with(name) && (part.size() == name.size() || part[name.size()] == ' ')) {
      return std::string(part);
    }
    start = end + 1;
  }
  return {};
}

class WebContentPolicy : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto web = dir_.path() / "web";
    std::filesystem::create_directories(web / "assets");
    std::ofstream(web / "index.html") << "<!doctype html><title>EvolveAI</title>";
    std::ofstream(web / "admin.html") << "<!doctype html><title>EvolveAI admin</title>";
    std::ofstream(web / "assets" / "index-1a2b3c.js") << "console.log('hi')";
    app_ = std::make_unique<testing::TestApp>(testing::test_config(dir_.path()));
  }

  testing::TempDir dir_;
  std::unique_ptr<testing::TestApp> app_;
};

TEST_F(WebContentPolicy, ChatPageForbidsInlineScriptsAndAllowsOnlyTelegramsScriptsBesideItsOwn) {
  const auto reply = testing::http_request(app_->port(), "GET", "/");
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->status, 200);
  const auto policy = reply->header("content-security-policy");
  EXPECT_EQ(directive(policy, "script-src"), "script-src 'self' https://telegram.org");
  EXPECT_EQ(directive(policy, "object-src"), "object-src 'none'");
  EXPECT_EQ(directive(policy, "base-uri"), "base-uri 'self'");
  EXPECT_EQ(directive(policy, "connect-src"), "connect-src 'self'");
}

TEST_F(WebContentPolicy, AdminPageAllowsOnlyItsOwnScriptsAndCannotBeFramed) {
  for (const std::string target : {"/admin", "/admin/users/17"}) {
    const auto reply = testing::http_request(app_->port(), "GET", target);
    ASSERT_TRUE(reply) << target;
    ASSERT_EQ(reply->status, 200) << target;
    EXPECT_NE(reply->body.find("EvolveAI admin"), std::string::npos) << target;
    const auto policy = reply->header("content-security-policy");
    EXPECT_EQ(directive(policy, "script-src"), "script-src 'self'") << target;
    EXPECT_EQ(directive(policy, "frame-ancestors"), "frame-ancestors 'none'") << target;
  }
}

TEST_F(WebContentPolicy, HashedAssetsCarryNoPagePolicy) {
  const auto reply = testing::http_request(app_->port(), "GET", "/assets/index-1a2b3c.js");
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->status, 200);
  EXPECT_EQ(reply->header("content-security-policy"), "");
}

TEST(WebContentPolicyRules, NoPolicyLetsInlineOrEvaluatedScriptsRun) {
  for (const std::string_view page : {"index.html", "admin.html", "admin/index.html", "other.html"}) {
    const auto policy = http::content_policy_for(page);
    ASSERT_FALSE(policy.empty()) << page;
    const auto scripts = directive(policy, "script-src");
    ASSERT_FALSE(scripts.empty()) << page;
    EXPECT_EQ(scripts.find("'unsafe-inline'"), std::string::npos) << page;
    EXPECT_EQ(scripts.find("'unsafe-eval'"), std::string::npos) << page;
    EXPECT_EQ(scripts.find('*'), std::string::npos) << page;
  }
  EXPECT_TRUE(http::content_policy_for("assets/index-1a2b3c.js").empty());
}

}  // namespace
}  // namespace evolveai
