// The operators' side of the Store and the AdminService over it, on both engines: statistics
// (the same numbers on SQLite and PostgreSQL), user filters and activity, paging, refunds,
// cleanup and the audit log.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "cache/local_cache.hpp"
#include "core/errors.hpp"
#include "obs/logger.hpp"
#include "obs/metrics.hpp"
#include "services/admin_service.hpp"
#include "services/feature_flags.hpp"
#include "services/star_refunds.hpp"
#include "storage/store.hpp"
#include "support/store_test_env.hpp"

namespace evolveai::storage {
namespace {

using namespace std::chrono_literals;
using testing::Engine;
using testing::StoreHarness;

/// Telegram's refund call, counted; fails on demand.
class FakeStarRefunds final : public services::StarRefunds {
 public:
  Task<void> refund(std::int64_t telegram_user_id, std::string_view charge_id, obs::TraceContext /*trace*/) override {
    ++calls;
    last_user = telegram_user_id;
    last_charge = std::string(charge_id);
    if (fail) {
      throw core::upstream_unavailable("Telegram refused", "refundStarPayment failed");
    }
    co_return;
  }
  [[nodiscard]] bool available() const noexcept override { return true; }

  std::atomic<int> calls{0};
  std::int64_t last_user = 0;
  std::string last_charge;
  bool fail = false;
};

/// 2026-01-10T10:00:00Z: the day the statistics tests start on.
Time start_time() {
  return Time(std::chrono::sys_days(std::chrono::year(2026) / 1 / 10)) + 10h;
}

std::chrono::sys_days day_of(Time t) {
  return std::chrono::floor<std::chrono::days>(t);
}

class StoreOperators : public ::testing::TestWithParam<Engine> {
 protected:
  void SetUp() override {
    if (GetParam() == Engine::kPostgres) {
      if (auto reason = testing::postgres_unavailable_reason()) {
        if (testing::postgres_required()) {
          FAIL() << "EVOLVEAI_REQUIRE_PG=1 but PostgreSQL is unavailable: " << *reason;
        }
        GTEST_SKIP() << *reason;
      }
    }
    h_ = std::make_unique<StoreHarness>(GetParam());
    h_->clock().set(start_time());
    const auto admin = run(store().create_admin("ops", "$argon2id$not-a-real-hash"));
    ASSERT_TRUE(admin);
    actor_.admin_id = admin->id;
    cache_ = std::make_unique<cache::LocalCache>(cache::LocalCacheOptions{}, metrics_, logger_);
    flags_ = std::make_unique<services::FeatureFlags>(store(), *cache_);
    admin_ = std::make_unique<services::AdminService>(store(), *flags_, &refunds_, services::AdminOptions{}, nullptr,
                                                      h_->clock().as_clock(), logger_);
  }
  void TearDown() override {
    admin_.reset();
    flags_.reset();
    cache_.reset();
    h_.reset();
  }

  Store& store() { return h_->store(); }
  template <typename T>
  T run(Task<T> task) {
    return h_->run(std::move(task));
  }

  User make_user(std::int64_t telegram_id, std::string name = "Ann", std::optional<std::string> username = "ann") {
    return run(
        store().upsert_user(TelegramIdentity{telegram_id, std::move(name), std::nullopt, std::move(username), "en"}));
  }

  Message add_message(UserId user, std::string content, Role role = Role::kUser) {
    NewMessage m;
    m.user_id = user;
    m.role = role;
    m.content = std::move(content);
    return run(store().insert_message(m)).message;
  }

  void add_call(UserId user, bool ok, std::int64_t in, std::int64_t out, std::int64_t latency_ms) {
    run(store().record_model_call(NewModelCall{user, ok, in, out, latency_ms}));
  }

  Payment pay(UserId user, const std::string& charge_id, std::int64_t amount = 250, std::int64_t days = 30) {
    NewPayment p;
    p.charge_id = charge_id;
    p.user_id = user;
    p.currency = "XTR";
    p.amount = amount;
    p.plan = "month";
    p.days = days;
    return run(store().apply_payment(p)).payment;
  }

  std::vector<AuditEntry> audit() { return run(store().list_audit(std::nullopt, 100)); }

