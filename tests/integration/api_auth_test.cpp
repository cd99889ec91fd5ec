#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <sstream>

#include "services/auth/access_tokens.hpp"
#include "services/auth/password_hasher.hpp"
#include "support/http_test_client.hpp"
#include "support/telegram_signing.hpp"
#include "support/test_app.hpp"

namespace evolveai {
namespace {

using namespace std::chrono_literals;

/// The bot token the test server is configured with.
std::string bot_token() {
  return "123456:TEST-bot-token-for-auth-tests";
}

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string base64url(const std::string& text) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  unsigned value = 0;
  int bits = -6;
  for (const unsigned char c : text) {
    value = (value << 8U) + c;
    bits += 8;
    while (bits >= 0) {
      out.push_back(kAlphabet[(value >> static_cast<unsigned>(bits)) & 0x3FU]);
      bits -= 6;
    }
  }
  if (bits > -6) {
    out.push_back(kAlphabet[((value << 8U) >> static_cast<unsigned>(bits + 8)) & 0x3FU]);
  }
  return out;
}

class ApiAuth : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = testing::test_config(dir_.path());
    config_.telegram.bot_token = bot_token();
    app_ = std::make_unique<testing::TestApp>(config_);
  }

  std::optional<testing::HttpReply> call(const std::string& method, const std::string& target,
                                         const std::string& token = {}, const std::string& body = {}) {
    std::map<std::string, std::string> headers;
    if (!token.empty()) {
      headers["Authorization"] = "Bearer " + token;
    }
    if (!body.empty()) {
      headers["Content-Type"] = "application/json";
    }
    return testing::http_request(app_->port(), method, target, body, headers);
  }

  /// Signs in a Telegram user and returns (access token, user id).
  std::pair<std::string, std::int64_t> sign_in(std::int64_t telegram_id, const std::string& name = "Ann") {
    const auto init_data = testing::init_data_for(bot_token(), telegram_id, name, now_seconds());
    const auto reply =
        call("POST", "/api/v1/auth", {}, boost::json::serialize(boost::json::object{{"init_data", init_data}}));
    EXPECT_TRUE(reply);
    EXPECT_EQ(reply->status, 200) << reply->body;
    const auto body = boost::json::parse(reply->body);
    return {std::string(body.at("access_token").as_string()), body.at("user").at("id").as_int64()};
  }

  static std::string code_of(const testing::HttpReply& reply) {
    return std::string(boost::json::parse(reply.body).at("error").at("code").as_string());
  }

  testing::TempDir dir_;
  app::Config config_;
  std::unique_ptr<testing::TestApp> app_;
};

TEST_F(ApiAuth, InitDataSignsInAndCreatesTheUser) {
  const auto init_data = testing::init_data_for(bot_token(), 777001, "Ann", now_seconds());
  const auto reply =
      call("POST", "/api/v1/auth", {}, boost::json::serialize(boost::json::object{{"init_data", init_data}}));
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->status, 200) << reply->body;
  const auto body = boost::json::parse(reply->body);
  EXPECT_EQ(body.at("token_type").as_string(), "bearer");
  EXPECT_EQ(body.at("expires_in").as_int64(), 3600);
  EXPECT_EQ(body.at("user").at("telegram_id").as_int64(), 777001);
  EXPECT_EQ(body.at("user").at("first_name").as_string(), "Ann");
  EXPECT_EQ(body.at("user").at("username").as_string(), "u777001");
  EXPECT_FALSE(body.at("access_token").as_string().empty());
}

TEST_F(ApiAuth, TmaAuthorizationHeaderIsAccepted) {
  const auto init_data = testing::init_data_for(bot_token(), 777002, "Bob", now_seconds());
  const auto reply =
      testing::http_request(app_->port(), "POST", "/api/v1/auth", {}, {{"Authorization", "tma " + init_data}});
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200) << reply->body;
}

TEST_F(ApiAuth, LoginWidgetSignsIn) {
  const auto fields = testing::sign_login_widget(
      bot_token(), {{"id", "777003"}, {"first_name", "Cy"}, {"auth_date", std::to_string(now_seconds())}});
  boost::json::object widget;
  for (const auto& [key, value] : fields) {
    widget[key] = value;
  }
  const auto reply =
      call("POST", "/api/v1/auth", {}, boost::json::serialize(boost::json::object{{"login_widget", widget}}));
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200) << reply->body;
}

