#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <thread>

#include "app/application.hpp"
#include "app/config.hpp"
#include "http/router.hpp"
#include "obs/health.hpp"

namespace evolveai::testing {

/// A fresh directory under the system temp dir, removed when this object dies.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

/// Defaults fit for tests: a free port, two threads, quiet logs, data in `data_dir`.
app::Config test_config(const std::filesystem::path& data_dir);

/// The whole application running in-process on its own thread.
class TestApp {
 public:
  /// Builds the application from `config`, lets `add_routes` register extra routes, starts it.
  explicit TestApp(app::Config config, const std::function<void(http::Router&)>& add_routes = {},
                   const std::function<void(obs::HealthChecks&)>& add_checks = {});
  ~TestApp();
  TestApp(const TestApp&) = delete;
  TestApp& operator=(const TestApp&) = delete;

  [[nodiscard]] std::uint16_t port() const { return port_; }
  /// Begins a graceful shutdown and waits for `run()` to return its exit code.
  int stop();

 private:
  std::unique_ptr<app::Application> application_;
  std::thread thread_;
  std::uint16_t port_ = 0;
  int exit_code_ = -1;
};

}  // namespace evolveai::testing