  /// Two days of activity; the expected numbers are those of `expected_days()`.
  void seed_two_days() {
    const auto ann = make_user(1001, "Ann");
    const auto bob = make_user(1002, "Bob");
    add_message(ann.id, "hello");
    add_message(ann.id, "hi Ann", Role::kAssistant);
    add_message(ann.id, "how are you");
    add_message(bob.id, "hey");
    pay(ann.id, "charge-a", 250);
    add_call(ann.id, true, 10, 20, 300);
    add_call(ann.id, true, 11, 21, 100);
    add_call(bob.id, true, 12, 22, 200);
    add_call(bob.id, false, 0, 0, 900);
    h_->clock().advance(24h);
    const auto cy = make_user(1003, "Cy");
    add_message(cy.id, "first message");
    add_message(ann.id, "back again");
    add_call(cy.id, true, 5, 6, 50);
  }

  static std::vector<DailyStats> expected_days() {
    DailyStats first;
    first.day = day_of(start_time());
    first.messages = 4;
    first.active_users = 2;
    first.new_users = 2;
    first.stars_revenue = 250;
    first.tokens_in = 33;
    first.tokens_out = 63;
    first.model_errors = 1;
    first.p95_latency_ms = 300;
    DailyStats second;
    second.day = first.day + std::chrono::days(1);
    second.messages = 2;
    second.active_users = 2;
    second.new_users = 1;
    second.tokens_in = 5;
    second.tokens_out = 6;
    second.p95_latency_ms = 50;
    return {first, second};
  }

