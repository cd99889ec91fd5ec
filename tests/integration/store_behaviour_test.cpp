// One behavioural suite for every Store engine: each test runs against SQLite (temp dir) and
// PostgreSQL (EVOLVEAI_TEST_PG_URL). Both engines must behave identically.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>

#include <algorithm>
#include <atomic>
#include <future>
#include <set>
#include <string>
#include <vector>

#include "core/errors.hpp"
#include "storage/store.hpp"
#include "storage/store_error.hpp"
#include "support/store_test_env.hpp"

namespace evolveai::storage {
namespace {

using namespace std::chrono_literals;
using testing::Engine;
using testing::StoreHarness;

class StoreBehaviour : public ::testing::TestWithParam<Engine> {
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
  }
  void TearDown() override { h_.reset(); }

  Store& store() { return h_->store(); }
  template <typename T>
  T run(Task<T> task) {
    return h_->run(std::move(task));
  }

  User make_user(std::int64_t telegram_id, std::string name = "Ann") {
    return run(store().upsert_user(TelegramIdentity{telegram_id, std::move(name), std::nullopt, "ann", "ru"}));
  }

  Message add_message(UserId user, std::string content, Role role = Role::kUser,
                      std::optional<std::string> client_id = std::nullopt) {
    NewMessage m;
    m.user_id = user;
    m.role = role;
    m.content = std::move(content);
    m.client_message_id = std::move(client_id);
    return run(store().insert_message(m)).message;
  }

  /// Runs `count` copies of `make()` concurrently on the harness threads and collects results.
  template <typename F>
  auto concurrently(int count, F make) {
    using T = typename decltype(make(0))::value_type;
    std::vector<std::future<T>> futures;
    for (int i = 0; i < count; ++i) {
      futures.push_back(boost::asio::co_spawn(h_->io(), make(i), boost::asio::use_future));
    }
    std::vector<T> out;
    for (auto& f : futures)
      out.push_back(f.get());
    return out;
  }