TEST_F(ApiAuth, BadSignInDataIsRefusedWith401) {
  const auto good = testing::init_data_for(bot_token(), 777004, "Dee", now_seconds());
  const std::vector<std::string> bad = {
      testing::init_data_for("999:other-bot", 777004, "Dee", now_seconds()),                        // wrong bot
      testing::init_data_for(bot_token(), 777004, "Dee", now_seconds() - std::int64_t{2} * 86400),  // stale
      good.substr(0, good.find("&hash=")),                                                          // no hash
      [&] {
        auto changed = good;
        changed.replace(changed.find("Dee"), 3, "Eve");
        return changed;
      }(),  // a changed field
  };
  for (const auto& init_data : bad) {
    const auto reply =
        call("POST", "/api/v1/auth", {}, boost::json::serialize(boost::json::object{{"init_data", init_data}}));
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->status, 401) << init_data;
    EXPECT_EQ(code_of(*reply), "unauthorized");
  }
  const auto empty = call("POST", "/api/v1/auth", {}, "{}");
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->status, 400);
}

TEST_F(ApiAuth, ProfileShowsDefaultsUsageAndPremium) {
  const auto [token, user_id] = sign_in(777005);
  const auto reply = call("GET", "/api/v1/profile", token);
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->status, 200) << reply->body;
  const auto body = boost::json::parse(reply->body);
  EXPECT_EQ(body.at("id").as_int64(), user_id);
  EXPECT_FALSE(body.at("premium").at("active").as_bool());
  EXPECT_TRUE(body.at("premium").at("until").is_null());
  EXPECT_EQ(body.at("usage").at("messages_today").as_int64(), 0);
  EXPECT_EQ(body.at("usage").at("daily_limit").as_int64(), 50);
  EXPECT_EQ(body.at("settings").at("persona").as_string(), "friend");
  EXPECT_FALSE(body.at("settings").at("voice_replies").as_bool());
}

TEST_F(ApiAuth, PremiumUserHasNoDailyLimit) {
  const auto [token, user_id] = sign_in(777006);
  app_->run(app_->store().grant_premium(user_id, std::chrono::days(30)));
  const auto profile = boost::json::parse(call("GET", "/api/v1/profile", token)->body);
  EXPECT_TRUE(profile.at("premium").at("active").as_bool());
  EXPECT_TRUE(profile.at("usage").at("daily_limit").is_null());
  const auto premium = boost::json::parse(call("GET", "/api/v1/premium", token)->body);
  EXPECT_TRUE(premium.at("active").as_bool());
  EXPECT_EQ(premium.at("plans").at(0).at("price").at("currency").as_string(), "XTR");
}

TEST_F(ApiAuth, PatchProfileValidatesSettings) {
  const auto [token, user_id] = sign_in(777007);
  auto reply = call("PATCH", "/api/v1/profile", token, R"({"settings":{"persona":"mentor","voice_replies":true}})");
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->status, 200) << reply->body;
  auto body = boost::json::parse(reply->body);
  EXPECT_EQ(body.at("settings").at("persona").as_string(), "mentor");
  EXPECT_TRUE(body.at("settings").at("voice_replies").as_bool());

  reply = call("PATCH", "/api/v1/profile", token, R"({"settings":{"premium":true}})");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 400);
  EXPECT_EQ(boost::json::parse(reply->body).at("error").at("field").as_string(), "settings.premium");

  reply = call("PATCH", "/api/v1/profile", token, R"({"settings":{"persona":"villain"}})");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 400);

  // Nothing already stored was lost by the refused patches.
  body = boost::json::parse(call("GET", "/api/v1/profile", token)->body);
  EXPECT_EQ(body.at("settings").at("persona").as_string(), "mentor");
}

/// A concrete path for a route pattern: every `{param}` becomes "1".
std::string concrete_path(const std::string& pattern) {
  std::string path;
  bool in_param = false;
  for (const char c : pattern) {
    if (c == '{') {
      in_param = true;
      path += '1';
    } else if (c == '}') {
      in_param = false;
    } else if (!in_param) {
      path += c;
    }
  }
  return path;
}

