#include "net/circuit_breaker.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json/parse.hpp>

#include <atomic>
#include <chrono>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "obs/logger.hpp"
#include "obs/metrics.hpp"
#include "support/prometheus_parser.hpp"

namespace evolveai::net {
namespace {

using namespace std::chrono_literals;
using TimePoint = std::chrono::steady_clock::time_point;

/// Time that moves only when the test says so.
struct FakeClock {
  TimePoint now{std::chrono::hours(1000)};
  CircuitBreaker::Clock fn() {
    return [this] { return now; };
  }
};

template <typename T>
T run(Task<T> task) {
  boost::asio::io_context io;
  auto future = boost::asio::co_spawn(io, std::move(task), boost::asio::use_future);
  io.run();
  return future.get();
}

struct Unavailable : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct CallerMistake : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class CircuitBreakerTest : public ::testing::Test {
 protected:
  std::unique_ptr<CircuitBreaker> make(BreakerSettings settings, std::string name = "dep") {
    return std::make_unique<CircuitBreaker>(std::move(name), settings, metrics_, logger_, clock_.fn());
  }
  std::optional<double> metric(std::string_view sample, const testing::MetricLabels& labels) {
    return testing::parse_prometheus_text(metrics_.render()).value(sample, labels);
  }
  /// The JSON log lines written so far.
  std::vector<boost::json::value> log_lines() {
    logger_.flush();
    std::vector<boost::json::value> lines;
    std::istringstream in(log_.str());
    for (std::string line; std::getline(in, line);) {
      if (!line.empty())
        lines.push_back(boost::json::parse(line));
    }
    return lines;
  }

  FakeClock clock_;
  obs::MetricsRegistry metrics_;
  std::ostringstream log_;
  obs::Logger logger_{obs::LogLevel::kInfo, obs::Logger::Format::kJson, log_};
};

TEST_F(CircuitBreakerTest, StaysClosedBelowTheThreshold) {
  auto breaker = make({3, 10s, 1});
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(breaker->allow());
    breaker->record_failure();
  }
  EXPECT_EQ(breaker->state(), BreakerState::kClosed);
  EXPECT_TRUE(breaker->allow());
}

TEST_F(CircuitBreakerTest, OpensAfterThresholdConsecutiveFailures) {
  auto breaker = make({3, 10s, 1});
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(breaker->allow());
    breaker->record_failure();
  }
  EXPECT_EQ(breaker->state(), BreakerState::kOpen);
  EXPECT_FALSE(breaker->allow());
}

TEST_F(CircuitBreakerTest, ASuccessResetsTheFailureCount) {
  auto breaker = make({3, 10s, 1});
  for (int round = 0; round < 5; ++round) {
    (void)breaker->allow();
    breaker->record_failure();
    (void)breaker->allow();
    breaker->record_failure();
    (void)breaker->allow();
    breaker->record_success();
  }
  EXPECT_EQ(breaker->state(), BreakerState::kClosed);
}

TEST_F(CircuitBreakerTest, RefusesUntilTheOpenDurationHasPassed) {
  auto breaker = make({1, 10s, 1});
  (void)breaker->allow();
  breaker->record_failure();
  clock_.now += 9999ms;
  EXPECT_FALSE(breaker->allow());
  EXPECT_EQ(breaker->state(), BreakerState::kOpen);
  clock_.now += 1ms;
  EXPECT_TRUE(breaker->allow());
  EXPECT_EQ(breaker->state(), BreakerState::kHalfOpen);
}

TEST_F(CircuitBreakerTest, HalfOpenLetsOnlyTheProbesThrough) {
  auto breaker = make({1, 1s, 2});
  (void)breaker->allow();
  breaker->record_failure();
  clock_.now += 1s;
  EXPECT_TRUE(breaker->allow());
  EXPECT_TRUE(breaker->allow());
  EXPECT_FALSE(breaker->allow());  // both probe slots taken
  EXPECT_EQ(breaker->state(), BreakerState::kHalfOpen);
}

