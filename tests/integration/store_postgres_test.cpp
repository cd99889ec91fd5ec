// PostgreSQL-only behaviour: round trips, reconnection, pool limits. The engine-neutral
// rules live in store_behaviour_test.cpp.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "storage/postgres/pg_pool.hpp"
#include "storage/postgres/pg_store.hpp"
#include "storage/store_error.hpp"
#include "support/store_test_env.hpp"

namespace evolveai::storage::postgres {
namespace {

using namespace std::chrono_literals;
using evolveai::testing::Engine;
using evolveai::testing::StoreHarness;

class PostgresStore : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto reason = evolveai::testing::postgres_unavailable_reason()) {
      if (evolveai::testing::postgres_required())
        FAIL() << "EVOLVEAI_REQUIRE_PG=1: " << *reason;
      GTEST_SKIP() << *reason;
    }
    h_ = std::make_unique<StoreHarness>(Engine::kPostgres);
  }
  void TearDown() override { h_.reset(); }

  PgStore& pg() { return dynamic_cast<PgStore&>(h_->store()); }
  template <typename T>
  T run(Task<T> task) {
    return h_->run(std::move(task));
  }

  std::unique_ptr<StoreHarness> h_;
};

TEST_F(PostgresStore, TurnContextReadsCostOneRoundTrip) {
  const User u = run(pg().upsert_user(TelegramIdentity{42, "Ann", std::nullopt, std::nullopt, std::nullopt}));
  for (int i = 0; i < 5; ++i) {
    NewMessage m;
    m.user_id = u.id;
    m.content = "jazz message " + std::to_string(i);
    run(pg().insert_message(m));
  }
  run(pg().write_memory(MemoryWrite{u.id, 0, "summary", {{"f1", "fact", false}}, 1}));

  // A fresh node: the connection is opened and every statement prepared inside the same
  // pipeline, so even the first turn costs one round trip.
  auto other = h_->open_another();
  auto& cold = dynamic_cast<PgStore&>(*other);
  const auto before_cold = cold.round_trips();
  const auto ctx = run(cold.load_turn_context(u.id, 2, "more jazz please", 5));
  EXPECT_EQ(cold.round_trips() - before_cold, 1U);
  ASSERT_TRUE(ctx.user.has_value());
  EXPECT_EQ(ctx.recent.size(), 2U);
  EXPECT_EQ(ctx.relevant.size(), 3U);
  EXPECT_EQ(ctx.memory.summary, "summary");

  const auto before_warm = cold.round_trips();
  run(cold.load_turn_context(u.id, 2, "more jazz please", 5));
  EXPECT_EQ(cold.round_trips() - before_warm, 1U);
}

TEST_F(PostgresStore, ReadsReconnectAfterTheServerDropsConnections) {
  const User u = run(pg().upsert_user(TelegramIdentity{43, "Bob", std::nullopt, std::nullopt, std::nullopt}));
  for (int i = 0; i < 3; ++i)
    EXPECT_TRUE(run(pg().find_user(u.id)).has_value());
  h_->execute_raw(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
      "WHERE application_name = 'evolveai' AND pid <> pg_backend_pid()");
  std::this_thread::sleep_for(200ms);
  std::optional<User> found;
  EXPECT_NO_THROW(found = run(pg().find_user(u.id)));
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->id, u.id);
  // the pool is healthy again for writes too
  EXPECT_NO_THROW(run(pg().set_user_banned(u.id, true)));
}

