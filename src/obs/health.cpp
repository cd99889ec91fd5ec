#include "obs/health.hpp"

#include "net/deadline.hpp"
namespace evolveai::obs {

void HealthChecks::add(std::string name, Check check) {
  const std::scoped_lock lock(mutex_);
  checks_.emplace_back(std::move(name), std::move(check));
}

Task<std::vector<CheckReport>> HealthChecks::run(std::chrono::milliseconds timeout) const {
  std::vector<std::pair<std::string, Check>> checks;
  {
    const std::scoped_lock lock(mutex_);
    checks = checks_;
  }
  std::vector<CheckReport> reports;
  reports.reserve(checks.size());
  for (auto& [name, check] : checks) {
    CheckReport report;
    report.name = name;
    const auto started = std::chrono::steady_clock::now();
    try {
      auto checking = check();
      const auto outcome = co_await net::with_timeout(std::move(checking), timeout);
      if (outcome) {
        report.ok = outcome->ok;
        report.degraded = !outcome->ok && outcome->degraded;
        report.detail = outcome->detail;
      } else {
        report.detail = "timed out after " + std::to_string(timeout.count()) + " ms";
      }
    } catch (const std::exception& e) {
      report.detail = e.what();
    }
    report.latency_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    reports.push_back(std::move(report));
  }
  co_return reports;
}

}  // namespace evolveai::obs
