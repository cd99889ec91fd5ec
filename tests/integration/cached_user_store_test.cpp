#include <gtest/gtest.h>

#include <sstream>

#include "cache/local_cache.hpp"
#include "obs/logger.hpp"
#include "obs/metrics.hpp"
#include "storage/cached_user_store.hpp"
#include "support/prometheus_parser.hpp"
#include "support/store_test_env.hpp"

namespace evolveai::testing {
namespace {

using namespace std::chrono_literals;

/// A SQLite store behind the user cache; `backdoor()` changes rows without the cache knowing.
class CachedUserStoreTest : public ::testing::Test {
 protected:
  CachedUserStoreTest()
      : harness_(Engine::kSqlite),
        logger_(obs::LogLevel::kWarn, obs::Logger::Format::kJson, log_),
        cache_(cache::LocalCacheOptions{}, metrics_, logger_),
        cached_(harness_.store(), cache_, 1h) {}

  storage::Store& backdoor() { return harness_.store(); }

  storage::User make_user(std::int64_t telegram_id) {
    storage::TelegramIdentity identity;
    identity.telegram_id = telegram_id;
    identity.first_name = "Ann";
    return harness_.run(cached_.upsert_user(identity));
  }

  storage::User read(storage::UserId id) {
    auto user = harness_.run(cached_.find_user(id));
    EXPECT_TRUE(user.has_value());
    return user.value_or(storage::User{});
  }

  /// Caches the user, then changes the row behind the cache's back, proving reads are served from the cache.
  void cache_and_go_stale(storage::UserId id) {
    ASSERT_FALSE(read(id).banned);
    harness_.run(backdoor().set_user_banned(id, true));
    ASSERT_FALSE(read(id).banned) << "the second read should come from the cache";
  }