TEST_F(ApiAuth, TokenMatrixOnEveryProtectedRoute) {
  const auto [token, user_id] = sign_in(777008);
  services::auth::CryptoInit crypto;
  const auto key_id = services::auth::AccessTokens::derive_key_id(config_.auth.jwt_secret);

  services::auth::AccessTokenSettings other_secret;
  other_secret.keys.push_back({key_id, std::string(48, 'z')});
  services::auth::AccessTokenSettings same_secret;
  same_secret.keys.push_back({key_id, config_.auth.jwt_secret});
  const services::auth::AccessTokens signer(crypto, same_secret);
  const services::auth::AccessTokens stale_signer(
      crypto, same_secret, [] { return std::chrono::system_clock::now() - std::chrono::hours(3); });

  struct Case {
    std::string name;
    std::string header;  ///< full Authorization value; empty: none
    int status;
    std::string code;
  };
  /// The refusals every protected route gives, for a token of `role` that is otherwise right.
  const auto cases_for = [&](services::auth::Role role, std::int64_t subject) {
    const auto alg_none = base64url(R"({"alg":"none","typ":"JWT","kid":")" + key_id + "\"}") + "." +
                          base64url(R"({"sub":")" + std::to_string(subject) + R"(","role":")" +
                                    (role == services::auth::Role::kAdmin ? "admin" : "user") +
                                    R"(","jti":"x","iat":1,"exp":99999999999})") +
                          ".";
    const auto genuine = signer.issue(subject, role).token;
    return std::vector<Case>{
        {"no token", "", 401, "unauthorized"},
        {"malformed", "Bearer not.a.jwt", 401, "unauthorized"},
        {"wrong scheme", "Basic " + genuine, 401, "unauthorized"},
        {"wrong signature", "Bearer " + services::auth::AccessTokens(crypto, other_secret).issue(subject, role).token,
         401, "unauthorized"},
        {"alg none", "Bearer " + alg_none, 401, "unauthorized"},
        {"expired", "Bearer " + stale_signer.issue(subject, role).token, 401, "token_expired"},
    };
  };
  auto user_cases = cases_for(services::auth::Role::kUser, user_id);
  user_cases.push_back({"deleted user", "Bearer " + signer.issue(user_id + 1000, services::auth::Role::kUser).token,
                        401, "unauthorized"});
  user_cases.push_back({"admin token on a user route", "Bearer " + signer.issue(1, services::auth::Role::kAdmin).token,
                        403, "forbidden"});
  auto admin_cases = cases_for(services::auth::Role::kAdmin, 1);
  admin_cases.push_back({"user token on an admin route", "Bearer " + token, 403, "forbidden"});

  std::size_t user_routes = 0;
  for (const auto& route : app_->router().routes()) {
    if (route.pattern.rfind("/api/v1/", 0) != 0 || route.options.access == http::Access::kPublic) {
      continue;
    }
    const bool admin = route.options.access == http::Access::kAdmin;
    EXPECT_EQ(admin, route.pattern.rfind("/api/v1/admin/", 0) == 0) << route.pattern << " has the wrong access level";
    user_routes += admin ? 0 : 1;
    const auto path = concrete_path(route.pattern);
    for (const auto& c : admin ? admin_cases : user_cases) {
      std::map<std::string, std::string> headers{{"Content-Type", "application/json"}};
      if (!c.header.empty()) {
        headers["Authorization"] = c.header;
      }
      const auto reply = testing::http_request(app_->port(), route.method, path, R"({"settings":{}})", headers);
      ASSERT_TRUE(reply);
      EXPECT_EQ(reply->status, c.status) << route.method << " " << path << ": " << c.name;
      EXPECT_EQ(code_of(*reply), c.code) << route.method << " " << path << ": " << c.name;
    }
    if (!admin) {
      // The genuine token gets past authentication (whatever the route then says about the body).
      const auto ok = call(route.method, path, token, R"({"settings":{}})");
      ASSERT_TRUE(ok);
      EXPECT_NE(ok->status, 401) << route.method << " " << path;
      EXPECT_NE(ok->status, 403) << route.method << " " << path;
    }
  }
  EXPECT_GE(user_routes, 3U) << "the matrix walked the registered routes";
}