TEST_F(CircuitBreakerTest, HalfOpenClosesWhenEveryProbeSucceeds) {
  auto breaker = make({1, 1s, 2});
  (void)breaker->allow();
  breaker->record_failure();
  clock_.now += 1s;
  ASSERT_TRUE(breaker->allow());
  ASSERT_TRUE(breaker->allow());
  breaker->record_success();
  EXPECT_EQ(breaker->state(), BreakerState::kHalfOpen);
  EXPECT_FALSE(breaker->allow());  // one probe still out, one succeeded: no third
  breaker->record_success();
  EXPECT_EQ(breaker->state(), BreakerState::kClosed);
  EXPECT_TRUE(breaker->allow());
}

TEST_F(CircuitBreakerTest, AFailedProbeReopensAndRestartsTheWait) {
  auto breaker = make({1, 1s, 1});
  (void)breaker->allow();
  breaker->record_failure();
  clock_.now += 1s;
  ASSERT_TRUE(breaker->allow());
  clock_.now += 500ms;
  breaker->record_failure();
  EXPECT_EQ(breaker->state(), BreakerState::kOpen);
  clock_.now += 999ms;
  EXPECT_FALSE(breaker->allow());
  clock_.now += 1ms;
  EXPECT_TRUE(breaker->allow());
}

TEST_F(CircuitBreakerTest, AnIgnoredProbeFreesItsSlot) {
  auto breaker = make({1, 1s, 1});
  (void)breaker->allow();
  breaker->record_failure();
  clock_.now += 1s;
  ASSERT_TRUE(breaker->allow());
  EXPECT_FALSE(breaker->allow());
  breaker->record_ignored();
  EXPECT_EQ(breaker->state(), BreakerState::kHalfOpen);
  EXPECT_TRUE(breaker->allow());
}

TEST_F(CircuitBreakerTest, RunThrowsCircuitOpenErrorWithoutStartingTheTask) {
  auto breaker = make({1, 10s, 1}, "redis");
  (void)breaker->allow();
  breaker->record_failure();
  clock_.now += 4s;
  bool started = false;
  auto task = [&]() -> Task<int> {
    started = true;
    co_return 1;
  };
  try {
    run(breaker->run(task()));
    FAIL() << "expected CircuitOpenError";
  } catch (const CircuitOpenError& e) {
    EXPECT_EQ(e.breaker(), "redis");
    EXPECT_EQ(e.retry_in(), 6s);
  }
  EXPECT_FALSE(started);
}

TEST_F(CircuitBreakerTest, RunCountsOnlyTheExceptionsThePredicateSelects) {
  auto breaker = make({2, 10s, 1});
  const auto is_failure = [](const std::exception& e) { return dynamic_cast<const Unavailable*>(&e) != nullptr; };
  auto failing = [](auto error) -> Task<void> {
    throw error;
    co_return;
  };
  for (int i = 0; i < 5; ++i) {
    EXPECT_THROW(run(breaker->run(failing(CallerMistake("bad input")), is_failure)), CallerMistake);
  }
  EXPECT_EQ(breaker->state(), BreakerState::kClosed);
  EXPECT_THROW(run(breaker->run(failing(Unavailable("down")), is_failure)), Unavailable);
  EXPECT_THROW(run(breaker->run(failing(Unavailable("down")), is_failure)), Unavailable);
  EXPECT_EQ(breaker->state(), BreakerState::kOpen);
}

TEST_F(CircuitBreakerTest, RunPassesValuesThroughAndAProbeSuccessCloses) {
  auto breaker = make({1, 1s, 1});
  auto value = [](int v) -> Task<int> { co_return v; };
  EXPECT_EQ(run(breaker->run(value(7))), 7);
  (void)breaker->allow();
  breaker->record_failure();
  clock_.now += 1s;
  EXPECT_EQ(run(breaker->run(value(8))), 8);
  EXPECT_EQ(breaker->state(), BreakerState::kClosed);
}