  std::unique_ptr<StoreHarness> h_;
  obs::Logger logger_{obs::LogLevel::kOff, obs::Logger::Format::kText};
  obs::MetricsRegistry metrics_;
  std::unique_ptr<cache::LocalCache> cache_;
  std::unique_ptr<services::FeatureFlags> flags_;
  FakeStarRefunds refunds_;
  std::unique_ptr<services::AdminService> admin_;
  services::Actor actor_{std::nullopt, "api", "req-1"};  ///< the admin id is set once the admin exists
};

// --- statistics ------------------------------------------------------------------------------------

TEST_P(StoreOperators, DailyStatsCountEveryMeasureExactlyOnBothEngines) {
  seed_two_days();
  const auto from = day_of(start_time());
  const auto stats = run(store().compute_daily_stats(from - std::chrono::days(1), from + std::chrono::days(3)));
  ASSERT_EQ(stats.size(), 4U);
  DailyStats empty_before;
  empty_before.day = from - std::chrono::days(1);
  DailyStats empty_after;
  empty_after.day = from + std::chrono::days(2);
  const auto expected = expected_days();
  EXPECT_EQ(stats[0], empty_before);
  EXPECT_EQ(stats[1], expected[0]);
  EXPECT_EQ(stats[2], expected[1]);
  EXPECT_EQ(stats[3], empty_after);
}

TEST_P(StoreOperators, P95IsTheNearestRankOfSuccessfulCalls) {
  const auto ann = make_user(1001);
  for (std::int64_t latency = 1; latency <= 40; ++latency) {
    add_call(ann.id, true, 0, 0, latency * 10);  // 10 … 400 ms
  }
  add_call(ann.id, false, 0, 0, 100000);  // a failure never counts towards latency
  const auto day = day_of(start_time());
  const auto stats = run(store().compute_daily_stats(day, day + std::chrono::days(1)));
  ASSERT_EQ(stats.size(), 1U);
  EXPECT_EQ(stats[0].p95_latency_ms, 380);  // the 38th of 40
  EXPECT_EQ(stats[0].model_errors, 1);
}

TEST_P(StoreOperators, RollupRowsRoundTripAndReplace) {
  auto rows = expected_days();
  run(store().save_daily_stats(rows));
  rows[0].messages = 99;
  run(store().save_daily_stats(std::vector<DailyStats>{rows[0]}));
  const auto loaded = run(store().load_daily_stats(rows[0].day, rows[1].day + std::chrono::days(1)));
  ASSERT_EQ(loaded.size(), 2U);
  EXPECT_EQ(loaded[0], rows[0]);
  EXPECT_EQ(loaded[1], rows[1]);
  EXPECT_TRUE(run(store().load_daily_stats(rows[1].day, rows[1].day)).empty());
}

TEST_P(StoreOperators, StatsServeFinishedDaysFromTheRollupAndTodayLive) {
  seed_two_days();
  // Now the third day: both earlier days are finished.
  h_->clock().advance(24h);
  const auto report = run(admin_->stats(7));
  ASSERT_EQ(report.days.size(), 7U);
  EXPECT_EQ(report.to, day_of(h_->clock().now()));
  const auto expected = expected_days();
  EXPECT_EQ(report.days[4], expected[0]);
  EXPECT_EQ(report.days[5], expected[1]);
  EXPECT_EQ(report.days[6].messages, 0);

  // Finished days were rolled up: deleting their messages does not change them, while today stays live.
  const auto rolled = run(store().load_daily_stats(report.from, report.to));
  EXPECT_EQ(rolled.size(), 6U);
  run(store().delete_messages_older_than(h_->clock().now(), 100));
  add_message(make_user(1004).id, "today");
  const auto again = run(admin_->stats(7));
  EXPECT_EQ(again.days[4], expected[0]);
  EXPECT_EQ(again.days[6].messages, 1);
  EXPECT_EQ(again.days[6].new_users, 1);
  EXPECT_THROW(run(admin_->stats(8)), core::Error);
}

// --- users -------------------------------------------------------------------------------------------

TEST_P(StoreOperators, UserListFiltersByBanAndActivity) {
  const auto ann = make_user(1001, "Ann");
  const auto bob = make_user(1002, "Bob");
  const auto cy = make_user(1003, "Cy");
  add_message(ann.id, "old");
  h_->clock().advance(48h);
  add_message(bob.id, "recent");
  run(store().set_user_banned(cy.id, true));

  UserListQuery banned;
  banned.banned = true;
  auto users = run(store().list_users(banned));
  ASSERT_EQ(users.size(), 1U);
  EXPECT_EQ(users[0].id, cy.id);

  UserListQuery active;
  active.active_since = h_->clock().now() - 24h;
  users = run(store().list_users(active));
  ASSERT_EQ(users.size(), 1U);
  EXPECT_EQ(users[0].id, bob.id);

  UserListQuery not_banned_by_text;
  not_banned_by_text.banned = false;
  not_banned_by_text.text = "1001";
  users = run(store().list_users(not_banned_by_text));
  ASSERT_EQ(users.size(), 1U);
  EXPECT_EQ(users[0].id, ann.id);
}

TEST_P(StoreOperators, UserActivityCountsMessagesAndTheLastOne) {
  const auto ann = make_user(1001);
  add_message(ann.id, "long ago");
  h_->clock().advance(std::chrono::days(40));
  add_message(ann.id, "recent");
  add_message(ann.id, "answer", Role::kAssistant);
  const auto activity = run(store().user_activity(ann.id, h_->clock().now() - std::chrono::days(30)));
  EXPECT_EQ(activity.messages, 3);
  EXPECT_EQ(activity.user_messages_since, 1);
  EXPECT_EQ(activity.last_active_at, h_->clock().now());
  const auto none = run(store().user_activity(make_user(1002).id, h_->clock().now()));
  EXPECT_EQ(none.messages, 0);
  EXPECT_FALSE(none.last_active_at);
}

TEST_P(StoreOperators, PagingIsStableWhileUsersAreAdded) {
  for (int i = 0; i < 5; ++i) {
    make_user(2000 + i, "User" + std::to_string(i));
  }
  UserListQuery query;
  query.limit = 2;
  const auto first = run(admin_->list_users(query));
  ASSERT_EQ(first.users.size(), 2U);
  ASSERT_TRUE(first.next_cursor);
  for (int i = 0; i < 3; ++i) {
    make_user(3000 + i, "Late" + std::to_string(i));  // newer users go before page one, never into later pages
  }
  std::vector<UserId> seen;
  for (const auto& u : first.users) {
    seen.push_back(u.id);
  }
  auto cursor = first.next_cursor;
  while (cursor) {
    query.before_id = cursor;
    const auto page = run(admin_->list_users(query));
    for (const auto& u : page.users) {
      seen.push_back(u.id);
    }
    cursor = page.next_cursor;
  }
  ASSERT_EQ(seen.size(), 5U) << "every original user exactly once, no late user";
  for (std::size_t i = 1; i < seen.size(); ++i) {
    EXPECT_LT(seen[i], seen[i - 1]);
  }
}

TEST_P(StoreOperators, UserDetailShowsUsageActivityMemoryAndPayments) {
  const auto ann = make_user(1001);
  run(store().take_quota_unit(ann.id, 50));
  add_message(ann.id, "hello");
  pay(ann.id, "charge-d");
  MemoryWrite memory;
  memory.user_id = ann.id;
  memory.summary = "Ann likes jazz";
  memory.facts = {Fact{"f1", "likes jazz", false}};
  run(store().write_memory(memory));
  const auto detail = run(admin_->user_detail(ann.id));
  EXPECT_EQ(detail.messages_today, 1);
  EXPECT_EQ(detail.activity.messages, 1);
  EXPECT_EQ(detail.activity.user_messages_since, 1);
  EXPECT_EQ(detail.memory_summary_chars, 14U);
  EXPECT_EQ(detail.memory_facts, 1U);
  ASSERT_EQ(detail.payments.size(), 1U);
  EXPECT_EQ(detail.payments[0].charge_id, "charge-d");
  EXPECT_THROW(run(admin_->user_detail(ann.id + 100)), core::Error);
}

// --- actions and their audit ----------------------------------------------------------------------------

TEST_P(StoreOperators, PremiumAndBanActionsAreAuditedOnceWithBeforeAndAfter) {
  const auto ann = make_user(1001);
  const auto granted = run(admin_->grant_premium(actor_, ann.id, 30, "support case 12"));
  ASSERT_TRUE(granted.premium_until);
  EXPECT_EQ(*granted.premium_until, h_->clock().now() + std::chrono::days(30));
  EXPECT_TRUE(run(admin_->set_banned(actor_, ann.id, true, "spam")).banned);
  EXPECT_TRUE(run(admin_->set_banned(actor_, ann.id, true, "spam again")).banned);  // no change, no entry
  EXPECT_FALSE(run(admin_->revoke_premium(actor_, ann.id, "")).premium_until);
  EXPECT_FALSE(run(admin_->set_banned(actor_, ann.id, false, "appeal")).banned);

  const auto entries = audit();
  ASSERT_EQ(entries.size(), 4U);
  EXPECT_EQ(entries[3].action, "user.premium.grant");
  EXPECT_EQ(entries[2].action, "user.ban");
  EXPECT_EQ(entries[1].action, "user.premium.revoke");
  EXPECT_EQ(entries[0].action, "user.unban");
  EXPECT_EQ(entries[3].admin_id, actor_.admin_id);
  EXPECT_EQ(entries[3].target, "user:" + std::to_string(ann.id));
  const auto details = boost::json::parse(entries[3].details_json).as_object();
  EXPECT_EQ(details.at("reason").as_string(), "support case 12");
  EXPECT_EQ(details.at("request_id").as_string(), "req-1");
  EXPECT_TRUE(details.at("before").at("premium_until").is_null());
  EXPECT_FALSE(details.at("after").at("premium_until").is_null());
  EXPECT_EQ(boost::json::parse(entries[2].details_json).at("after").at("banned").as_bool(), true);

  EXPECT_THROW(run(admin_->grant_premium(actor_, ann.id, 0, "")), core::Error);
  EXPECT_THROW(run(admin_->grant_premium(actor_, ann.id + 100, 3, "")), core::Error);
  EXPECT_EQ(audit().size(), 4U) << "refused actions write nothing";
}

TEST_P(StoreOperators, RefundTwiceRefundsOnceAndTakesThePremiumDaysBack) {
  const auto ann = make_user(1001);
  pay(ann.id, "charge-r", 250, 30);
  const auto first = run(admin_->refund(actor_, "charge-r", "asked for it"));
  EXPECT_FALSE(first.already_refunded);
  EXPECT_EQ(first.payment.status, PaymentStatus::kRefunded);
  EXPECT_EQ(refunds_.calls, 1);
  EXPECT_EQ(refunds_.last_user, 1001);
  EXPECT_EQ(refunds_.last_charge, "charge-r");
  const auto user = run(store().find_user(ann.id));
  EXPECT_FALSE(user->premium_at(h_->clock().now())) << "the 30 days were taken back";

  const auto second = run(admin_->refund(actor_, "charge-r", "again"));
  EXPECT_TRUE(second.already_refunded);
  EXPECT_EQ(second.payment.status, PaymentStatus::kRefunded);
  EXPECT_EQ(refunds_.calls, 1) << "Telegram is not asked twice";
  const auto entries = audit();
  ASSERT_EQ(entries.size(), 1U);
  EXPECT_EQ(entries[0].action, "payment.refund");
  EXPECT_EQ(entries[0].target, "payment:charge-r");

  EXPECT_THROW(run(admin_->refund(actor_, "no-such-charge", "")), core::Error);
}

TEST_P(StoreOperators, RefundThatTelegramRefusesChangesNothing) {
  const auto ann = make_user(1001);
  pay(ann.id, "charge-f", 250, 30);
  refunds_.fail = true;
  EXPECT_THROW(run(admin_->refund(actor_, "charge-f", "")), core::Error);
  EXPECT_EQ(run(store().find_payment("charge-f"))->status, PaymentStatus::kPaid);
  EXPECT_TRUE(run(store().find_user(ann.id))->premium_at(h_->clock().now()));
  EXPECT_TRUE(audit().empty());
}

TEST_P(StoreOperators, RefundWithoutABotIsUnavailable) {
  services::AdminService no_bot(store(), *flags_, nullptr, services::AdminOptions{}, nullptr, h_->clock().as_clock(),
                                logger_);
  const auto ann = make_user(1001);
  pay(ann.id, "charge-n");
  try {
    run(no_bot.refund(actor_, "charge-n", ""));
    FAIL() << "refund without a bot succeeded";
  } catch (const core::Error& e) {
    EXPECT_EQ(e.code(), "refunds_unavailable");
    EXPECT_EQ(e.kind(), core::ErrorKind::kServiceUnavailable);
  }
}

TEST_P(StoreOperators, CleanupRemovesExactlyTheOldMessagesAndKeepsSummaries) {
  const auto ann = make_user(1001);
  std::vector<MessageId> old_ids;
  for (int i = 0; i < 7; ++i) {
    old_ids.push_back(add_message(ann.id, "old " + std::to_string(i)).id);
  }
  MemoryWrite memory;
  memory.user_id = ann.id;
  memory.summary = "Ann's story so far";
  memory.last_summarized_message_id = old_ids.back();
  run(store().write_memory(memory));
  h_->clock().advance(std::chrono::days(91));
  const auto recent = add_message(ann.id, "new");

  services::AdminOptions small_batches;
  small_batches.cleanup_batch = 3;
  services::AdminService admin(store(), *flags_, nullptr, small_batches, nullptr, h_->clock().as_clock(), logger_);
  EXPECT_EQ(run(admin.cleanup(actor_, 90, "retention")), 7);
  const auto left = run(store().recent_messages(ann.id, 100, std::nullopt));
  ASSERT_EQ(left.size(), 1U);
  EXPECT_EQ(left[0].id, recent.id);
  EXPECT_EQ(run(store().get_memory(ann.id)).summary, "Ann's story so far");
  EXPECT_EQ(run(admin.cleanup(actor_, 90, "")), 0);
  const auto entries = audit();
  ASSERT_EQ(entries.size(), 2U);
  EXPECT_EQ(entries[1].action, "messages.cleanup");
  EXPECT_EQ(boost::json::parse(entries[1].details_json).at("after").at("deleted_messages").as_int64(), 7);
}

TEST_P(StoreOperators, FlagsAreStoredAuditedAndReadBack) {
  const auto defaults = run(admin_->flags());
  ASSERT_EQ(defaults.size(), 4U);
  for (const auto& [name, state] : defaults) {
    EXPECT_EQ(state, (services::FlagState{true, 100})) << name;
  }
  services::FlagSet change{{"voice_replies", services::FlagState{true, 30}}};
  const auto after = run(admin_->set_flags(actor_, change, "gradual rollout"));
  EXPECT_EQ(after.at("voice_replies"), (services::FlagState{true, 30}));
  run(admin_->set_flags(actor_, change, "same again"));  // nothing changes: no entry
  services::FlagSet unknown{{"no_such_flag", services::FlagState{}}};
  EXPECT_THROW(run(admin_->set_flags(actor_, unknown, "")), core::Error);
  ASSERT_EQ(audit().size(), 1U);
  EXPECT_EQ(audit()[0].action, "flags.update");

  // Another node (its own cache) reads the stored state.
  cache::LocalCache other_cache(cache::LocalCacheOptions{"other"}, metrics_, logger_);
  services::FeatureFlags other(store(), other_cache);
  EXPECT_EQ(run(other.all()).at("voice_replies"), (services::FlagState{true, 30}));
  services::FlagSet off{{"relevant_past", services::FlagState{false, 100}}};
  run(flags_->set(off));
  EXPECT_FALSE(run(flags_->enabled("relevant_past", 1)));
  EXPECT_FALSE(run(flags_->enabled("no_such_flag", 1)));
  EXPECT_TRUE(run(flags_->enabled("new_user_signup", 1)));
}

INSTANTIATE_TEST_SUITE_P(Engines, StoreOperators, ::testing::Values(Engine::kSqlite, Engine::kPostgres),
                         [](const ::testing::TestParamInfo<Engine>& param) {
                           return testing::engine_name(param.param);
                         });

}  // namespace
}  // namespace evolveai::storage
