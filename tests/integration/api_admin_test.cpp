// The operators' API over HTTP on both storage engines: every admin route, the effects users
// see at once (premium, bans, closed sign-up), and the audit trail of each action.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "fakes/fake_telegram.hpp"
#include "services/auth/crypto_init.hpp"
#include "services/auth/password_hasher.hpp"
#include "services/scheduler.hpp"
#include "storage/store.hpp"
#include "support/chat_test_env.hpp"
#include "support/http_test_client.hpp"
#include "support/store_test_env.hpp"
#include "support/telegram_signing.hpp"
#include "support/test_app.hpp"

namespace evolveai {
namespace {

using testing::Engine;
namespace json = boost::json;

constexpr const char* kAdminPassword = "correct horse battery staple";

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

class ApiAdmin : public ::testing::TestWithParam<Engine> {
 protected:
  void SetUp() override {
    config_ = testing::test_config(dir_.path());
    if (GetParam() == Engine::kPostgres) {
      if (auto reason = testing::postgres_unavailable_reason()) {
        if (testing::postgres_required()) {
          FAIL() << "EVOLVEAI_REQUIRE_PG=1 but PostgreSQL is unavailable: " << *reason;
        }
        GTEST_SKIP() << *reason;
      }
    }
    database_ = std::make_unique<testing::AppDatabase>(GetParam(), dir_.path());
    config_.database.url = database_->url();
    // The real bot front door against a fake Bot API: refunds go through refundStarPayment.
    config_.telegram.bot_token = std::string(testing::FakeTelegram::kToken);
    config_.telegram.api_base_url = telegram_.base_url();
    config_.telegram.mode = "polling";
    config_.telegram.poll_timeout = std::chrono::seconds(1);
    app_ = std::make_unique<testing::TestApp>(config_);
    const services::auth::CryptoInit crypto;
    const services::auth::PasswordHasher hasher(crypto);
    const auto admin = app_->run(app_->store().create_admin("ops", hasher.hash(kAdminPassword)));
    ASSERT_TRUE(admin);
    admin_id_ = admin->id;
    const auto login = call("POST", "/api/v1/admin/login", {},
                            json::serialize(json::object{{"username", "ops"}, {"password", kAdminPassword}}));
    ASSERT_EQ(login.status, 200) << login.body;
    admin_token_ = std::string(json::parse(login.body).at("access_token").as_string());
  }
  void TearDown() override {
    app_.reset();
    database_.reset();
  }

  testing::HttpReply call(const std::string& method, const std::string& target, const std::string& token = {},
                          const std::string& body = {}) {
    std::map<std::string, std::string> headers;
    if (!token.empty()) {
      headers["Authorization"] = "Bearer " + token;
    }
    if (!body.empty()) {
      headers["Content-Type"] = "application/json";
    }
    auto reply = testing::http_request(app_->port(), method, target, body, headers);
    EXPECT_TRUE(reply) << method << " " << target;
    return reply.value_or(testing::HttpReply{});
  }

  testing::HttpReply admin(const std::string& method, const std::string& target, const std::string& body = {}) {
    return call(method, target, admin_token_, body);
  }

  json::value admin_json(const std::string& method, const std::string& target, const std::string& body = {},
                         int status = 200) {
    const auto reply = admin(method, target, body);
    EXPECT_EQ(reply.status, status) << method << " " << target << ": " << reply.body;
    return reply.body.empty() ? json::value() : json::parse(reply.body);
  }

  /// Signs a Telegram user in; returns (token, user id), or the refusal's status as id -status.
  std::pair<std::string, std::int64_t> sign_in(std::int64_t telegram_id, const std::string& name = "Ann") {
    const auto init_data =
        testing::init_data_for(std::string(testing::FakeTelegram::kToken), telegram_id, name, now_seconds());
    const auto reply = call("POST", "/api/v1/auth", {}, json::serialize(json::object{{"init_data", init_data}}));
    if (reply.status != 200) {
      return {reply.body, -reply.status};
    }
    const auto body = json::parse(reply.body);
    return {std::string(body.at("access_token").as_string()), body.at("user").at("id").as_int64()};
  }

