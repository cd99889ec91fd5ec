#include "app/admin_wiring.hpp"

#include "api/admin_routes.hpp"
#include "app/cli_storage.hpp"
#include "services/feature_flags.hpp"

namespace evolveai::app {

std::unique_ptr<services::FeatureFlags> make_feature_flags(storage::Store& store, cache::Cache& cache) {
  return std::make_unique<services::FeatureFlags>(store, cache);
}

services::AdminOptions admin_options(const Config& config) {
  services::AdminOptions options;
  options.cleanup_batch = static_cast<std::size_t>(std::max(1, config.retention.batch_size));
  options.backups = backup_settings(config);
  return options;
}

AdminLayer::AdminLayer(const Config& config, storage::Store& store, services::FeatureFlags& flags,
                       services::StarRefunds* refunds, net::BlockingPool& blocking, obs::Logger& logger)
    : service_(std::make_unique<services::AdminService>(
          store, flags, refunds, admin_options(config), &blocking, [] { return std::chrono::system_clock::now(); },
          logger)) {}

AdminLayer::~AdminLayer() = default;

void AdminLayer::add_routes(http::Router& router) {
  api::add_admin_routes(router, *service_);
}

services::AdminService& AdminLayer::service() {
  return *service_;
}

}  // namespace evolveai::app