  StoreHarness harness_;
  std::ostringstream log_;
  obs::MetricsRegistry metrics_;
  obs::Logger logger_;
  cache::LocalCache cache_;
  storage::CachedUserStore cached_;
};

TEST_F(CachedUserStoreTest, RepeatedReadsAreServedFromTheCache) {
  const auto user = make_user(1);
  cache_and_go_stale(user.id);
}

TEST_F(CachedUserStoreTest, SettingsChangeIsSeenAtOnce) {
  const auto user = make_user(2);
  cache_and_go_stale(user.id);
  ASSERT_TRUE(harness_.run(cached_.update_user_settings(user.id, R"({"persona":"mentor"})")));
  const auto fresh = read(user.id);
  EXPECT_EQ(fresh.settings_json, R"({"persona":"mentor"})");
  EXPECT_TRUE(fresh.banned);
}

TEST_F(CachedUserStoreTest, BanIsSeenAtOnce) {
  const auto user = make_user(3);
  EXPECT_FALSE(read(user.id).banned);
  ASSERT_TRUE(harness_.run(cached_.set_user_banned(user.id, true)));
  EXPECT_TRUE(read(user.id).banned);
  ASSERT_TRUE(harness_.run(cached_.set_user_banned(user.id, false)));
  EXPECT_FALSE(read(user.id).banned);
}

TEST_F(CachedUserStoreTest, PremiumGrantAndEndAreSeenAtOnce) {
  const auto user = make_user(4);
  EXPECT_FALSE(read(user.id).premium_until.has_value());
  harness_.run(cached_.grant_premium(user.id, std::chrono::days(30)));
  EXPECT_TRUE(read(user.id).premium_until.has_value());
  harness_.run(cached_.set_premium_until(user.id, std::nullopt));
  EXPECT_FALSE(read(user.id).premium_until.has_value());
}

TEST_F(CachedUserStoreTest, QuotaUseAndGiveBackAreSeenAtOnce) {
  const auto user = make_user(5);
  EXPECT_EQ(read(user.id).usage_count, 0);
  const auto grant = harness_.run(cached_.take_quota_unit(user.id, 50));
  ASSERT_TRUE(grant.granted);
  EXPECT_EQ(read(user.id).usage_count, 1);
  harness_.run(cached_.give_back_quota_unit(user.id, grant.day));
  EXPECT_EQ(read(user.id).usage_count, 0);
}

TEST_F(CachedUserStoreTest, PaymentAndRefundAreSeenAtOnce) {
  const auto user = make_user(6);
  EXPECT_FALSE(read(user.id).premium_until.has_value());
  storage::NewPayment payment;
  payment.charge_id = "charge-cache-1";
  payment.user_id = user.id;
  payment.currency = "XTR";
  payment.amount = 250;
  payment.plan = "month";
  payment.days = 30;
  ASSERT_TRUE(harness_.run(cached_.apply_payment(payment)).applied);
  EXPECT_TRUE(read(user.id).premium_until.has_value());
  ASSERT_TRUE(harness_.run(cached_.refund_payment("charge-cache-1")).refunded);
  const auto after = read(user.id);
  EXPECT_FALSE(after.premium_at(std::chrono::system_clock::now()));
}

TEST_F(CachedUserStoreTest, SignInRefreshesTheCachedProfile) {
  const auto user = make_user(7);
  EXPECT_EQ(read(user.id).first_name, "Ann");
  storage::TelegramIdentity renamed;
  renamed.telegram_id = 7;
  renamed.first_name = "Anna";
  harness_.run(cached_.upsert_user(renamed));
  EXPECT_EQ(read(user.id).first_name, "Anna");
}

TEST_F(CachedUserStoreTest, CorruptEntryIsDiscardedCountedAndReadFromTheStore) {
  const auto user = make_user(8);
  const std::string key = "user:v1:" + std::to_string(user.id);
  const std::string garbage = "{not json";
  harness_.run(cache_.set(key, garbage, 1h));
  EXPECT_EQ(read(user.id).first_name, "Ann");
  const auto metrics = parse_prometheus_text(metrics_.render());
  EXPECT_EQ(metrics.value("evolveai_cache_corrupt_entries_total", {{"cache", "local"}}), 1.0);
  // The entry was replaced by a good one.
  const auto entry = harness_.run(cache_.get(key));
  ASSERT_TRUE(entry.has_value());
  EXPECT_TRUE(storage::decode_cached_user(*entry).has_value());
  EXPECT_NE(log_.str().find("cache_entry_corrupt"), std::string::npos);
}

TEST(CachedUserEncoding, RoundTripsEveryField) {
  storage::User user;
  user.id = 42;
  user.telegram_id = 123456789;
  user.first_name = "Анна";
  user.last_name = "O'Neil \"quoted\"";
  user.username = std::nullopt;
  user.language_code = "ru";
  user.settings_json = R"({"persona":"friend"})";
  user.banned = true;
  user.premium_until = storage::Time(std::chrono::microseconds(1'700'000'000'123'456));
  user.usage_day = std::chrono::sys_days(std::chrono::days(19'700));
  user.usage_count = 9;
  user.created_at = storage::Time(std::chrono::microseconds(1'600'000'000'000'001));
  user.updated_at = storage::Time(std::chrono::microseconds(1'650'000'000'000'002));
  const auto decoded = storage::decode_cached_user(storage::encode_cached_user(user));
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->id, user.id);
  EXPECT_EQ(decoded->telegram_id, user.telegram_id);
  EXPECT_EQ(decoded->first_name, user.first_name);
  EXPECT_EQ(decoded->last_name, user.last_name);
  EXPECT_EQ(decoded->username, user.username);
  EXPECT_EQ(decoded->language_code, user.language_code);
  EXPECT_EQ(decoded->settings_json, user.settings_json);
  EXPECT_EQ(decoded->banned, user.banned);
  EXPECT_EQ(decoded->premium_until, user.premium_until);
  EXPECT_EQ(decoded->usage_day, user.usage_day);
  EXPECT_EQ(decoded->usage_count, user.usage_count);
  EXPECT_EQ(decoded->created_at, user.created_at);
  EXPECT_EQ(decoded->updated_at, user.updated_at);
}

TEST(CachedUserEncoding, RejectsWrongShapes) {
  for (const std::string_view text : {"", "null", "[]", R"({"id":"1"})", R"({"id":1})", "{\"id\":1,"}) {
    EXPECT_FALSE(storage::decode_cached_user(text).has_value()) << text;
  }
}

}  // namespace
}  // namespace evolveai::testing