  /// A 30-day Stars payment of `user`, as the bot records one.
  void pay(std::int64_t user, const std::string& charge_id) {
    storage::NewPayment payment;
    payment.charge_id = charge_id;
    payment.user_id = user;
    payment.currency = "XTR";
    payment.amount = 250;
    payment.plan = "month";
    payment.days = 30;
    app_->run(app_->store().apply_payment(payment));
  }

  std::vector<storage::AuditEntry> audit() { return app_->run(app_->store().list_audit(std::nullopt, 100)); }

  static std::string code_of(const testing::HttpReply& reply) {
    return std::string(json::parse(reply.body).at("error").at("code").as_string());
  }

  testing::TempDir dir_;
  testing::FakeTelegram telegram_;
  app::Config config_;
  std::unique_ptr<testing::AppDatabase> database_;
  std::unique_ptr<testing::TestApp> app_;
  std::int64_t admin_id_ = 0;
  std::string admin_token_;
};

TEST_P(ApiAdmin, TheWorkerRollsUpEveryFinishedDayOfTheWidestStatsWindow) {
  const auto today = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
  const auto from = today - std::chrono::days(89);
  ASSERT_TRUE(app_->run(app_->store().load_daily_stats(from, today)).empty());
  ASSERT_EQ(app_->run_worker_task("stats_rollup"), services::RunOutcome::kRan);
  const auto rolled = app_->run(app_->store().load_daily_stats(from, today));
  ASSERT_EQ(rolled.size(), 89U);
  EXPECT_EQ(rolled.front().day, from);
  EXPECT_EQ(rolled.back().day, today - std::chrono::days(1));
}

TEST_P(ApiAdmin, UserListSearchesFiltersAndPagesWithACursor) {
  const auto [ann_token, ann] = sign_in(5001, "Ann");
  const auto [bob_token, bob] = sign_in(5002, "Bob");
  const auto [cy_token, cy] = sign_in(5003, "Cy");
  admin_json("POST", "/api/v1/admin/users/" + std::to_string(bob) + "/premium", R"({"days":30})");

  auto page = admin_json("GET", "/api/v1/admin/users?limit=2");
  auto users = page.at("users").as_array();
  ASSERT_EQ(users.size(), 2U);
  EXPECT_EQ(users[0].at("id").as_int64(), cy);
  EXPECT_EQ(users[1].at("id").as_int64(), bob);
  EXPECT_TRUE(users[1].at("premium").at("active").as_bool());
  EXPECT_EQ(users[0].at("usage").at("messages_today").as_int64(), 0);
  const std::string cursor(page.at("next_cursor").as_string());
  sign_in(5004, "Dan");  // a new user does not shift the pages that follow
  page = admin_json("GET", "/api/v1/admin/users?limit=2&cursor=" + cursor);
  users = page.at("users").as_array();
  ASSERT_EQ(users.size(), 1U);
  EXPECT_EQ(users[0].at("id").as_int64(), ann);
  EXPECT_TRUE(page.at("next_cursor").is_null());

  EXPECT_EQ(admin_json("GET", "/api/v1/admin/users?query=5002").at("users").as_array().size(), 1U);
  EXPECT_EQ(admin_json("GET", "/api/v1/admin/users?query=u500").at("users").as_array().size(), 4U);
  EXPECT_EQ(admin_json("GET", "/api/v1/admin/users?premium=true").at("users").as_array().size(), 1U);
  EXPECT_EQ(admin_json("GET", "/api/v1/admin/users?banned=true").at("users").as_array().size(), 0U);
  EXPECT_EQ(admin_json("GET", "/api/v1/admin/users?active_since=2000-01-01").at("users").as_array().size(), 0U)
      << "nobody has written a message";
  EXPECT_EQ(code_of(admin("GET", "/api/v1/admin/users?premium=maybe")), "validation_failed");
  EXPECT_EQ(code_of(admin("GET", "/api/v1/admin/users?active_since=yesterday")), "validation_failed");
  EXPECT_EQ(code_of(admin("GET", "/api/v1/admin/users?limit=1000")), "validation_failed");
}

TEST_P(ApiAdmin, UserDetailShowsCountsPaymentsAndActivity) {
  const auto [token, ann] = sign_in(5001);
  pay(ann, "detail-charge");
  const auto detail = admin_json("GET", "/api/v1/admin/users/" + std::to_string(ann));
  EXPECT_EQ(detail.at("id").as_int64(), ann);
  EXPECT_EQ(detail.at("telegram_id").as_int64(), 5001);
  EXPECT_EQ(detail.at("messages").as_int64(), 0);
  EXPECT_TRUE(detail.at("last_active_at").is_null());
  EXPECT_EQ(detail.at("usage").at("messages_30d").as_int64(), 0);
  EXPECT_EQ(detail.at("memory").at("facts").as_int64(), 0);
  EXPECT_TRUE(detail.at("premium").at("active").as_bool());
  ASSERT_EQ(detail.at("payments").as_array().size(), 1U);
  EXPECT_EQ(detail.at("payments").at(0).at("charge_id").as_string(), "detail-charge");
  EXPECT_EQ(detail.at("payments").at(0).at("status").as_string(), "paid");
  EXPECT_EQ(admin("GET", "/api/v1/admin/users/999999").status, 404);
  EXPECT_EQ(admin("GET", "/api/v1/admin/users/abc").status, 404);
}

TEST_P(ApiAdmin, GrantShowsPremiumInTheUsersProfileAtOnceAndRevokeEndsIt) {
  const auto [token, ann] = sign_in(5001);
  const auto before = json::parse(call("GET", "/api/v1/profile", token).body);  // now cached
  EXPECT_FALSE(before.at("premium").at("active").as_bool());
  const auto user_path = "/api/v1/admin/users/" + std::to_string(ann);

  const auto granted = admin_json("POST", user_path + "/premium", R"({"days":30,"reason":"support"})");
  EXPECT_TRUE(granted.at("premium").at("active").as_bool());
  auto profile = json::parse(call("GET", "/api/v1/profile", token).body);
  EXPECT_TRUE(profile.at("premium").at("active").as_bool());
  EXPECT_TRUE(profile.at("usage").at("daily_limit").is_null());

  const auto revoked = admin_json("DELETE", user_path + "/premium", R"({"reason":"mistake"})");
  EXPECT_FALSE(revoked.at("premium").at("active").as_bool());
  profile = json::parse(call("GET", "/api/v1/profile", token).body);
  EXPECT_FALSE(profile.at("premium").at("active").as_bool());

  EXPECT_EQ(code_of(admin("POST", user_path + "/premium", R"({"days":0})")), "validation_failed");
  EXPECT_EQ(code_of(admin("POST", user_path + "/premium", R"({"days":3,"extra":1})")), "validation_failed");
  EXPECT_EQ(admin("POST", "/api/v1/admin/users/999999/premium", R"({"days":3})").status, 404);

  const auto entries = audit();
  ASSERT_EQ(entries.size(), 2U);
  EXPECT_EQ(entries[1].action, "user.premium.grant");
  EXPECT_EQ(entries[0].action, "user.premium.revoke");
  EXPECT_EQ(entries[1].admin_id, admin_id_);
  const auto details = json::parse(entries[1].details_json);
  EXPECT_EQ(details.at("reason").as_string(), "support");
  EXPECT_EQ(details.at("via").as_string(), "api");
  EXPECT_FALSE(details.at("request_id").as_string().empty());
}

TEST_P(ApiAdmin, BanBlocksTheUsersNextCallAndSignInUntilUnbanned) {
  const auto [token, ann] = sign_in(5001);
  ASSERT_EQ(call("GET", "/api/v1/profile", token).status, 200);
  const auto user_path = "/api/v1/admin/users/" + std::to_string(ann);
  EXPECT_TRUE(admin_json("POST", user_path + "/ban", R"({"reason":"spam"})").at("banned").as_bool());
  const auto refused = call("GET", "/api/v1/profile", token);
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(code_of(refused), "forbidden");
  EXPECT_EQ(sign_in(5001).second, -401);
  EXPECT_EQ(admin_json("GET", "/api/v1/admin/users?banned=true").at("users").as_array().size(), 1U);

  EXPECT_FALSE(admin_json("POST", user_path + "/unban").at("banned").as_bool());
  EXPECT_EQ(call("GET", "/api/v1/profile", token).status, 200);
  const auto entries = audit();
  ASSERT_EQ(entries.size(), 2U);
  EXPECT_EQ(entries[1].action, "user.ban");
  EXPECT_EQ(entries[0].action, "user.unban");
}

TEST_P(ApiAdmin, PaymentsAreListedAndPagedNewestFirst) {
  const auto [token, ann] = sign_in(5001);
  for (int i = 0; i < 3; ++i) {
    pay(ann, "charge-" + std::to_string(i));
  }
  auto page = admin_json("GET", "/api/v1/admin/payments?limit=2");
  ASSERT_EQ(page.at("payments").as_array().size(), 2U);
  EXPECT_EQ(page.at("payments").at(0).at("charge_id").as_string(), "charge-2");
  EXPECT_EQ(page.at("payments").at(0).at("amount").as_int64(), 250);
  EXPECT_EQ(page.at("payments").at(0).at("user_id").as_int64(), ann);
  const std::string cursor(page.at("next_cursor").as_string());
  page = admin_json("GET", "/api/v1/admin/payments?limit=2&cursor=" + cursor);
  ASSERT_EQ(page.at("payments").as_array().size(), 1U);
  EXPECT_EQ(page.at("payments").at(0).at("charge_id").as_string(), "charge-0");
  EXPECT_TRUE(page.at("next_cursor").is_null());
  const auto others = admin_json("GET", "/api/v1/admin/payments?user_id=" + std::to_string(ann + 1));
  EXPECT_TRUE(others.at("payments").as_array().empty());
}

TEST_P(ApiAdmin, RefundTwiceRefundsOnceThroughTelegramAndRevokesThePremiumAtOnce) {
  const auto [token, ann] = sign_in(5001);
  pay(ann, "charge-r");
  ASSERT_TRUE(json::parse(call("GET", "/api/v1/profile", token).body).at("premium").at("active").as_bool());

  const auto first = admin_json("POST", "/api/v1/admin/payments/charge-r/refund", R"({"reason":"asked"})");
  EXPECT_FALSE(first.at("already_refunded").as_bool());
  EXPECT_EQ(first.at("payment").at("status").as_string(), "refunded");
  EXPECT_TRUE(first.at("payment").at("refunded_at").is_string());
  const auto calls = telegram_.calls("refundStarPayment");
  ASSERT_EQ(calls.size(), 1U);
  EXPECT_EQ(calls[0].params.at("telegram_payment_charge_id").as_string(), "charge-r");
  EXPECT_EQ(calls[0].params.at("user_id").as_int64(), 5001);
  EXPECT_FALSE(json::parse(call("GET", "/api/v1/profile", token).body).at("premium").at("active").as_bool())
      << "the days are taken back at once";

  const auto second = admin_json("POST", "/api/v1/admin/payments/charge-r/refund");
  EXPECT_TRUE(second.at("already_refunded").as_bool());
  EXPECT_EQ(second.at("payment").at("status").as_string(), "refunded");
  EXPECT_EQ(telegram_.calls("refundStarPayment").size(), 1U) << "Telegram is not asked twice";
  const auto entries = audit();
  ASSERT_EQ(entries.size(), 1U);
  EXPECT_EQ(entries[0].action, "payment.refund");
  EXPECT_EQ(entries[0].target, "payment:charge-r");
  EXPECT_EQ(admin("POST", "/api/v1/admin/payments/no-such-charge/refund").status, 404);
}

TEST_P(ApiAdmin, RefundTelegramRefusesChangesNothing) {
  const auto [token, ann] = sign_in(5001);
  pay(ann, "charge-x");
  telegram_.fail_next("refundStarPayment", 400, "Bad Request: CHARGE_NOT_FOUND");
  const auto refused = admin("POST", "/api/v1/admin/payments/charge-x/refund");
  EXPECT_GE(refused.status, 400) << refused.body;
  EXPECT_NE(refused.status, 200);
  EXPECT_EQ(app_->run(app_->store().find_payment("charge-x"))->status, storage::PaymentStatus::kPaid);
  EXPECT_TRUE(json::parse(call("GET", "/api/v1/profile", token).body).at("premium").at("active").as_bool());
  EXPECT_TRUE(audit().empty());
}

TEST_P(ApiAdmin, CleanupDeletesOldMessagesAndReportsTheCount) {
  const auto [token, ann] = sign_in(5001);
  storage::NewMessage message;
  message.user_id = ann;
  message.content = "kept: it is new";
  app_->run(app_->store().insert_message(message));
  const auto result = admin_json("POST", "/api/v1/admin/cleanup", R"({"older_than_days":90,"reason":"retention"})");
  EXPECT_EQ(result.at("deleted_messages").as_int64(), 0);
  EXPECT_EQ(app_->run(app_->store().count_messages(ann, 0)), 1);
  EXPECT_EQ(code_of(admin("POST", "/api/v1/admin/cleanup", R"({"older_than_days":0})")), "validation_failed");
  EXPECT_EQ(code_of(admin("POST", "/api/v1/admin/cleanup", R"({})")), "validation_failed");
  const auto entries = audit();
  ASSERT_EQ(entries.size(), 1U);
  EXPECT_EQ(entries[0].action, "messages.cleanup");
}

TEST_P(ApiAdmin, StatsGiveADailySeriesEndingToday) {
  const auto [token, ann] = sign_in(5001);
  storage::NewMessage message;
  message.user_id = ann;
  message.content = "hello";
  app_->run(app_->store().insert_message(message));
  const auto stats = admin_json("GET", "/api/v1/admin/stats?days=7");
  EXPECT_EQ(stats.at("days").as_int64(), 7);
  const auto& series = stats.at("series").as_array();
  ASSERT_EQ(series.size(), 7U);
  const auto& today = series.back().as_object();
  EXPECT_EQ(today.at("day").as_string(), stats.at("to").as_string());
  EXPECT_EQ(series.front().at("day").as_string(), stats.at("from").as_string());
  EXPECT_EQ(today.at("messages").as_int64(), 1);
  EXPECT_EQ(today.at("active_users").as_int64(), 1);
  EXPECT_EQ(today.at("new_users").as_int64(), 1);
  EXPECT_EQ(today.at("stars_revenue").as_int64(), 0);
  EXPECT_TRUE(today.at("p95_latency_ms").is_null());
  for (const char* key : {"tokens_in", "tokens_out", "model_errors"}) {
    EXPECT_EQ(today.at(key).as_int64(), 0) << key;
  }
  EXPECT_EQ(admin_json("GET", "/api/v1/admin/stats").at("series").as_array().size(), 30U);
  EXPECT_EQ(admin_json("GET", "/api/v1/admin/stats?days=90").at("series").as_array().size(), 90U);
  EXPECT_EQ(code_of(admin("GET", "/api/v1/admin/stats?days=8")), "validation_failed");
}

TEST_P(ApiAdmin, BackupsAreCreatedAndListed) {
  EXPECT_TRUE(admin_json("GET", "/api/v1/admin/backups").at("backups").as_array().empty());
  const auto created = admin_json("POST", "/api/v1/admin/backups", R"({"reason":"before upgrade"})", 201);
  const std::string name(created.at("name").as_string());
  EXPECT_EQ(created.at("dialect").as_string(), GetParam() == Engine::kSqlite ? "sqlite" : "postgres");
  EXPECT_GT(created.at("bytes").as_int64(), 0);
  EXPECT_EQ(created.at("sha256").as_string().size(), 64U);
  const auto listed = admin_json("GET", "/api/v1/admin/backups").at("backups").as_array();
  ASSERT_EQ(listed.size(), 1U);
  EXPECT_EQ(listed[0].at("name").as_string(), name);
  const auto entries = audit();
  ASSERT_EQ(entries.size(), 1U);
  EXPECT_EQ(entries[0].action, "backup.create");
  EXPECT_EQ(entries[0].target, "backup:" + name);
}

TEST_P(ApiAdmin, AuditLogIsPagedAndCannotBeChanged) {
  const auto [token, ann] = sign_in(5001);
  const auto user_path = "/api/v1/admin/users/" + std::to_string(ann);
  admin_json("POST", user_path + "/ban");
  admin_json("POST", user_path + "/unban");
  admin_json("POST", user_path + "/premium", R"({"days":1})");
  auto page = admin_json("GET", "/api/v1/admin/audit?limit=2");
  ASSERT_EQ(page.at("entries").as_array().size(), 2U);
  EXPECT_EQ(page.at("entries").at(0).at("action").as_string(), "user.premium.grant");
  EXPECT_EQ(page.at("entries").at(0).at("admin_id").as_int64(), admin_id_);
  EXPECT_EQ(page.at("entries").at(0).at("target").as_string(), "user:" + std::to_string(ann));
  EXPECT_TRUE(page.at("entries").at(0).at("details").at("after").at("premium_until").is_string());
  const std::string cursor(page.at("next_cursor").as_string());
  page = admin_json("GET", "/api/v1/admin/audit?limit=2&cursor=" + cursor);
  ASSERT_EQ(page.at("entries").as_array().size(), 1U);
  EXPECT_EQ(page.at("entries").at(0).at("action").as_string(), "user.ban");
  for (const char* method : {"PUT", "PATCH", "DELETE", "POST"}) {
    EXPECT_EQ(admin(method, "/api/v1/admin/audit", "{}").status, 405) << method;
  }
}

TEST_P(ApiAdmin, FlagsAreReadAndSetAndNewUserSignupClosesSignUpOnly) {
  ASSERT_GT(sign_in(5001).second, 0);
  auto flags = admin_json("GET", "/api/v1/admin/flags").at("flags").as_object();
  ASSERT_EQ(flags.size(), 4U);
  EXPECT_TRUE(flags.at("new_user_signup").at("enabled").as_bool());
  EXPECT_EQ(flags.at("new_user_signup").at("percentage").as_int64(), 100);

  flags = admin_json("PUT", "/api/v1/admin/flags",
                     R"({"flags":{"new_user_signup":{"enabled":false,"percentage":100}},"reason":"invite only"})")
              .at("flags")
              .as_object();
  EXPECT_FALSE(flags.at("new_user_signup").at("enabled").as_bool());
  EXPECT_TRUE(flags.at("voice_replies").at("enabled").as_bool());

  const auto [refusal, status] = sign_in(5099, "Newcomer");
  EXPECT_EQ(status, -403);
  EXPECT_EQ(std::string(json::parse(refusal).at("error").at("code").as_string()), "signup_closed");
  EXPECT_GT(sign_in(5001).second, 0) << "an existing user still signs in";
  EXPECT_EQ(admin_json("GET", "/api/v1/admin/users?query=5099").at("users").as_array().size(), 0U);

  admin_json("PUT", "/api/v1/admin/flags", R"({"flags":{"new_user_signup":{"enabled":true,"percentage":100}}})");
  EXPECT_GT(sign_in(5099, "Newcomer").second, 0);

  EXPECT_EQ(code_of(admin("PUT", "/api/v1/admin/flags", R"({"flags":{"nope":{"enabled":true,"percentage":1}}})")),
            "validation_failed");
  EXPECT_EQ(
      code_of(admin("PUT", "/api/v1/admin/flags", R"({"flags":{"voice_replies":{"enabled":true,"percentage":101}}})")),
      "validation_failed");
  const auto entries = audit();
  ASSERT_EQ(entries.size(), 2U);
  EXPECT_EQ(entries[0].action, "flags.update");
  EXPECT_EQ(json::parse(entries[1].details_json).at("after").at("new_user_signup").at("enabled").as_bool(), false);
}

INSTANTIATE_TEST_SUITE_P(Engines, ApiAdmin, ::testing::Values(Engine::kSqlite, Engine::kPostgres),
                         [](const ::testing::TestParamInfo<Engine>& param) {
                           return testing::engine_name(param.param);
                         });

}  // namespace
}  // namespace evolveai
