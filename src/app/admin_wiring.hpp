#pragma once

#include <memory>

#include "app/config.hpp"
#include "services/admin_service.hpp"

namespace evolveai::cache {
class Cache;
}

namespace evolveai::http {
class Router;
}

namespace evolveai::net {
class BlockingPool;
}

namespace evolveai::obs {
class Logger;
}

namespace evolveai::storage {
class Store;
}

namespace evolveai::services {
class StarRefunds;
}  // namespace evolveai::services

namespace evolveai::app {

/// The node's feature flags, stored in the database and read through `cache` (a change made on
/// another node is seen within a few seconds).
[[nodiscard]] std::unique_ptr<services::FeatureFlags> make_feature_flags(storage::Store& store, cache::Cache& cache);

/// The operators' side of a node: the AdminService (backups from `[backup]`, cleanup batches
/// from `[retention]`) and the `/api/v1/admin/*` routes.
class AdminLayer {
 public:
  /// `refunds` may be null while no bot is configured: refunds then answer 503 `refunds_unavailable`.
  AdminLayer(const Config& config, storage::Store& store, services::FeatureFlags& flags, services::StarRefunds* refunds,
             net::BlockingPool& blocking, obs::Logger& logger);
  ~AdminLayer();
  AdminLayer(const AdminLayer&) = delete;
  AdminLayer& operator=(const AdminLayer&) = delete;

  /// Every admin route but log-in.
  void add_routes(http::Router& router);
  /// The operators' actions, for other front doors.
  [[nodiscard]] services::AdminService& service();

 private:
  std::unique_ptr<services::AdminService> service_;
};

/// The AdminService options a node or a command uses, from `[backup]` and `[retention]`.
[[nodiscard]] services::AdminOptions admin_options(const Config& config);

}  // namespace evolveai::app
