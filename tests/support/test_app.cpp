#include "support/test_app.hpp"

#include <random>
#include <stdexcept>

namespace evolveai::testing {

TempDir::TempDir() {
  std::random_device entropy;
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto candidate = std::filesystem::temp_directory_path() / ("evolveai-test-" + std::to_string(entropy()));
    if (std::filesystem::create_directory(candidate)) {
      path_ = std::move(candidate);
      return;
    }
  }
  throw std::runtime_error("cannot create a temporary directory");
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

app::Config test_config(const std::filesystem::path& data_dir) {
  app::Config config;
  config.server.host = "127.0.0.1";
  config.server.port = 0;
  config.server.threads = 2;
  config.server.data_dir = data_dir.string();
  config.server.web_root = (data_dir / "web").string();
  config.log.level = "warn";
  config.auth.jwt_secret = std::string(48, 'k');
  config.database.url = "sqlite://" + (data_dir / "evolveai.db").string();
  // Tests that set a bot token only to sign users in must not talk to the real Bot API: nothing
  // listens on port 1, and webhook mode never polls. Telegram tests point these at their fake.
  config.telegram.api_base_url = "http://127.0.0.1:1";
  config.telegram.mode = "webhook";
  return config;
}

TestApp::TestApp(app::Config config, const std::function<void(http::Router&)>& add_routes,
                 const std::function<void(obs::HealthChecks&)>& add_checks)
    : application_(std::make_unique<app::Application>(std::move(config))) {
  if (add_routes) {
    add_routes(application_->router());
  }
  if (add_checks) {
    add_checks(application_->health());
  }
  application_->start();
  port_ = application_->port();
  thread_ = std::thread([this] { exit_code_ = application_->run(); });
}

TestApp::~TestApp() {
  stop();
}

int TestApp::stop() {
  if (thread_.joinable()) {
    application_->request_stop();
    thread_.join();
  }
  return exit_code_;
}

}  // namespace evolveai::testing