  std::unique_ptr<StoreHarness> h_;
};

// --- schema ------------------------------------------------------------------------------------

TEST_P(StoreBehaviour, MigrationsApplyOnceAndReportApplied) {
  EXPECT_TRUE(run(store().migrate_up()).empty());
  const auto status = run(store().migration_status());
  ASSERT_FALSE(status.empty());
  for (const auto& s : status)
    EXPECT_EQ(s.state, MigrationState::kApplied) << s.name;
  EXPECT_NO_THROW(run(store().ping()));
}

TEST_P(StoreBehaviour, TamperedAppliedMigrationStopsWithTheFileName) {
  h_->execute_raw("UPDATE schema_migrations SET checksum = 'tampered' WHERE version = 1");
  auto other = h_->open_another();
  try {
    (void)run(other->migrate_up());
    FAIL() << "a tampered migration must stop start-up";
  } catch (const MigrationError& e) {
    EXPECT_NE(std::string(e.what()).find("0001_initial.sql"), std::string::npos) << e.what();
  }
  const auto status = run(other->migration_status());
  EXPECT_EQ(status.front().state, MigrationState::kChanged);
}

TEST_P(StoreBehaviour, ConcurrentNodesApplyMigrationsOnce) {
  StoreHarness fresh(GetParam(), 2, /*migrate=*/false);
  auto other = fresh.open_another();
  Store& a = fresh.store();
  Store& b = *other;
  auto fa = boost::asio::co_spawn(fresh.io(), a.migrate_up(), boost::asio::use_future);
  auto fb = boost::asio::co_spawn(fresh.io(), b.migrate_up(), boost::asio::use_future);
  const auto applied_a = fa.get();
  const auto applied_b = fb.get();
  const auto known = migrations_for(std::string(a.dialect()));
  EXPECT_EQ(applied_a.size() + applied_b.size(), known.size());
  for (const auto& s : fresh.run(b.migration_status()))
    EXPECT_EQ(s.state, MigrationState::kApplied) << s.name;
}

// --- users -------------------------------------------------------------------------------------

TEST_P(StoreBehaviour, UpsertCreatesThenRefreshesTheProfile) {
  const User created = make_user(1001, "Ann");
  EXPECT_GT(created.id, 0);
  EXPECT_EQ(created.first_name, "Ann");
  EXPECT_EQ(created.settings_json, "{}");
  EXPECT_FALSE(created.banned);
  EXPECT_EQ(created.created_at, h_->clock().now());
  h_->clock().advance(1h);
  const User again = run(store().upsert_user(TelegramIdentity{1001, "Anna", "Lee", std::nullopt, "en"}));
  EXPECT_EQ(again.id, created.id);
  EXPECT_EQ(again.first_name, "Anna");
  EXPECT_EQ(again.last_name, "Lee");
  EXPECT_EQ(again.username, std::nullopt);
  EXPECT_EQ(again.created_at, created.created_at);
  EXPECT_EQ(again.updated_at, h_->clock().now());
  EXPECT_EQ(run(store().find_user_by_telegram_id(1001))->id, created.id);
  EXPECT_FALSE(run(store().find_user(created.id + 1000)).has_value());
}

TEST_P(StoreBehaviour, SettingsBanAndPremium) {
  const User u = make_user(1002);
  EXPECT_TRUE(run(store().update_user_settings(u.id, R"({"persona":"friend","voice_replies":true})")));
  EXPECT_THROW(run(store().update_user_settings(u.id, "[1,2]")), core::Error);
  EXPECT_FALSE(run(store().update_user_settings(u.id + 999, "{}")));
  EXPECT_TRUE(run(store().set_user_banned(u.id, true)));
  auto found = *run(store().find_user(u.id));
  EXPECT_TRUE(found.banned);
  EXPECT_NE(found.settings_json.find("friend"), std::string::npos);
  EXPECT_TRUE(run(store().set_user_banned(u.id, false)));
  EXPECT_FALSE(run(store().find_user(u.id))->banned);

  const Time now = h_->clock().now();
  EXPECT_EQ(run(store().grant_premium(u.id, std::chrono::days(30))), now + std::chrono::days(30));
  EXPECT_EQ(run(store().grant_premium(u.id, std::chrono::days(1))), now + std::chrono::days(31));
  EXPECT_TRUE(run(store().find_user(u.id))->premium_at(now));
  EXPECT_TRUE(run(store().set_premium_until(u.id, std::nullopt)));
  EXPECT_FALSE(run(store().find_user(u.id))->premium_until.has_value());
  EXPECT_FALSE(run(store().grant_premium(u.id + 999, std::chrono::days(1))).has_value());
}

TEST_P(StoreBehaviour, ListUsersFiltersAndPages) {
  const User a = make_user(2001, "Alice");
  const User b = make_user(2002, "Bob");
  const User c = make_user(2003, "Carol_100%");
  run(store().grant_premium(b.id, std::chrono::days(3)));
  auto all = run(store().list_users(UserListQuery{}));
  ASSERT_EQ(all.size(), 3U);
  EXPECT_EQ(all[0].id, c.id);  // newest first
  auto page = run(store().list_users(UserListQuery{std::nullopt, std::nullopt, c.id, 1}));
  ASSERT_EQ(page.size(), 1U);
  EXPECT_EQ(page[0].id, b.id);
  auto premium = run(store().list_users(UserListQuery{std::nullopt, true, std::nullopt, 10}));
  ASSERT_EQ(premium.size(), 1U);
  EXPECT_EQ(premium[0].id, b.id);
  EXPECT_EQ(run(store().list_users(UserListQuery{std::nullopt, false, std::nullopt, 10})).size(), 2U);
  auto by_name = run(store().list_users(UserListQuery{"ali", std::nullopt, std::nullopt, 10}));
  ASSERT_EQ(by_name.size(), 1U);
  EXPECT_EQ(by_name[0].id, a.id);
  EXPECT_EQ(run(store().list_users(UserListQuery{"0%", std::nullopt, std::nullopt, 10})).size(), 1U);
  EXPECT_EQ(run(store().list_users(UserListQuery{"%", std::nullopt, std::nullopt, 10})).size(), 1U);
  EXPECT_EQ(run(store().list_users(UserListQuery{"2002", std::nullopt, std::nullopt, 10}))[0].id, b.id);
}

// --- quota -------------------------------------------------------------------------------------

TEST_P(StoreBehaviour, QuotaStopsAtTheFreeLimit) {
  const User u = make_user(3001);
  for (int i = 1; i <= 3; ++i) {
    const auto g = run(store().take_quota_unit(u.id, 3));
    EXPECT_TRUE(g.granted);
    EXPECT_EQ(g.used, i);
    EXPECT_FALSE(g.unlimited);
  }
  const auto denied = run(store().take_quota_unit(u.id, 3));
  EXPECT_FALSE(denied.granted);
  EXPECT_EQ(denied.used, 3);
  EXPECT_EQ(denied.resets_at, Time(std::chrono::sys_days(std::chrono::year(2024) / 5 / 11)));
  EXPECT_FALSE(run(store().take_quota_unit(u.id + 999, 3)).granted);
}

TEST_P(StoreBehaviour, QuotaDayRollsOverAtUtcMidnight) {
  const User u = make_user(3002);
  h_->clock().set(Time(std::chrono::sys_days(std::chrono::year(2024) / 5 / 10)) + 23h + 59min);
  EXPECT_TRUE(run(store().take_quota_unit(u.id, 2)).granted);
  EXPECT_TRUE(run(store().take_quota_unit(u.id, 2)).granted);
  EXPECT_FALSE(run(store().take_quota_unit(u.id, 2)).granted);
  h_->clock().advance(2min);  // 00:01 the next day
  const auto g = run(store().take_quota_unit(u.id, 2));
  EXPECT_TRUE(g.granted);
  EXPECT_EQ(g.used, 1);
  EXPECT_EQ(g.day, std::chrono::sys_days(std::chrono::year(2024) / 5 / 11));
  const auto user = *run(store().find_user(u.id));
  EXPECT_EQ(user.usage_count, 1);
  EXPECT_EQ(user.usage_day, g.day);
}

TEST_P(StoreBehaviour, QuotaGiveBackOnlyOnTheSameDay) {
  const User u = make_user(3003);
  const auto g1 = run(store().take_quota_unit(u.id, 1));
  ASSERT_TRUE(g1.granted);
  EXPECT_FALSE(run(store().take_quota_unit(u.id, 1)).granted);
  run(store().give_back_quota_unit(u.id, g1.day));
  const auto g2 = run(store().take_quota_unit(u.id, 1));
  EXPECT_TRUE(g2.granted);
  h_->clock().advance(24h);
  const auto g3 = run(store().take_quota_unit(u.id, 1));
  ASSERT_TRUE(g3.granted);
  run(store().give_back_quota_unit(u.id, g2.day));  // yesterday's unit: no effect today
  EXPECT_FALSE(run(store().take_quota_unit(u.id, 1)).granted);
}

TEST_P(StoreBehaviour, PremiumIsUnlimitedButCounted) {
  const User u = make_user(3004);
  run(store().grant_premium(u.id, std::chrono::days(1)));
  for (int i = 0; i < 5; ++i) {
    const auto g = run(store().take_quota_unit(u.id, 2));
    EXPECT_TRUE(g.granted);
    EXPECT_TRUE(g.unlimited);
  }
  EXPECT_EQ(run(store().find_user(u.id))->usage_count, 5);
  h_->clock().advance(std::chrono::days(2));  // premium over: the free limit applies again
  EXPECT_TRUE(run(store().take_quota_unit(u.id, 1)).granted);
  EXPECT_FALSE(run(store().take_quota_unit(u.id, 1)).granted);
}

TEST_P(StoreBehaviour, ConcurrentQuotaWorkersGrantExactlyTheLimit) {
  const User u = make_user(3005);
  Store& s = store();
  const UserId id = u.id;
  const auto granted = concurrently(8, [&s, id](int) -> Task<int> {
    int n = 0;
    for (int i = 0; i < 500; ++i) {
      if ((co_await s.take_quota_unit(id, 1000)).granted)
        ++n;
    }
    co_return n;
  });
  int total = 0;
  for (int n : granted)
    total += n;
  EXPECT_EQ(total, 1000);
  EXPECT_EQ(run(store().find_user(u.id))->usage_count, 1000);
}

// --- named daily allowances --------------------------------------------------------------------

TEST_P(StoreBehaviour, DailyUnitsStopAtTheLimitPerCounterAndLeaveTheMessageQuotaAlone) {
  const User u = make_user(3101);
  for (int i = 1; i <= 2; ++i) {
    const auto g = run(store().take_daily_unit(u.id, "tts", 2));
    EXPECT_TRUE(g.granted);
    EXPECT_FALSE(g.unlimited);
    EXPECT_EQ(g.used, i);
    EXPECT_EQ(g.day, std::chrono::sys_days(std::chrono::year(2024) / 5 / 10));
  }
  const auto denied = run(store().take_daily_unit(u.id, "tts", 2));
  EXPECT_FALSE(denied.granted);
  EXPECT_EQ(denied.used, 2);
  EXPECT_EQ(denied.resets_at, Time(std::chrono::sys_days(std::chrono::year(2024) / 5 / 11)));
  // Another counter of the same user, and another user, count on their own.
  EXPECT_TRUE(run(store().take_daily_unit(u.id, "images", 2)).granted);
  EXPECT_TRUE(run(store().take_daily_unit(make_user(3102).id, "tts", 2)).granted);
  EXPECT_EQ(run(store().find_user(u.id))->usage_count, 0);
  EXPECT_TRUE(run(store().take_quota_unit(u.id, 1)).granted);
  EXPECT_FALSE(run(store().take_daily_unit(u.id, "tts", 2)).granted);
}

TEST_P(StoreBehaviour, DailyUnitsAreRefusedToMissingUsersWithAZeroLimitAndForBadNames) {
  const User u = make_user(3103);
  EXPECT_FALSE(run(store().take_daily_unit(u.id + 999, "tts", 5)).granted);
  const auto none = run(store().take_daily_unit(u.id, "tts", 0));
  EXPECT_FALSE(none.granted);
  EXPECT_EQ(none.used, 0);
  for (const std::string& bad : std::vector<std::string>{"", "TTS", "with space", std::string(33, 'a'), "x;y"}) {
    EXPECT_THROW((void)run(store().take_daily_unit(u.id, bad, 5)), core::Error) << bad;
  }
}

TEST_P(StoreBehaviour, DailyUnitsRollOverAtUtcMidnightAndGiveBackOnlyTheSameDay) {
  const User u = make_user(3104);
  h_->clock().set(Time(std::chrono::sys_days(std::chrono::year(2024) / 5 / 10)) + 23h + 59min);
  const auto first = run(store().take_daily_unit(u.id, "tts", 1));
  ASSERT_TRUE(first.granted);
  EXPECT_FALSE(run(store().take_daily_unit(u.id, "tts", 1)).granted);
  run(store().give_back_daily_unit(u.id, "tts", first.day));
  const auto again = run(store().take_daily_unit(u.id, "tts", 1));
  ASSERT_TRUE(again.granted);
  EXPECT_EQ(again.used, 1);
  h_->clock().advance(2min);  // 00:01 the next day
  const auto next_day = run(store().take_daily_unit(u.id, "tts", 1));
  ASSERT_TRUE(next_day.granted);
  EXPECT_EQ(next_day.used, 1);
  EXPECT_EQ(next_day.day, std::chrono::sys_days(std::chrono::year(2024) / 5 / 11));
  run(store().give_back_daily_unit(u.id, "tts", again.day));  // yesterday's unit: no effect today
  EXPECT_FALSE(run(store().take_daily_unit(u.id, "tts", 1)).granted);
  run(store().give_back_daily_unit(u.id, "images", next_day.day));  // another counter: no effect
  EXPECT_FALSE(run(store().take_daily_unit(u.id, "tts", 1)).granted);
}

TEST_P(StoreBehaviour, PremiumDailyUnitsAreUnlimitedButCounted) {
  const User u = make_user(3105);
  run(store().grant_premium(u.id, std::chrono::days(1)));
  for (int i = 1; i <= 4; ++i) {
    const auto g = run(store().take_daily_unit(u.id, "tts", 1));
    EXPECT_TRUE(g.granted);
    EXPECT_TRUE(g.unlimited);
    EXPECT_EQ(g.used, i);
  }
  EXPECT_TRUE(run(store().take_daily_unit(u.id, "other", 0)).granted);
  h_->clock().advance(std::chrono::days(2));  // premium over: the free limit applies again
  EXPECT_TRUE(run(store().take_daily_unit(u.id, "tts", 1)).granted);
  EXPECT_FALSE(run(store().take_daily_unit(u.id, "tts", 1)).granted);
}

TEST_P(StoreBehaviour, ConcurrentDailyUnitTakersGrantExactlyTheLimit) {
  const User u = make_user(3106);
  Store& s = store();
  const UserId id = u.id;
  // Every worker starts on a day with no row yet, so the first inserts race as well.
  const auto granted = concurrently(8, [&s, id](int) -> Task<int> {
    int n = 0;
    for (int i = 0; i < 100; ++i) {
      if ((co_await s.take_daily_unit(id, "tts", 250)).granted)
        ++n;
    }
    co_return n;
  });
  int total = 0;
  for (int n : granted)
    total += n;
  EXPECT_EQ(total, 250);
  EXPECT_EQ(run(store().take_daily_unit(u.id, "tts", 250)).used, 250);
}

// --- messages ----------------------------------------------------------------------------------

TEST_P(StoreBehaviour, InsertIsIdempotentByClientMessageId) {
  const User u = make_user(4001);
  NewMessage m{u.id, Role::kUser, "hello there", true, 0, MessageStatus::kPending, "c-1", std::nullopt};
  const auto first = run(store().insert_message(m));
  EXPECT_TRUE(first.created);
  EXPECT_EQ(first.message.content, "hello there");
  EXPECT_TRUE(first.message.has_image);
  EXPECT_EQ(first.message.status, MessageStatus::kPending);
  m.content = "a different text";
  const auto second = run(store().insert_message(m));
  EXPECT_FALSE(second.created);
  EXPECT_EQ(second.message.id, first.message.id);
  EXPECT_EQ(second.message.content, "hello there");
  EXPECT_EQ(run(store().count_messages(u.id)), 1);
  // no client id: every insert is a new row
  add_message(u.id, "x");
  add_message(u.id, "x");
  EXPECT_EQ(run(store().count_messages(u.id)), 3);
}

TEST_P(StoreBehaviour, ConcurrentRepeatsOfOneClientMessageStoreOneRow) {
  const User u = make_user(4002);
  Store& s = store();
  const UserId id = u.id;
  const auto results = concurrently(8, [&s, id](int) -> Task<InsertedMessage> {
    // Arguments are named locals: GCC 12 mishandles temporaries inside co_await expressions.
    const NewMessage m{id, Role::kUser, "same", false, 0, MessageStatus::kPending, "c-dup", std::nullopt};
    co_return co_await s.insert_message(m);
  });
  int created = 0;
  for (const auto& r : results) {
    created += r.created ? 1 : 0;
    EXPECT_EQ(r.message.id, results.front().message.id);
  }
  EXPECT_EQ(created, 1);
  EXPECT_EQ(run(store().count_messages(u.id)), 1);
}

TEST_P(StoreBehaviour, MessageValidation) {
  const User u = make_user(4003);
  NewMessage m{u.id, Role::kUser, "ok", false, 0, MessageStatus::kComplete, std::string(65, 'x'), std::nullopt};
  EXPECT_THROW(run(store().insert_message(m)), core::Error);
  m.client_message_id.reset();
  m.content = std::string("bad\xFF", 4);
  EXPECT_THROW(run(store().insert_message(m)), core::Error);
  m.content = std::string("nul\0byte", 8);
  EXPECT_THROW(run(store().insert_message(m)), core::Error);
}

TEST_P(StoreBehaviour, StatusRepliesRecentHistoryAndTail) {
  const User u = make_user(4004);
  const Message q = add_message(u.id, "question", Role::kUser, "c-q");
  NewMessage reply{u.id, Role::kAssistant, "answer", false, 12, MessageStatus::kComplete, std::nullopt, q.id};
  const Message a = run(store().insert_message(reply)).message;
  EXPECT_TRUE(run(store().set_message_status(u.id, q.id, MessageStatus::kComplete, 7)));
  const auto stored_q = *run(store().find_message_by_client_id(u.id, "c-q"));
  EXPECT_EQ(stored_q.status, MessageStatus::kComplete);
  EXPECT_EQ(stored_q.tokens, 7);
  const auto found_reply = run(store().find_reply(u.id, q.id));
  ASSERT_TRUE(found_reply.has_value());
  EXPECT_EQ(found_reply->id, a.id);
  EXPECT_EQ(found_reply->role, Role::kAssistant);
  EXPECT_EQ(found_reply->tokens, 12);

  for (int i = 0; i < 8; ++i)
    add_message(u.id, "m" + std::to_string(i));  // 2-byte contents
  const auto recent = run(store().recent_messages(u.id, 4, std::nullopt));
  ASSERT_EQ(recent.size(), 4U);
  EXPECT_EQ(recent.front().content, "m4");  // oldest first
  EXPECT_EQ(recent.back().content, "m7");
  const auto budgeted = run(store().recent_messages(u.id, 10, 5));
  ASSERT_EQ(budgeted.size(), 2U);
  EXPECT_EQ(budgeted.back().content, "m7");

  const auto p1 = run(store().history_page(u.id, std::nullopt, 4));
  ASSERT_EQ(p1.messages.size(), 4U);
  EXPECT_EQ(p1.messages.front().content, "m7");  // newest first
  ASSERT_TRUE(p1.next_before_id.has_value());
  const auto p2 = run(store().history_page(u.id, p1.next_before_id, 4));
  ASSERT_EQ(p2.messages.size(), 4U);
  EXPECT_EQ(p2.messages.front().content, "m3");
  const auto p3 = run(store().history_page(u.id, p2.next_before_id, 4));
  EXPECT_EQ(p3.messages.size(), 2U);
  EXPECT_FALSE(p3.next_before_id.has_value());

  const auto tail = run(store().messages_after(u.id, a.id, 3));
  ASSERT_EQ(tail.size(), 3U);
  EXPECT_EQ(tail.front().content, "m0");
  EXPECT_EQ(run(store().count_messages(u.id, a.id)), 8);
  EXPECT_EQ(run(store().count_messages(u.id)), 10);
}

TEST_P(StoreBehaviour, DeleteUserDataForgetsMessagesAndMemory) {
  const User u = make_user(4005);
  const User other = make_user(4006);
  add_message(u.id, "one");
  add_message(u.id, "two");
  add_message(other.id, "keep");
  ASSERT_TRUE(run(store().write_memory(MemoryWrite{u.id, 0, "sum", {{"f1", "fact", false}}, 1})).has_value());
  const auto deleted = run(store().delete_user_data(u.id));
  EXPECT_EQ(deleted.messages, 2);
  EXPECT_TRUE(deleted.memory);
  EXPECT_EQ(run(store().count_messages(u.id)), 0);
  EXPECT_EQ(run(store().get_memory(u.id)).version, 0);
  EXPECT_TRUE(run(store().search_messages(u.id, "one", 10)).empty());
  EXPECT_EQ(run(store().count_messages(other.id)), 1);
  EXPECT_TRUE(run(store().find_user(u.id)).has_value());  // the account stays
}

// --- memory ------------------------------------------------------------------------------------

TEST_P(StoreBehaviour, MemoryWritesAreVersioned) {
  const User u = make_user(5001);
  const auto empty = run(store().get_memory(u.id));
  EXPECT_EQ(empty.version, 0);
  EXPECT_TRUE(empty.summary.empty());
  const std::vector<Fact> facts{{"a1", "likes jazz", false}, {"b2", "Омск", true}};
  const auto v1 = run(store().write_memory(MemoryWrite{u.id, 0, "likes jazz", facts, 10}));
  ASSERT_EQ(v1, 1);
  const auto m1 = run(store().get_memory(u.id));
  EXPECT_EQ(m1.summary, "likes jazz");
  EXPECT_EQ(m1.facts, facts);
  EXPECT_EQ(m1.last_summarized_message_id, 10);
  EXPECT_EQ(m1.updated_at, h_->clock().now());
  EXPECT_EQ(run(store().write_memory(MemoryWrite{u.id, 1, "v2", {}, 20})), 2);
  // a writer still holding version 1 (or 0) conflicts
  EXPECT_FALSE(run(store().write_memory(MemoryWrite{u.id, 1, "stale", {}, 15})).has_value());
  EXPECT_FALSE(run(store().write_memory(MemoryWrite{u.id, 0, "stale", {}, 15})).has_value());
  EXPECT_EQ(run(store().get_memory(u.id)).summary, "v2");
}

TEST_P(StoreBehaviour, MemoryRejectsMalformedOrDuplicateFactIds) {
  const User u = make_user(5003);
  const std::vector<std::vector<Fact>> bad{
      {{"", "no id", false}},
      {{"has space", "x", false}},
      {{std::string(33, 'a'), "too long id", false}},
      {{"same", "one", false}, {"same", "two", false}},
      {{"ok", std::string("nul\0inside", 10), false}},
  };
  for (const auto& facts : bad) {
    EXPECT_THROW(run(store().write_memory(MemoryWrite{u.id, 0, "s", facts, 0})), core::Error);
  }
  EXPECT_EQ(run(store().get_memory(u.id)).version, 0);
}

TEST_P(StoreBehaviour, FactsStoredAsPlainStringsReadAsUnpinnedFactsWithStableIds) {
  const User u = make_user(5004);
  ASSERT_EQ(run(store().write_memory(MemoryWrite{u.id, 0, "s", {}, 0})), 1);
  h_->execute_raw("UPDATE memories SET facts = '[\"likes jazz\", \"lives in Omsk\"]' WHERE user_id = " +
                  std::to_string(u.id));
  const auto before = run(store().get_memory(u.id));
  ASSERT_EQ(before.facts.size(), 2U);
  EXPECT_EQ(before.facts[0].text, "likes jazz");
  EXPECT_FALSE(before.facts[0].pinned);
  EXPECT_NE(before.facts[0].id, before.facts[1].id);
  EXPECT_EQ(run(store().get_memory(u.id)).facts, before.facts);
  // Written back as read, the facts keep their ids and become objects.
  auto facts = before.facts;
  facts[1].pinned = true;
  ASSERT_EQ(run(store().write_memory(MemoryWrite{u.id, before.version, "s", facts, 0})), 2);
  EXPECT_EQ(run(store().get_memory(u.id)).facts, facts);
}

TEST_P(StoreBehaviour, TwoSummaryWritersOnOneVersionOneWinsOneConflicts) {
  const User u = make_user(5002);
  ASSERT_EQ(run(store().write_memory(MemoryWrite{u.id, 0, "base", {}, 1})), 1);
  Store& s = store();
  const UserId id = u.id;
  for (int round = 0; round < 5; ++round) {
    const std::int64_t base = run(store().get_memory(u.id)).version;
    const auto results = concurrently(2, [&s, id, base](int i) -> Task<std::optional<std::int64_t>> {
      const MemoryWrite w{id, base, "writer " + std::to_string(i), {}, 2};
      co_return co_await s.write_memory(w);
    });
    const int wins =
        static_cast<int>(std::count_if(results.begin(), results.end(), [](auto& r) { return r.has_value(); }));
    EXPECT_EQ(wins, 1);
    EXPECT_EQ(run(store().get_memory(u.id)).version, base + 1);
  }
}

TEST_P(StoreBehaviour, FirstSummaryWritersRaceOnVersionZero) {
  const User u = make_user(5003);
  Store& s = store();
  const UserId id = u.id;
  const auto results = concurrently(4, [&s, id](int i) -> Task<std::optional<std::int64_t>> {
    const MemoryWrite w{id, 0, "w" + std::to_string(i), {}, 1};
    co_return co_await s.write_memory(w);
  });
  EXPECT_EQ(std::count_if(results.begin(), results.end(), [](auto& r) { return r.has_value(); }), 1);
}

// --- turn context and search --------------------------------------------------------------------

TEST_P(StoreBehaviour, TurnContextReadsEverythingTogether) {
  const User u = make_user(6001);
  add_message(u.id, "I adore jazz music and saxophones");
  add_message(u.id, "the weather is grey");
  add_message(u.id, "my cat is called Tom");
  for (int i = 0; i < 3; ++i)
    add_message(u.id, "recent " + std::to_string(i));
  ASSERT_TRUE(run(store().write_memory(MemoryWrite{u.id, 0, "summary", {{"f1", "has a cat", false}}, 2})).has_value());
  const auto ctx = run(store().load_turn_context(u.id, 3, "Any new jazz records? Also, how is Tom?", 5));
  ASSERT_TRUE(ctx.user.has_value());
  EXPECT_EQ(ctx.user->id, u.id);
  EXPECT_EQ(ctx.memory.summary, "summary");
  ASSERT_EQ(ctx.recent.size(), 3U);
  EXPECT_EQ(ctx.recent.front().content, "recent 0");
  std::set<std::string> relevant;
  for (const auto& m : ctx.relevant)
    relevant.insert(m.content);
  EXPECT_EQ(relevant, (std::set<std::string>{"I adore jazz music and saxophones", "my cat is called Tom"}));
  // nothing relevant, unknown user
  EXPECT_TRUE(run(store().load_turn_context(u.id, 3, "!!! ??", 5)).relevant.empty());
  const auto none = run(store().load_turn_context(u.id + 999, 3, "jazz", 5));
  EXPECT_FALSE(none.user.has_value());
  EXPECT_TRUE(none.recent.empty());
  EXPECT_TRUE(none.relevant.empty());
}

TEST_P(StoreBehaviour, SearchRanksAndMarksMatches) {
  const User u = make_user(6002);
  add_message(u.id, "I like <b>jazz</b> & blues");
  add_message(u.id, "jazz jazz jazz every day, jazz forever");
  add_message(u.id, "nothing to see");
  const auto hits = run(store().search_messages(u.id, "jazz", 10));
  ASSERT_EQ(hits.size(), 2U);
  EXPECT_GE(hits[0].rank, hits[1].rank);
  for (const auto& h : hits)
    EXPECT_NE(h.snippet_html.find("<mark>jazz</mark>"), std::string::npos) << h.snippet_html;
  const auto html =
      std::find_if(hits.begin(), hits.end(), [](auto& h) { return h.snippet_html.find("blues") != std::string::npos; });
  ASSERT_NE(html, hits.end());
  EXPECT_NE(html->snippet_html.find("&amp; blues"), std::string::npos) << html->snippet_html;
  // SQLite shows the tag escaped; PostgreSQL's parser drops markup from headlines altogether.
  EXPECT_EQ(html->snippet_html.find("<b>"), std::string::npos) << html->snippet_html;
  if (GetParam() == Engine::kSqlite) {
    EXPECT_NE(html->snippet_html.find("&lt;b&gt;"), std::string::npos) << html->snippet_html;
  }
  // every word must match
  EXPECT_EQ(run(store().search_messages(u.id, "jazz blues", 10)).size(), 1U);
  EXPECT_TRUE(run(store().search_messages(u.id, "jazz polka", 10)).empty());
  EXPECT_EQ(run(store().search_messages(u.id, "JAZZ", 10)).size(), 2U);
  EXPECT_EQ(run(store().search_messages(u.id, "jazz", 1)).size(), 1U);
}

// The index holds each message's owner as a token of its own (SQLite: column `owner`, value
// `u<id>`; PostgreSQL: lexeme `@<id>`): no typed word may reach it, and no query may reach past it.
TEST_P(StoreBehaviour, SearchStaysWithinTheUsersMessagesWhateverIsTyped) {
  const User ann = make_user(6010, "Ann");
  const User bob = make_user(6011, "Bob");
  const std::string ann_token = "u" + std::to_string(ann.id);
  const std::string ann_lexeme = "@" + std::to_string(ann.id);
  add_message(ann.id, "jazz on the radio");
  add_message(ann.id, "a quiet evening");
  add_message(bob.id, "jazz and " + ann_token + " and " + ann_lexeme + " and owner content");
  add_message(bob.id, "nothing about music");

  // Words that name the owner token, column or lexeme find only what the user actually wrote.
  for (const std::string& typed : {ann_token, ann_lexeme, std::string("owner"), std::string("content"),
                                   "owner:" + ann_token, "owner : " + ann_token, std::string("u")}) {
    EXPECT_TRUE(run(store().search_messages(ann.id, typed, 10)).empty()) << typed;
    EXPECT_TRUE(run(store().load_turn_context(ann.id, 0, typed, 10)).relevant.empty()) << typed;
  }
  if (GetParam() == Engine::kPostgres) {
    // PostgreSQL reads `-word` as "without": still only among the user's own messages.
    const auto without_jazz = run(store().search_messages(ann.id, "-jazz", 10));
    ASSERT_EQ(without_jazz.size(), 1U);
    EXPECT_NE(without_jazz[0].snippet_html.find("evening"), std::string::npos);
  }
  // The same word finds each user's own message only.
  const auto ann_jazz = run(store().search_messages(ann.id, "jazz", 10));
  ASSERT_EQ(ann_jazz.size(), 1U);
  EXPECT_NE(ann_jazz[0].snippet_html.find("radio"), std::string::npos);
  const auto bob_jazz = run(store().load_turn_context(bob.id, 0, "jazz owner", 10)).relevant;
  ASSERT_EQ(bob_jazz.size(), 1U);
  EXPECT_EQ(bob_jazz[0].user_id, bob.id);
  // Bob's text that spells Ann's owner token is his own message, found as text by him alone.
  ASSERT_EQ(run(store().search_messages(bob.id, ann_token, 10)).size(), 1U);
  // Editing and deleting keep the index in step: a deleted user's words are gone from search.
  run(store().delete_user_data(bob.id));
  EXPECT_TRUE(run(store().search_messages(bob.id, "jazz", 10)).empty());
  EXPECT_EQ(run(store().search_messages(ann.id, "jazz", 10)).size(), 1U);
}

/// True when `html`, with the <mark> tags taken out, holds no markup at all.
bool only_marks_are_markup(std::string html) {
  for (const std::string tag : {"<mark>", "</mark>"}) {
    for (auto pos = html.find(tag); pos != std::string::npos; pos = html.find(tag))
      html.erase(pos, tag.size());
  }
  return html.find('<') == std::string::npos && html.find('>') == std::string::npos &&
         html.find('"') == std::string::npos;
}

TEST_P(StoreBehaviour, HostileSearchInputsNeverFailAndSnippetsStayEscaped) {
  const User u = make_user(6003);
  const std::vector<std::string> contents = {"<script>alert('x')</script> search me",
                                             "\"quoted\" words & <b>bold</b> OR 1=1 --",
                                             "Привет мир, как дела? jazz",
                                             "emoji 🙂 party 🎉 with friends",
                                             "NEAR(a b) AND * NOT ^col:x",
                                             "mixed Ελληνικά 中文 עברית text"};
  for (const auto& c : contents)
    add_message(u.id, c);
  const std::vector<std::string> hostile = {
      "' OR 1=1 --",
      "\"unclosed",
      "a & | ! b",
      "*",
      "NEAR(",
      "NEAR(a b, 3)",
      "<script>",
      "script",
      std::string(10 * 1024, 'a'),
      std::string(10 * 1024, ' ') + "jazz",
      std::string("ctrl\x01\x02\x03\x1f\x7f chars"),
      std::string("nul\0inside", 10),
      std::string("bad \xFF\xFE utf8 \xC0\xAF"),
      "🙂",
      "🙂 party",
      "Привет",
      "привет мир",
      "中文",
      "Ελληνικά",
      "mixed Ελληνικά 中文",
      "\"\"",
      "\"\"\"",
      "()",
      "(((((",
      ")",
      "-",
      "-jazz",
      "+jazz",
      "jazz*",
      "^col",
      "col:x",
      "a:b:c",
      "AND",
      "OR",
      "NOT",
      "AND OR NOT",
      "!!",
      "&&",
      "||",
      "<->",
      "a <-> b",
      "a <2> b",
      "'; DROP TABLE messages; --",
      "\\",
      "\\\"",
      "%",
      "_",
      "\xEE\x80\x80 marker \xEE\x80\x81",
      "   ",
      "",
      "{near}",
      "search & me",
      "quoted \"words\"",
      "b>bold</b",
  };
  ASSERT_GE(hostile.size(), 30U);
  for (const auto& q : hostile) {
    std::vector<SearchHit> hits;
    EXPECT_NO_THROW(hits = run(store().search_messages(u.id, q, 20))) << "query: " << q;
    for (const auto& hit : hits) {
      EXPECT_TRUE(only_marks_are_markup(hit.snippet_html)) << "query: " << q << " snippet: " << hit.snippet_html;
    }
    EXPECT_NO_THROW(run(store().load_turn_context(u.id, 1, q, 5))) << "query: " << q;
  }
  const auto script = run(store().search_messages(u.id, "search me", 5));
  ASSERT_EQ(script.size(), 1U);
  EXPECT_EQ(script[0].snippet_html.find("<script"), std::string::npos) << script[0].snippet_html;
  EXPECT_NE(script[0].snippet_html.find("<mark>search</mark>"), std::string::npos) << script[0].snippet_html;
  if (GetParam() == Engine::kSqlite) {
    EXPECT_NE(script[0].snippet_html.find("&lt;script&gt;"), std::string::npos) << script[0].snippet_html;
  }
  EXPECT_EQ(run(store().search_messages(u.id, "Привет", 5)).size(), 1U);
  EXPECT_EQ(run(store().search_messages(u.id, "привет", 5)).size(), 1U);
}

// --- isolation ---------------------------------------------------------------------------------

TEST_P(StoreBehaviour, AUserNeverSeesAnotherUsersMessages) {
  const User alice = make_user(7001, "Alice");
  const User bob = make_user(7002, "Bob");
  const Message bob_q = add_message(bob.id, "bob secret jazz plans", Role::kUser, "bob-1");
  run(store().insert_message(NewMessage{bob.id, Role::kAssistant, "bob jazz reply", false, 0, MessageStatus::kComplete,
                                        std::nullopt, bob_q.id}));
  add_message(alice.id, "alice talks about jazz too");
  const auto only_alice = [&](const std::vector<Message>& ms) {
    for (const auto& m : ms)
      EXPECT_EQ(m.user_id, alice.id) << m.content;
  };
  only_alice(run(store().recent_messages(alice.id, 100, std::nullopt)));
  only_alice(run(store().history_page(alice.id, std::nullopt, 100)).messages);
  only_alice(run(store().messages_after(alice.id, 0, 100)));
  const auto ctx = run(store().load_turn_context(alice.id, 0, "bob secret jazz plans reply", 10));
  only_alice(ctx.recent);
  only_alice(ctx.relevant);
  for (const auto& hit : run(store().search_messages(alice.id, "jazz", 100))) {
    EXPECT_EQ(hit.snippet_html.find("bob"), std::string::npos);
  }
  EXPECT_TRUE(run(store().search_messages(alice.id, "secret", 100)).empty());
  EXPECT_FALSE(run(store().find_message_by_client_id(alice.id, "bob-1")).has_value());
  EXPECT_FALSE(run(store().find_reply(alice.id, bob_q.id)).has_value());
  EXPECT_FALSE(run(store().set_message_status(alice.id, bob_q.id, MessageStatus::kFailed, 1)));
  EXPECT_EQ(run(store().find_message_by_client_id(bob.id, "bob-1"))->status, MessageStatus::kComplete);
  EXPECT_EQ(run(store().count_messages(alice.id)), 1);
  // Alice reusing Bob's client id creates her own message
  const auto mine = run(store().insert_message(
      NewMessage{alice.id, Role::kUser, "mine", false, 0, MessageStatus::kComplete, "bob-1", std::nullopt}));
  EXPECT_TRUE(mine.created);
  EXPECT_EQ(mine.message.user_id, alice.id);
  run(store().delete_user_data(alice.id));
  EXPECT_EQ(run(store().count_messages(bob.id)), 2);
  const auto exported = run(store().export_user_data(alice.id));
  ASSERT_TRUE(exported.has_value());
  only_alice(exported->messages);
}

// --- payments ----------------------------------------------------------------------------------

NewPayment payment(UserId user, std::string charge, std::int64_t days = 30) {
  return NewPayment{std::move(charge), "provider-1", user, "XTR", 250, "month", days};
}

TEST_P(StoreBehaviour, PaymentAppliesOnceAndExtendsPremium) {
  const User u = make_user(8001);
  const Time now = h_->clock().now();
  const auto first = run(store().apply_payment(payment(u.id, "charge-1")));
  EXPECT_TRUE(first.applied);
  EXPECT_EQ(first.payment.status, PaymentStatus::kPaid);
  EXPECT_EQ(first.premium_until, now + std::chrono::days(30));
  const auto again = run(store().apply_payment(payment(u.id, "charge-1")));
  EXPECT_FALSE(again.applied);
  EXPECT_EQ(again.payment.id, first.payment.id);
  EXPECT_EQ(again.premium_until, now + std::chrono::days(30));
  const auto second = run(store().apply_payment(payment(u.id, "charge-2", 10)));
  EXPECT_EQ(second.premium_until, now + std::chrono::days(40));
  EXPECT_EQ(run(store().list_payments(u.id, std::nullopt, 10)).size(), 2U);
  EXPECT_EQ(run(store().find_payment("charge-2"))->days, 10);

  const auto refund = run(store().refund_payment("charge-2"));
  EXPECT_TRUE(refund.refunded);
  EXPECT_EQ(refund.payment->status, PaymentStatus::kRefunded);
  EXPECT_EQ(refund.premium_until, now + std::chrono::days(30));
  EXPECT_FALSE(run(store().refund_payment("charge-2")).refunded);
  EXPECT_FALSE(run(store().refund_payment("no-such-charge")).refunded);
  EXPECT_TRUE(run(store().refund_payment("charge-1")).refunded);
  EXPECT_FALSE(run(store().find_user(u.id))->premium_at(h_->clock().now()));
}

TEST_P(StoreBehaviour, ChargeIdLongerThan255IsRejected) {
  const User u = make_user(8002);
  EXPECT_THROW(run(store().apply_payment(payment(u.id, std::string(256, 'c')))), core::Error);
  EXPECT_TRUE(run(store().apply_payment(payment(u.id, std::string(255, 'c')))).applied);
}

TEST_P(StoreBehaviour, ConcurrentDuplicatePaymentsApplyExactlyOnce) {
  const User u = make_user(8003);
  Store& s = store();
  const UserId id = u.id;
  const auto results = concurrently(8, [&s, id](int) -> Task<PaymentOutcome> {
    const NewPayment p = payment(id, "charge-dup");
    co_return co_await s.apply_payment(p);
  });
  EXPECT_EQ(std::count_if(results.begin(), results.end(), [](auto& r) { return r.applied; }), 1);
  EXPECT_EQ(run(store().find_user(u.id))->premium_until, h_->clock().now() + std::chrono::days(30));
}

// --- admins, audit, jobs, leases, kv, updates -----------------------------------------------------------

TEST_P(StoreBehaviour, AdminsAndAudit) {
  const auto admin = run(store().create_admin("root", "$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA"));
  ASSERT_TRUE(admin.has_value());
  EXPECT_FALSE(run(store().create_admin("root", "other")).has_value());
  EXPECT_EQ(run(store().find_admin("root"))->password_hash, admin->password_hash);
  EXPECT_FALSE(run(store().find_admin("nobody")).has_value());
  for (int i = 0; i < 3; ++i) {
    run(store().append_audit(NewAuditEntry{admin->id, "premium.grant", "user:" + std::to_string(i), R"({"days":30})"}));
  }
  run(store().append_audit(NewAuditEntry{std::nullopt, "system.cleanup", "", "{}"}));
  const auto page = run(store().list_audit(std::nullopt, 2));
  ASSERT_EQ(page.size(), 2U);
  EXPECT_EQ(page[0].action, "system.cleanup");
  EXPECT_FALSE(page[0].admin_id.has_value());
  const auto rest = run(store().list_audit(page[1].id, 10));
  ASSERT_EQ(rest.size(), 2U);
  EXPECT_EQ(rest.back().target, "user:0");
}

TEST_P(StoreBehaviour, JobsAreLeasedToOneWorkerWithExpiry) {
  const auto j1 = run(store().enqueue_job(NewJob{"summarize", R"({"user_id":1})", std::nullopt, "summarize:1"}));
  ASSERT_TRUE(j1.has_value());
  EXPECT_FALSE(run(store().enqueue_job(NewJob{"summarize", "{}", std::nullopt, "summarize:1"})).has_value());
  const auto j2 = run(store().enqueue_job(NewJob{"summarize", "{}", h_->clock().now() + 1h, std::nullopt}));
  ASSERT_TRUE(j2.has_value());
  EXPECT_FALSE(run(store().lease_job({"backup"}, "node-a", 30s)).has_value());

  const auto leased = run(store().lease_job({"summarize", "backup"}, "node-a", 30s));
  ASSERT_TRUE(leased.has_value());
  EXPECT_EQ(leased->id, *j1);
  EXPECT_EQ(leased->attempts, 1);
  EXPECT_EQ(leased->status, JobStatus::kRunning);
  EXPECT_FALSE(run(store().lease_job({"summarize"}, "node-b", 30s)).has_value());  // j2 not due yet
  h_->clock().advance(31s);  // the lease expired: another node may take over
  const auto taken = run(store().lease_job({"summarize"}, "node-b", 30s));
  ASSERT_TRUE(taken.has_value());
  EXPECT_EQ(taken->id, *j1);
  EXPECT_EQ(taken->attempts, 2);
  EXPECT_FALSE(run(store().complete_job(*j1, "node-a")));
  EXPECT_TRUE(run(store().fail_job(*j1, "node-b", "model timeout", h_->clock().now() + 10s)));
  EXPECT_EQ(run(store().find_job(*j1))->status, JobStatus::kPending);
  EXPECT_EQ(run(store().find_job(*j1))->last_error, "model timeout");
  h_->clock().advance(11s);
  ASSERT_TRUE(run(store().lease_job({"summarize"}, "node-a", 30s)).has_value());
  EXPECT_TRUE(run(store().complete_job(*j1, "node-a")));
  EXPECT_EQ(run(store().find_job(*j1))->status, JobStatus::kDone);
  // the dedupe key is free again once the job is done
  EXPECT_TRUE(run(store().enqueue_job(NewJob{"summarize", "{}", std::nullopt, "summarize:1"})).has_value());
}

TEST_P(StoreBehaviour, ConcurrentLeasesNeverShareAJob) {
  for (int i = 0; i < 10; ++i)
    run(store().enqueue_job(NewJob{"work", std::to_string(i), std::nullopt, std::nullopt}));
  Store& s = store();
  const auto results = concurrently(6, [&s](int worker) -> Task<std::vector<JobId>> {
    std::vector<JobId> mine;
    const std::vector<std::string> kinds{"work"};  // named: GCC 12 mishandles temporaries in co_await
    const std::string owner = "w" + std::to_string(worker);
    for (;;) {
      auto job = co_await s.lease_job(kinds, owner, std::chrono::minutes(5));
      if (!job)
        break;
      mine.push_back(job->id);
    }
    co_return mine;
  });
  std::multiset<JobId> all;
  for (const auto& r : results)
    all.insert(r.begin(), r.end());
  EXPECT_EQ(all.size(), 10U);
  EXPECT_EQ(std::set<JobId>(all.begin(), all.end()).size(), 10U);
}

TEST_P(StoreBehaviour, LeasesKvAndUpdateDedupe) {
  EXPECT_TRUE(run(store().acquire_lease("telegram.poller", "node-a", 10s)));
  EXPECT_FALSE(run(store().acquire_lease("telegram.poller", "node-b", 10s)));
  EXPECT_TRUE(run(store().acquire_lease("telegram.poller", "node-a", 10s)));  // renew
  h_->clock().advance(11s);
  EXPECT_TRUE(run(store().acquire_lease("telegram.poller", "node-b", 10s)));
  run(store().release_lease("telegram.poller", "node-a"));  // not the holder: no effect
  EXPECT_FALSE(run(store().acquire_lease("telegram.poller", "node-a", 10s)));
  run(store().release_lease("telegram.poller", "node-b"));
  EXPECT_TRUE(run(store().acquire_lease("telegram.poller", "node-a", 10s)));

  EXPECT_FALSE(run(store().kv_get("telegram.offset")).has_value());
  run(store().kv_set("telegram.offset", "41"));
  run(store().kv_set("telegram.offset", "42"));
  EXPECT_EQ(run(store().kv_get("telegram.offset")), "42");

  EXPECT_TRUE(run(store().mark_update_processed(9001)));
  EXPECT_FALSE(run(store().mark_update_processed(9001)));
  Store& s = store();
  const auto firsts = concurrently(8, [&s](int) -> Task<bool> { co_return co_await s.mark_update_processed(9002); });
  EXPECT_EQ(std::count(firsts.begin(), firsts.end(), true), 1);
  h_->clock().advance(std::chrono::days(8));
  EXPECT_TRUE(run(store().mark_update_processed(9003)));
  EXPECT_EQ(run(store().delete_processed_updates_older_than(h_->clock().now() - std::chrono::days(7))), 2);
  EXPECT_FALSE(run(store().mark_update_processed(9003)));
}

// --- retention and export ------------------------------------------------------------------------

TEST_P(StoreBehaviour, RetentionDeletesOldMessagesInBatches) {
  const User u = make_user(9001);
  for (int i = 0; i < 25; ++i)
    add_message(u.id, "old jazz " + std::to_string(i));
  h_->clock().advance(std::chrono::days(100));
  for (int i = 0; i < 5; ++i)
    add_message(u.id, "new jazz " + std::to_string(i));
  const auto before = h_->statements().count("messages.retention_batch");
  const auto deleted = run(store().delete_messages_older_than(h_->clock().now() - std::chrono::days(90), 10));
  EXPECT_EQ(deleted, 25);
  EXPECT_GE(h_->statements().count("messages.retention_batch") - before, 3U);  // 10 + 10 + 5
  EXPECT_EQ(run(store().count_messages(u.id)), 5);
  EXPECT_EQ(run(store().search_messages(u.id, "jazz", 50)).size(), 5U);  // the search index follows
  EXPECT_EQ(run(store().delete_messages_older_than(h_->clock().now() - std::chrono::days(90), 10)), 0);
}

TEST_P(StoreBehaviour, ExportHoldsAllOfTheUsersData) {
  const User u = make_user(9002);
  add_message(u.id, "first");
  add_message(u.id, "second", Role::kAssistant);
  const std::vector<Fact> facts{{"f1", "likes tea", true}};
  run(store().write_memory(MemoryWrite{u.id, 0, "sum", facts, 1}));
  run(store().apply_payment(payment(u.id, "export-charge")));
  const auto e = run(store().export_user_data(u.id));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->user.id, u.id);
  ASSERT_EQ(e->messages.size(), 2U);
  EXPECT_EQ(e->messages[0].content, "first");
  EXPECT_EQ(e->memory.facts, facts);
  ASSERT_EQ(e->payments.size(), 1U);
  EXPECT_EQ(e->payments[0].charge_id, "export-charge");
  EXPECT_FALSE(run(store().export_user_data(u.id + 999)).has_value());
}

INSTANTIATE_TEST_SUITE_P(Engines, StoreBehaviour, ::testing::Values(Engine::kSqlite, Engine::kPostgres),
                         [](const ::testing::TestParamInfo<Engine>& param) {
                           return testing::engine_name(param.param);
                         });

}  // namespace
}  // namespace evolveai::storage
