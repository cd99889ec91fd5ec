#include "net/retry_policy.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <chrono>
#include <stdexcept>
#include <vector>

namespace evolveai::net {
namespace {

using namespace std::chrono_literals;

struct Transient : std::runtime_error {
  using std::runtime_error::runtime_error;
};

RetryPolicy make_policy(unsigned attempts, double random_value) {
  return RetryPolicy(
      RetrySettings{attempts, 100ms, 1000ms},
      [](const std::exception& e) { return dynamic_cast<const Transient*>(&e) != nullptr; },
      [random_value] { return random_value; });
}

/// Runs a coroutine to completion on a private io_context.
template <typename T>
T run(Task<T> task) {
  boost::asio::io_context io;
  auto future = boost::asio::co_spawn(io, std::move(task), boost::asio::use_future);
  io.run();
  return future.get();
}

struct RecordingSleeper {
  std::vector<std::chrono::nanoseconds>* delays;
  Task<void> operator()(std::chrono::nanoseconds d) const {
    delays->push_back(d);
    co_return;
  }
};

TEST(RetryPolicy, BackoffCeilingDoublesUpToTheMaximum) {
  const auto policy = make_policy(10, 1.0);
  EXPECT_EQ(policy.backoff_ceiling(1), 100ms);
  EXPECT_EQ(policy.backoff_ceiling(2), 200ms);
  EXPECT_EQ(policy.backoff_ceiling(3), 400ms);
  EXPECT_EQ(policy.backoff_ceiling(4), 800ms);
  EXPECT_EQ(policy.backoff_ceiling(5), 1000ms);
  EXPECT_EQ(policy.backoff_ceiling(60), 1000ms);
}

TEST(RetryPolicy, FullJitterScalesTheCeilingByTheRandomValue) {
  EXPECT_EQ(make_policy(5, 0.5).backoff(3), 200ms);
  EXPECT_EQ(make_policy(5, 0.0).backoff(3), 0ms);
  EXPECT_EQ(make_policy(5, 0.25).backoff(1), 25ms);
}

TEST(RetryPolicy, RetriesTransientFailuresThenSucceeds) {
  const auto policy = make_policy(5, 0.5);
  std::vector<std::chrono::nanoseconds> delays;
  int calls = 0;
  const int result = run(policy.run(RecordingSleeper{&delays}, [&]() -> Task<int> {
    if (++calls < 3)
      throw Transient("busy");
    co_return 42;
  }));
  EXPECT_EQ(result, 42);
  EXPECT_EQ(calls, 3);
  ASSERT_EQ(delays.size(), 2U);
  EXPECT_EQ(delays[0], 50ms);
  EXPECT_EQ(delays[1], 100ms);
}

TEST(RetryPolicy, GivesUpAfterMaxAttemptsWithTheLastError) {
  const auto policy = make_policy(3, 0.5);
  std::vector<std::chrono::nanoseconds> delays;
  int calls = 0;
  EXPECT_THROW(run(policy.run(RecordingSleeper{&delays},
                              [&]() -> Task<int> {
                                ++calls;
                                throw Transient("still busy");
                                co_return 0;
                              })),
               Transient);
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(delays.size(), 2U);
}

TEST(RetryPolicy, DoesNotRetryNonRetryableFailures) {
  const auto policy = make_policy(5, 0.5);
  std::vector<std::chrono::nanoseconds> delays;
  int calls = 0;
  EXPECT_THROW(run(policy.run(RecordingSleeper{&delays},
                              [&]() -> Task<void> {
                                ++calls;
                                throw std::logic_error("bug");
                                co_return;
                              })),
               std::logic_error);
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(delays.empty());
}

TEST(RetryPolicy, ListenerSeesEveryRetry) {
  auto policy = make_policy(4, 1.0);
  std::vector<unsigned> attempts;
  policy.on_retry(
      [&](unsigned attempt, std::chrono::nanoseconds, const std::exception&) { attempts.push_back(attempt); });
  std::vector<std::chrono::nanoseconds> delays;
  int calls = 0;
  run(policy.run(RecordingSleeper{&delays}, [&]() -> Task<void> {
    if (++calls < 4)
      throw Transient("x");
    co_return;
  }));
  EXPECT_EQ(attempts, (std::vector<unsigned>{1, 2, 3}));
}

TEST(RetryPolicy, TimerSleeperWaitsOnTheExecutor) {
  boost::asio::io_context io;
  const auto policy = make_policy(2, 0.0);  // zero delay: the timer fires at once
  int calls = 0;
  auto future = boost::asio::co_spawn(io,
                                      policy.run(timer_sleeper(io.get_executor()),
                                                 [&]() -> Task<int> {
                                                   if (++calls < 2)
                                                     throw Transient("x");
                                                   co_return 7;
                                                 }),
                                      boost::asio::use_future);
  io.run();
  EXPECT_EQ(future.get(), 7);
}

}  // namespace
}  // namespace evolveai::net