TEST_F(PostgresStore, PoolAcquireTimesOutWhenExhausted) {
  auto pool =
      Pool::create(h_->io().get_executor(), ConnectSettings{h_->pg_url(), 5s, 5s, {{"search_path", h_->pg_schema()}}},
                   PoolSettings{1, 200ms, 30s, 30s}, StoreObserver{});
  // Leases are not default-constructible, so they are held inside one coroutine.
  auto exhausted = [&]() -> Task<StoreErrorKind> {
    auto held = co_await pool->acquire();
    StoreErrorKind kind = StoreErrorKind::kOther;
    try {
      auto second = co_await pool->acquire();
      ADD_FAILURE() << "acquire must time out while the only connection is held";
    } catch (const StoreError& e) {
      kind = e.kind();
    }
    co_return kind;
  };
  EXPECT_EQ(run(exhausted()), StoreErrorKind::kTimeout);
  std::this_thread::sleep_for(50ms);  // the lease is handed back on the pool's strand
  auto again = [&]() -> Task<bool> {
    auto lease = co_await pool->acquire();
    co_return !lease->broken();
  };
  EXPECT_TRUE(run(again()));
}

TEST_F(PostgresStore, ReturnedConnectionGoesToTheOldestWaiterNotToANewcomer) {
  auto pool =
      Pool::create(h_->io().get_executor(), ConnectSettings{h_->pg_url(), 5s, 5s, {{"search_path", h_->pg_schema()}}},
                   PoolSettings{1, 5s, 30s, 30s}, StoreObserver{});
  std::mutex mutex;
  std::vector<std::string> order;
  const auto served = [&](std::string who) {
    const std::scoped_lock lock(mutex);
    order.push_back(std::move(who));
  };
  // The holder gives its connection back while two others wait, then asks again at once: it
  // must queue behind them instead of taking the connection back before they run.
  auto holder = [&]() -> Task<void> {
    {
      auto lease = co_await pool->acquire();
      served("holder");
      boost::asio::steady_timer pause(co_await boost::asio::this_coro::executor, 200ms);
      co_await pause.async_wait(boost::asio::use_awaitable);
    }
    auto again = co_await pool->acquire();
    served("holder again");
  };
  auto waiter = [&](std::string who, std::chrono::milliseconds delay) -> Task<void> {
    boost::asio::steady_timer pause(co_await boost::asio::this_coro::executor, delay);
    co_await pause.async_wait(boost::asio::use_awaitable);
    auto lease = co_await pool->acquire();
    served(std::move(who));
    boost::asio::steady_timer hold(co_await boost::asio::this_coro::executor, 20ms);
    co_await hold.async_wait(boost::asio::use_awaitable);
  };
  auto a = boost::asio::co_spawn(h_->io(), holder(), boost::asio::use_future);
  auto b = boost::asio::co_spawn(h_->io(), waiter("first waiter", 50ms), boost::asio::use_future);
  auto c = boost::asio::co_spawn(h_->io(), waiter("second waiter", 100ms), boost::asio::use_future);
  a.get();
  b.get();
  c.get();
  EXPECT_EQ(order, (std::vector<std::string>{"holder", "first waiter", "second waiter", "holder again"}));
}

TEST_F(PostgresStore, UnreachableServerIsAConnectError) {
  PgStoreOptions options;
  options.url = "postgresql://postgres@127.0.0.1:1/nowhere";
  options.connect_timeout = 1s;
  options.retry.max_attempts = 2;
  options.retry.base_delay = 1ms;
  PgStore store(std::move(options), h_->io().get_executor());
  try {
    (void)run(store.find_user(1));
    FAIL() << "expected a StoreError";
  } catch (const StoreError& e) {
    EXPECT_EQ(e.kind(), StoreErrorKind::kConnect) << e.what();
  }
}

TEST(PgTimestamps, FormatAndParseRoundTrip) {
  const Time t = Time(std::chrono::microseconds(1'715'342'400'123'456LL));
  EXPECT_EQ(format_timestamp(t), "2024-05-10 12:00:00.123456+00");
  EXPECT_EQ(parse_timestamp("2024-05-10 12:00:00.123456+00"), t);
  EXPECT_EQ(parse_timestamp("2024-05-10 12:00:00.1234+00"), t - std::chrono::microseconds(56));
  EXPECT_EQ(parse_timestamp("2024-05-10 14:00:00.123456+02"), t);
  EXPECT_EQ(parse_timestamp("2024-05-10 12:00:00+00"), t - std::chrono::microseconds(123'456));
}

}  // namespace
}  // namespace evolveai::storage::postgres
