#include "net/circuit_breaker.hpp"

#include <algorithm>

#include "obs/logger.hpp"
#include "obs/metrics.hpp"

namespace evolveai::net {

namespace {

std::chrono::milliseconds ceil_ms(std::chrono::steady_clock::duration d) {
  return std::max(std::chrono::ceil<std::chrono::milliseconds>(d), std::chrono::milliseconds(0));
}

}  // namespace

std::string_view breaker_state_name(BreakerState state) noexcept {
  switch (state) {
    case BreakerState::kClosed: return "closed";
    case BreakerState::kOpen: return "open";
    case BreakerState::kHalfOpen: return "half_open";
  }
  return "unknown";
}

CircuitOpenError::CircuitOpenError(std::string breaker, std::chrono::milliseconds retry_in)
    : std::runtime_error("circuit breaker '" + breaker + "' is open"),
      breaker_(std::move(breaker)),
      retry_in_(retry_in) {}

CircuitBreaker::CircuitBreaker(std::string name, BreakerSettings settings, obs::MetricsRegistry& metrics,
                               obs::Logger& logger, Clock clock)
    : name_(std::move(name)),
      settings_(settings),
      logger_(logger),
      clock_(clock ? std::move(clock) : Clock([] { return std::chrono::steady_clock::now(); })),
      state_family_(metrics.callback_gauge_family("evolveai_circuit_breaker_state",
                                                  "Circuit breaker state: 0 closed, 1 open, 2 half-open", {"name"})) {
  settings_.failure_threshold = std::max(settings_.failure_threshold, 1U);
  settings_.half_open_probes = std::max(settings_.half_open_probes, 1U);
  auto& transitions = metrics.counter("evolveai_circuit_breaker_transitions_total",
                                      "Circuit breaker state changes by the state entered", {"name", "to"});
  to_closed_ = &transitions.with({name_, breaker_state_name(BreakerState::kClosed)});
  to_open_ = &transitions.with({name_, breaker_state_name(BreakerState::kOpen)});
  to_half_open_ = &transitions.with({name_, breaker_state_name(BreakerState::kHalfOpen)});
  state_family_.set({name_}, [this] { return static_cast<double>(exported_state_.load(std::memory_order_relaxed)); });
}

CircuitBreaker::~CircuitBreaker() {
  state_family_.remove({name_});
}

bool CircuitBreaker::allow() {
  return admit().admitted;
}

void CircuitBreaker::record_success() {
  complete_current(Verdict::kSuccess);
}

void CircuitBreaker::record_failure() {
  complete_current(Verdict::kFailure);
}

void CircuitBreaker::record_ignored() {
  complete_current(Verdict::kIgnored);
}

BreakerState CircuitBreaker::state() const {
  const std::scoped_lock lock(mutex_);
  return state_;
}

CircuitBreaker::Admission CircuitBreaker::admit() {
  Transition transition;
  Admission admission;
  {
    const std::scoped_lock lock(mutex_);
    if (state_ == BreakerState::kOpen) {
      const auto now = clock_();
      const auto reopen_at = opened_at_ + settings_.open_duration;
      if (now < reopen_at) {
        admission.retry_in = ceil_ms(reopen_at - now);
        return admission;
      }
      transition = move_to(BreakerState::kHalfOpen);
    }
    if (state_ == BreakerState::kClosed) {
      admission.admitted = true;
    } else if (probes_in_flight_ + probe_successes_ < settings_.half_open_probes) {
      ++probes_in_flight_;
      admission.admitted = true;
    }
    admission.generation = generation_;
  }
  report(transition);
  return admission;
}

void CircuitBreaker::complete(std::uint64_t generation, Verdict verdict) {
  Transition transition;
  {
    const std::scoped_lock lock(mutex_);
    // A call admitted before the last transition says nothing about the state now.
    if (generation != generation_)
      return;
    switch (state_) {
      case BreakerState::kClosed:
        if (verdict == Verdict::kSuccess) {
          consecutive_failures_ = 0;
        } else if (verdict == Verdict::kFailure && ++consecutive_failures_ >= settings_.failure_threshold) {
          transition = move_to(BreakerState::kOpen);
        }
        break;
      case BreakerState::kHalfOpen:
        if (probes_in_flight_ > 0)
          --probes_in_flight_;
        if (verdict == Verdict::kSuccess && ++probe_successes_ >= settings_.half_open_probes) {
          transition = move_to(BreakerState::kClosed);
        } else if (verdict == Verdict::kFailure) {
          transition = move_to(BreakerState::kOpen);
        }
        break;
      case BreakerState::kOpen: break;
    }
  }
  report(transition);
}

void CircuitBreaker::complete_current(Verdict verdict) {
  std::uint64_t generation = 0;
  {
    const std::scoped_lock lock(mutex_);
    generation = generation_;
  }
  complete(generation, verdict);
}

CircuitBreaker::Transition CircuitBreaker::move_to(BreakerState to) {
  Transition transition{true, state_, to, consecutive_failures_};
  state_ = to;
  exported_state_.store(static_cast<int>(to), std::memory_order_relaxed);
  ++generation_;
  consecutive_failures_ = 0;
  probes_in_flight_ = 0;
  probe_successes_ = 0;
  if (to == BreakerState::kOpen)
    opened_at_ = clock_();
  return transition;
}

void CircuitBreaker::report(const Transition& transition) {
  if (!transition.happened)
    return;
  switch (transition.to) {
    case BreakerState::kClosed: to_closed_->inc(); break;
    case BreakerState::kOpen: to_open_->inc(); break;
    case BreakerState::kHalfOpen: to_half_open_->inc(); break;
  }
  const auto level = transition.to == BreakerState::kOpen ? obs::LogLevel::kWarn : obs::LogLevel::kInfo;
  logger_.log(level, "circuit_breaker_transition",
              {{"breaker", name_},
               {"from", breaker_state_name(transition.from)},
               {"to", breaker_state_name(transition.to)},
               {"consecutive_failures", transition.failures},
               {"open_ms", static_cast<long long>(settings_.open_duration.count())}});
}

}  // namespace evolveai::net