TEST_F(CircuitBreakerTest, ResultsOfCallsAdmittedBeforeATransitionAreIgnored) {
  auto breaker = make({1, 1s, 1});
  auto slow_success = [](CircuitBreaker& b, FakeClock& clock) -> Task<int> {
    // While this call is out, another fails and opens the breaker; time passes to half-open.
    (void)b.allow();
    b.record_failure();
    clock.now += 1s;
    EXPECT_TRUE(b.allow());  // the probe of the new half-open period
    co_return 1;
  };
  run(breaker->run(slow_success(*breaker, clock_)));
  // The old call's success must not close the breaker on the probe's behalf.
  EXPECT_EQ(breaker->state(), BreakerState::kHalfOpen);
}

TEST_F(CircuitBreakerTest, ExportsStateAndTransitionsAsMetrics) {
  auto breaker = make({1, 1s, 1}, "redis");
  EXPECT_EQ(metric("evolveai_circuit_breaker_state", {{"name", "redis"}}), 0.0);
  (void)breaker->allow();
  breaker->record_failure();
  EXPECT_EQ(metric("evolveai_circuit_breaker_state", {{"name", "redis"}}), 1.0);
  clock_.now += 1s;
  (void)breaker->allow();
  EXPECT_EQ(metric("evolveai_circuit_breaker_state", {{"name", "redis"}}), 2.0);
  breaker->record_success();
  EXPECT_EQ(metric("evolveai_circuit_breaker_state", {{"name", "redis"}}), 0.0);
  EXPECT_EQ(metric("evolveai_circuit_breaker_transitions_total", {{"name", "redis"}, {"to", "open"}}), 1.0);
  EXPECT_EQ(metric("evolveai_circuit_breaker_transitions_total", {{"name", "redis"}, {"to", "half_open"}}), 1.0);
  EXPECT_EQ(metric("evolveai_circuit_breaker_transitions_total", {{"name", "redis"}, {"to", "closed"}}), 1.0);
  breaker.reset();
  EXPECT_EQ(metric("evolveai_circuit_breaker_state", {{"name", "redis"}}), std::nullopt);
}

TEST_F(CircuitBreakerTest, LogsEveryTransition) {
  auto breaker = make({2, 1s, 1}, "llm");
  for (int i = 0; i < 2; ++i) {
    (void)breaker->allow();
    breaker->record_failure();
  }
  clock_.now += 1s;
  (void)breaker->allow();
  breaker->record_success();
  const auto lines = log_lines();
  ASSERT_EQ(lines.size(), 3U);
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"closed", "open"}, {"open", "half_open"}, {"half_open", "closed"}};
  for (std::size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(lines[i].at("event").as_string(), "circuit_breaker_transition");
    EXPECT_EQ(lines[i].at("breaker").as_string(), "llm");
    EXPECT_EQ(lines[i].at("from").as_string(), expected[i].first);
    EXPECT_EQ(lines[i].at("to").as_string(), expected[i].second);
  }
  EXPECT_EQ(lines[0].at("level").as_string(), "warning");
  EXPECT_EQ(lines[0].at("consecutive_failures").as_int64(), 2);
}

TEST_F(CircuitBreakerTest, StaysConsistentUnderConcurrentCallers) {
  auto breaker = make({5, 1ms, 3});
  std::atomic<int> admitted{0};
  std::vector<std::thread> threads;
  threads.reserve(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20000; ++i) {
        if (!breaker->allow())
          continue;
        ++admitted;
        if ((i + t) % 3 == 0) {
          breaker->record_failure();
        } else {
          breaker->record_success();
        }
      }
    });
  }
  for (auto& thread : threads)
    thread.join();
  EXPECT_GT(admitted.load(), 0);
  // Whatever happened, once calls succeed the breaker ends closed.
  clock_.now += 1s;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(breaker->allow());
    breaker->record_success();
  }
  EXPECT_EQ(breaker->state(), BreakerState::kClosed);
}

}  // namespace
}  // namespace evolveai::net
