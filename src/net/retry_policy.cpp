#include "net/retry_policy.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <mutex>
#include <random>

namespace evolveai::net {

namespace {

RetryPolicy::Random default_random() {
  struct State {
    std::mutex mutex;
    std::mt19937_64 engine{std::random_device{}()};
    std::uniform_real_distribution<double> uniform{0.0, 1.0};
  };
  auto state = std::make_shared<State>();
  return [state] {
    std::lock_guard lock(state->mutex);
    return state->uniform(state->engine);
  };
}

}  // namespace

RetryPolicy::RetryPolicy(RetrySettings settings, Retryable retryable, Random random)
    : settings_(settings), retryable_(std::move(retryable)), random_(random ? std::move(random) : default_random()) {
  settings_.max_attempts = std::max(settings_.max_attempts, 1U);
}

bool RetryPolicy::should_retry(unsigned attempt, const std::exception& failure) const {
  return attempt < settings_.max_attempts && retryable_ && retryable_(failure);
}

std::chrono::nanoseconds RetryPolicy::backoff_ceiling(unsigned failed_attempts) const noexcept {
  const auto base = std::chrono::duration_cast<std::chrono::nanoseconds>(settings_.base_delay);
  const auto cap = std::chrono::duration_cast<std::chrono::nanoseconds>(settings_.max_delay);
  auto ceiling = base;
  for (unsigned i = 1; i < failed_attempts && ceiling < cap; ++i)
    ceiling *= 2;
  return std::min(ceiling, cap);
}

std::chrono::nanoseconds RetryPolicy::backoff(unsigned failed_attempts) const {
  const double r = std::clamp(random_(), 0.0, 1.0);
  const auto ceiling = backoff_ceiling(std::max(failed_attempts, 1U));
  return std::chrono::nanoseconds(static_cast<std::int64_t>(static_cast<double>(ceiling.count()) * r));
}

namespace {

Task<void> sleep_on(boost::asio::any_io_executor executor, std::chrono::nanoseconds delay) {
  boost::asio::steady_timer timer(executor, delay);
  co_await timer.async_wait(boost::asio::use_awaitable);
}

}  // namespace

RetryPolicy::Sleeper timer_sleeper(const boost::asio::any_io_executor& executor) {
  return [executor](std::chrono::nanoseconds delay) { return sleep_on(executor, delay); };
}

}  // namespace evolveai::net
