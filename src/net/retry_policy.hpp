#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <string_view>
#include <type_traits>
#include <utility>

#include "core/task.hpp"

namespace evolveai::net {

/// How often and how patiently to retry; configured per client.
struct RetrySettings {
  unsigned max_attempts = 3;  ///< attempts in all, the first included; 1 means no retry
  std::chrono::milliseconds base_delay{50};
  std::chrono::milliseconds max_delay{2000};
};

/// Retries transient failures with exponential backoff and full jitter: before attempt
/// n+1 it waits a uniformly random time in [0, min(max_delay, base_delay * 2^(n-1))].
/// One policy per client (database, Redis, each HTTP upstream); call sites use run() and
/// never write their own loop. Thread-safe.
class RetryPolicy {
 public:
  /// Decides whether a failure is worth another attempt.
  using Retryable = std::function<bool(const std::exception&)>;
  /// A uniform random number in [0, 1); injected so tests are deterministic.
  using Random = std::function<double()>;
  /// Waits the given time; tests inject one that only records it.
  using Sleeper = std::function<Task<void>(std::chrono::nanoseconds)>;
  /// Told about each retry: the attempt that failed, the delay chosen, the failure.
  using RetryListener = std::function<void(unsigned attempt, std::chrono::nanoseconds delay, const std::exception&)>;

  /// `random` defaults to a thread-safe generator seeded from std::random_device.
  RetryPolicy(RetrySettings settings, Retryable retryable, Random random = {});

  /// Calls `fn` (which returns a Task) until it succeeds, fails with a non-retryable
  /// error, or max_attempts is reached; then returns its value or rethrows its last error.
  template <typename Fn>
  auto run(Sleeper sleep, Fn fn) const -> std::invoke_result_t<Fn&> {
    for (unsigned attempt = 1;; ++attempt) {
      std::chrono::nanoseconds delay{0};
      try {
        co_return co_await fn();
      } catch (const std::exception& e) {
        if (!should_retry(attempt, e))
          throw;
        delay = backoff(attempt);
        if (listener_)
          listener_(attempt, delay, e);
      }
      co_await sleep(delay);
    }
  }

  /// True when a failure of attempt number `attempt` (1-based) should be retried.
  [[nodiscard]] bool should_retry(unsigned attempt, const std::exception& failure) const;
  /// The delay after `failed_attempts` failures (>= 1), jitter included.
  [[nodiscard]] std::chrono::nanoseconds backoff(unsigned failed_attempts) const;
  /// The upper bound of backoff(failed_attempts) before jitter.
  [[nodiscard]] std::chrono::nanoseconds backoff_ceiling(unsigned failed_attempts) const noexcept;
  /// Sets the listener told about every retry (metrics, logs).
  void on_retry(RetryListener listener) { listener_ = std::move(listener); }

  [[nodiscard]] const RetrySettings& settings() const noexcept { return settings_; }

 private:
  RetrySettings settings_;
  Retryable retryable_;
  Random random_;
  RetryListener listener_;
};

/// A Sleeper that waits on an Asio steady_timer of `executor`.
[[nodiscard]] RetryPolicy::Sleeper timer_sleeper(const boost::asio::any_io_executor& executor);

}  // namespace evolveai::net
