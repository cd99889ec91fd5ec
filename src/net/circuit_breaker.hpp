#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "core/task.hpp"

namespace evolveai::obs {
class Counter;
class Logger;
class MetricsRegistry;
class CallbackFamily;
}  // namespace evolveai::obs

namespace evolveai::net {

/// Where a breaker stands; the numeric values are what the state gauge exports.
enum class BreakerState : int { kClosed = 0, kOpen = 1, kHalfOpen = 2 };

/// "closed", "open" or "half_open" (metric labels, log fields).
[[nodiscard]] std::string_view breaker_state_name(BreakerState state) noexcept;

/// When a breaker opens and how it tries again; configured per dependency.
struct BreakerSettings {
  unsigned failure_threshold = 5;                  ///< consecutive failures that open a closed breaker
  std::chrono::milliseconds open_duration{30000};  ///< how long it stays open before probing
  unsigned half_open_probes = 1;                   ///< trial calls let through; all must succeed to close
};

/// Thrown instead of calling a dependency whose breaker is open.
class CircuitOpenError : public std::runtime_error {
 public:
  CircuitOpenError(std::string breaker, std::chrono::milliseconds retry_in);

  /// The breaker's name (the dependency it guards).
  [[nodiscard]] const std::string& breaker() const noexcept { return breaker_; }
  /// Roughly how long until the breaker lets a probe through.
  [[nodiscard]] std::chrono::milliseconds retry_in() const noexcept { return retry_in_; }

 private:
  std::string breaker_;
  std::chrono::milliseconds retry_in_;
};

/// Stops calling a failing dependency for a while so that callers fail (or degrade) fast.
/// Closed: calls pass; `failure_threshold` consecutive failures open it. Open: every call is
/// refused until `open_duration` has passed, then it turns half-open. Half-open: up to
/// `half_open_probes` calls pass at once; when that many have succeeded it closes, and one
/// failure opens it again. The state is exported as `evolveai_circuit_breaker_state{name}`,
/// every transition is counted in `evolveai_circuit_breaker_transitions_total{name,to}` and
/// logged. One type for every dependency (Redis, model providers, cloud TTS, Telegram).
/// Names must be unique per registry. Thread-safe; the registry and logger must outlive it.
class CircuitBreaker {
 public:
  /// Reads the current time; injected so that tests move time by hand.
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  /// Says whether an exception a guarded call threw means the dependency failed.
  using FailurePredicate = std::function<bool(const std::exception&)>;

  /// A breaker called `name` (a metric label: e.g. "redis", "llm_gemini"); `clock` defaults to steady_clock.
  CircuitBreaker(std::string name, BreakerSettings settings, obs::MetricsRegistry& metrics, obs::Logger& logger,
                 Clock clock = {});
  ~CircuitBreaker();
  CircuitBreaker(const CircuitBreaker&) = delete;
  CircuitBreaker& operator=(const CircuitBreaker&) = delete;

  /// True when a call may go ahead now (an open breaker whose time is up turns half-open
  /// here and admits this call as a probe). Every admitted call must end in exactly one of
  /// record_success(), record_failure() or record_ignored().
  [[nodiscard]] bool allow();
  /// The admitted call succeeded: resets the failure count; closes a half-open breaker once enough probes succeeded.
  void record_success();
  /// The admitted call failed: counts towards opening; reopens a half-open breaker.
  void record_failure();
  /// The admitted call ended without saying anything about the dependency (cancelled, the caller's own error).
  void record_ignored();

  /// The state now (an open breaker whose time is up still reads open until the next allow()).
  [[nodiscard]] BreakerState state() const;
  /// The breaker's name.
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  /// The settings it was built with.
  [[nodiscard]] const BreakerSettings& settings() const noexcept { return settings_; }

  /// Runs `task` through the breaker: throws CircuitOpenError without starting it when the
  /// breaker refuses; otherwise awaits it, counts its outcome and returns or rethrows. An
  /// exception counts as a failure when `is_failure` says so (every std::exception when it
  /// is empty); other exceptions count as neither. The breaker must outlive the call.
  template <typename T>
  Task<T> run(Task<T> task, FailurePredicate is_failure = {}) {
    Admission admission = admit();
    if (!admission.admitted) {
      throw CircuitOpenError(name_, admission.retry_in);
    }
    Outcome outcome{*this, admission.generation};
    try {
      if constexpr (std::is_void_v<T>) {
        co_await std::move(task);
        outcome.success();
      } else {
        T value = co_await std::move(task);
        outcome.success();
        co_return value;
      }
    } catch (const std::exception& e) {
      if (!is_failure || is_failure(e)) {
        outcome.failure();
      }
      throw;
    }
  }

 private:
  enum class Verdict { kSuccess, kFailure, kIgnored };

  struct Admission {
    bool admitted = false;
    std::uint64_t generation = 0;
    std::chrono::milliseconds retry_in{0};
  };

  /// The result of one admitted call; a call that ends without a verdict counts as ignored.
  class Outcome {
   public:
    Outcome(CircuitBreaker& breaker, std::uint64_t generation) : breaker_(breaker), generation_(generation) {}
    Outcome(const Outcome&) = delete;
    Outcome& operator=(const Outcome&) = delete;
    ~Outcome() {
      if (!done_)
        breaker_.complete(generation_, Verdict::kIgnored);
    }
    void success() { finish(Verdict::kSuccess); }
    void failure() { finish(Verdict::kFailure); }

   private:
    void finish(Verdict verdict) {
      done_ = true;
      breaker_.complete(generation_, verdict);
    }
    CircuitBreaker& breaker_;
    std::uint64_t generation_;
    bool done_ = false;
  };

  /// A transition decided under the lock, reported after it is released.
  struct Transition {
    bool happened = false;
    BreakerState from = BreakerState::kClosed;
    BreakerState to = BreakerState::kClosed;
    unsigned failures = 0;
  };

  Admission admit();
  /// Applies the verdict of a call admitted in `generation` (stale generations are ignored).
  void complete(std::uint64_t generation, Verdict verdict);
  /// Applies a verdict to the current generation (the public record_* calls).
  void complete_current(Verdict verdict);
  Transition move_to(BreakerState to);  // requires mutex_
  void report(const Transition& transition);

  std::string name_;
  BreakerSettings settings_;
  obs::Logger& logger_;
  Clock clock_;
  obs::CallbackFamily& state_family_;
  obs::Counter* to_closed_;
  obs::Counter* to_open_;
  obs::Counter* to_half_open_;

  std::atomic<int> exported_state_{0};  // read by the gauge without taking mutex_

  mutable std::mutex mutex_;
  BreakerState state_ = BreakerState::kClosed;
  std::uint64_t generation_ = 0;  // bumped on every transition
  unsigned consecutive_failures_ = 0;
  unsigned probes_in_flight_ = 0;
  unsigned probe_successes_ = 0;
  std::chrono::steady_clock::time_point opened_at_{};
};

}  // namespace evolveai::net