TEST_F(ApiAuth, EveryApiRouteButSignInNeedsAToken) {
  for (const auto& route : app_->router().routes()) {
    if (route.pattern.rfind("/api/v1/", 0) != 0) {
      continue;
    }
    const bool sign_in_route = route.pattern == "/api/v1/auth" || route.pattern == "/api/v1/admin/login" ||
                               route.pattern == "/api/v1/openapi.json";
    EXPECT_EQ(route.options.access == http::Access::kPublic, sign_in_route) << route.method << " " << route.pattern;
  }
}

TEST_F(ApiAuth, BannedUserGets403AndCannotSignInAgain) {
  const auto [token, user_id] = sign_in(777009);
  app_->run(app_->store().set_user_banned(user_id, true));
  const auto reply = call("GET", "/api/v1/profile", token);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 403);
  const auto init_data = testing::init_data_for(bot_token(), 777009, "Ann", now_seconds());
  const auto again =
      call("POST", "/api/v1/auth", {}, boost::json::serialize(boost::json::object{{"init_data", init_data}}));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 401);
}

TEST_F(ApiAuth, AdminLoginDoesNotRevealWhetherTheNameExists) {
  services::auth::CryptoInit crypto;
  const services::auth::PasswordHasher hasher(crypto);
  app_->run(app_->store().create_admin("root", hasher.hash("correct horse battery")));

  auto reply = call("POST", "/api/v1/admin/login", {}, R"({"username":"root","password":"correct horse battery"})");
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->status, 200) << reply->body;
  EXPECT_FALSE(boost::json::parse(reply->body).at("access_token").as_string().empty());

  const auto wrong_password = call("POST", "/api/v1/admin/login", {}, R"({"username":"root","password":"nope"})");
  const auto unknown_name = call("POST", "/api/v1/admin/login", {}, R"({"username":"ghost","password":"nope"})");
  ASSERT_TRUE(wrong_password && unknown_name);
  EXPECT_EQ(wrong_password->status, 401);
  EXPECT_EQ(unknown_name->status, 401);
  EXPECT_EQ(boost::json::parse(wrong_password->body).at("error").at("message"),
            boost::json::parse(unknown_name->body).at("error").at("message"));
}

TEST(ApiRateLimits, SignInIsLimitedPerIpAndRoutesPerUser) {
  testing::TempDir dir;
  auto config = testing::test_config(dir.path());
  config.telegram.bot_token = bot_token();
  config.rate_limits.auth_per_min = 3;
  config.rate_limits.api_per_min = 5;
  testing::TestApp app(config);
  std::string token;
  for (int i = 0; i < 3; ++i) {
    const auto init_data = testing::init_data_for(bot_token(), 778000 + i, "R", now_seconds());
    const auto reply = testing::http_request(app.port(), "POST", "/api/v1/auth",
                                             boost::json::serialize(boost::json::object{{"init_data", init_data}}),
                                             {{"Content-Type", "application/json"}});
    ASSERT_TRUE(reply);
    ASSERT_EQ(reply->status, 200);
    token = std::string(boost::json::parse(reply->body).at("access_token").as_string());
  }
  const auto limited =
      testing::http_request(app.port(), "POST", "/api/v1/auth", "{}", {{"Content-Type", "application/json"}});
  ASSERT_TRUE(limited);
  EXPECT_EQ(limited->status, 429);
  EXPECT_EQ(boost::json::parse(limited->body).at("error").at("code").as_string(), "rate_limited");
  EXPECT_GE(std::stoi(limited->header("retry-after")), 1);

  int ok = 0;
  int refused = 0;
  for (int i = 0; i < 8; ++i) {
    const auto reply =
        testing::http_request(app.port(), "GET", "/api/v1/profile", {}, {{"Authorization", "Bearer " + token}});
    ASSERT_TRUE(reply);
    (reply->status == 200 ? ok : refused) += 1;
  }
  EXPECT_EQ(ok, 5);
  EXPECT_EQ(refused, 3);
}

}  // namespace
}  // namespace evolveai
