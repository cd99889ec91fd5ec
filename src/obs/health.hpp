#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "core/task.hpp"

namespace evolveai::obs {

/// The outcome of one readiness check.
struct CheckResult {
  bool ok = false;
  /// The dependency is down but the service copes without it (e.g. Redis): reported, not fatal.
  bool degraded = false;
  std::string detail;  ///< why it failed (safe to show operators)
};

/// One check's outcome as reported by /readyz.
struct CheckReport {
  std::string name;
  bool ok = false;
  bool degraded = false;
  double latency_ms = 0;
  std::string detail;
};

/// Readiness: a flag the process turns off at shutdown, plus checks registered by components.
class HealthChecks {
 public:
  using Check = std::function<Task<CheckResult>()>;

  /// Registers a named check (e.g. "database", "redis", "llm").
  void add(std::string name, Check check);
  /// Runs every check, each cut off after `timeout`.
  [[nodiscard]] Task<std::vector<CheckReport>> run(std::chrono::milliseconds timeout) const;

  void set_ready(bool ready) { ready_.store(ready); }
  [[nodiscard]] bool ready() const { return ready_.load(); }

 private:
  mutable std::mutex mutex_;
  std::vector<std::pair<std::string, Check>> checks_;
  std::atomic<bool> ready_{false};
};

}  // namespace evolveai::obs
