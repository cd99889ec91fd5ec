#include "cache/local_cache.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <charconv>
#include <chrono>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "obs/logger.hpp"
#include "obs/metrics.hpp"
#include "support/prometheus_parser.hpp"

namespace evolveai::cache {
namespace {

using namespace std::chrono_literals;
using TimePoint = std::chrono::steady_clock::time_point;

template <typename T>
T run(Task<T> task) {
  boost::asio::io_context io;
  auto future = boost::asio::co_spawn(io, std::move(task), boost::asio::use_future);
  io.run();
  return future.get();
}

class LocalCacheTest : public ::testing::Test {
 protected:
  std::unique_ptr<LocalCache> make(std::size_t max_entries, std::size_t max_bytes) {
    return std::make_unique<LocalCache>(LocalCacheOptions{"local", max_entries, max_bytes}, metrics_, logger_,
                                        [this] { return now_; });
  }
  double metric(std::string_view sample, const testing::MetricLabels& labels) {
    return testing::parse_prometheus_text(metrics_.render()).value(sample, labels).value_or(-1);
  }

  TimePoint now_{std::chrono::hours(100)};
  obs::MetricsRegistry metrics_;
  std::ostringstream log_;
  obs::Logger logger_{obs::LogLevel::kInfo, obs::Logger::Format::kJson, log_};
};

TEST_F(LocalCacheTest, ReturnsWhatWasStored) {
  auto cache = make(10, 1000);
  cache->store("a", std::string("x\0y", 3), 1s);
  EXPECT_EQ(cache->lookup("a"), std::string("x\0y", 3));
  EXPECT_EQ(cache->lookup("b"), std::nullopt);
}

TEST_F(LocalCacheTest, EvictsTheLeastRecentlyUsedEntryWhenFull) {
  auto cache = make(3, 1000);
  cache->store("a", "1", 1h);
  cache->store("b", "2", 1h);
  cache->store("c", "3", 1h);
  ASSERT_TRUE(cache->lookup("a"));  // a is now the most recently used
  cache->store("d", "4", 1h);
  EXPECT_EQ(cache->size(), 3U);
  EXPECT_EQ(cache->lookup("b"), std::nullopt);
  EXPECT_EQ(cache->lookup("a"), "1");
  EXPECT_EQ(cache->lookup("c"), "3");
  EXPECT_EQ(cache->lookup("d"), "4");
  EXPECT_EQ(metric("evolveai_cache_evictions_total", {{"cache", "local"}}), 1);
}

TEST_F(LocalCacheTest, KeepsWithinTheByteBound) {
  auto cache = make(100, 30);                   // key + value bytes
  cache->store("k1", std::string(8, 'a'), 1h);  // 10 bytes
  cache->store("k2", std::string(8, 'b'), 1h);  // 20
  cache->store("k3", std::string(8, 'c'), 1h);  // 30
  EXPECT_EQ(cache->bytes(), 30U);
  cache->store("k4", std::string(3, 'd'), 1h);  // 35 -> k1 goes
  EXPECT_EQ(cache->bytes(), 25U);
  EXPECT_EQ(cache->lookup("k1"), std::nullopt);
  EXPECT_TRUE(cache->lookup("k2"));
  cache->store("k2", "", 1h);  // replacing shrinks the total
  EXPECT_EQ(cache->bytes(), 17U);
  EXPECT_EQ(metric("evolveai_cache_bytes", {{"cache", "local"}}), 17);
  EXPECT_EQ(metric("evolveai_cache_entries", {{"cache", "local"}}), 3);
}

TEST_F(LocalCacheTest, DoesNotStoreAValueLargerThanTheWholeCache) {
  auto cache = make(100, 10);
  cache->store("a", "1", 1h);
  cache->store("big", std::string(20, 'x'), 1h);
  EXPECT_EQ(cache->lookup("big"), std::nullopt);
  EXPECT_EQ(cache->lookup("a"), "1");
}

TEST_F(LocalCacheTest, EntriesExpireAfterTheirTtl) {
  auto cache = make(10, 1000);
  cache->store("short", "s", 100ms);
  cache->store("long", "l", 10s);
  now_ += 99ms;
  EXPECT_EQ(cache->lookup("short"), "s");
  now_ += 1ms;
  EXPECT_EQ(cache->lookup("short"), std::nullopt);
  EXPECT_EQ(cache->size(), 1U);  // dropped when met
  EXPECT_EQ(cache->lookup("long"), "l");
}

TEST_F(LocalCacheTest, OverwritingResetsTheTtl) {
  auto cache = make(10, 1000);
  cache->store("k", "old", 1s);
  now_ += 900ms;
  cache->store("k", "new", 1s);
  now_ += 900ms;
  EXPECT_EQ(cache->lookup("k"), "new");
}

TEST_F(LocalCacheTest, ANonPositiveTtlErases) {
  auto cache = make(10, 1000);
  cache->store("k", "v", 1s);
  cache->store("k", "w", 0ms);
  EXPECT_EQ(cache->lookup("k"), std::nullopt);
  EXPECT_EQ(cache->size(), 0U);
}

TEST_F(LocalCacheTest, AsyncInterfaceAndHitMissCounters) {
  auto cache = make(10, 1000);
  Cache& generic = *cache;
  run(generic.set("k", "v", 1s));
  EXPECT_EQ(run(generic.get("k")), "v");
  EXPECT_EQ(run(generic.get("nope")), std::nullopt);
  run(generic.erase("k"));
  EXPECT_EQ(run(generic.get("k")), std::nullopt);
  EXPECT_EQ(metric("evolveai_cache_requests_total", {{"cache", "local"}, {"result", "hit"}}), 1);
  EXPECT_EQ(metric("evolveai_cache_requests_total", {{"cache", "local"}, {"result", "miss"}}), 2);
  EXPECT_EQ(metric("evolveai_cache_writes_total", {{"cache", "local"}, {"result", "ok"}}), 2);
}

TEST_F(LocalCacheTest, UndecodableEntriesAreErasedCountedAndMiss) {
  auto cache = make(10, 1000);
  const auto decode_int = [](std::string_view text) -> std::optional<int> {
    int value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size())
      return std::nullopt;
    return value;
  };
  cache->store("good", "42", 1h);
  cache->store("bad", "forty-two", 1h);
  EXPECT_EQ(run(get_decoded<int>(*cache, "good", decode_int)), 42);
  EXPECT_EQ(run(get_decoded<int>(*cache, "bad", decode_int)), std::nullopt);
  EXPECT_EQ(cache->size(), 1U);
  EXPECT_EQ(metric("evolveai_cache_corrupt_entries_total", {{"cache", "local"}}), 1);
  logger_.flush();
  EXPECT_NE(log_.str().find("cache_entry_corrupt"), std::string::npos);

  cache->store("throws", "x", 1h);
  const auto throwing = [](std::string_view) -> std::optional<int> { throw std::runtime_error("bad json"); };
  EXPECT_EQ(run(get_decoded<int>(*cache, "throws", throwing)), std::nullopt);
  EXPECT_EQ(metric("evolveai_cache_corrupt_entries_total", {{"cache", "local"}}), 2);
}

TEST_F(LocalCacheTest, IsSafeUnderConcurrentUse) {
  auto cache = make(50, 100000);
  std::vector<std::thread> threads;
  threads.reserve(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5000; ++i) {
        const auto key = "k" + std::to_string((i * 7 + t) % 80);
        if (i % 3 == 0) {
          cache->store(key, std::to_string(i), 1h);
        } else if (i % 11 == 0) {
          cache->remove(key);
        } else {
          (void)cache->lookup(key);
        }
      }
    });
  }
  for (auto& thread : threads)
    thread.join();
  EXPECT_LE(cache->size(), 50U);
}

}  // namespace
}  // namespace evolveai::cache
