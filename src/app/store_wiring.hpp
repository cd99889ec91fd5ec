#pragma once

#include "app/config.hpp"
#include "storage/open_store.hpp"
#include "storage/store_observer.hpp"

namespace evolveai::obs {
class Logger;
class MetricsRegistry;
}  // namespace evolveai::obs

namespace evolveai::app {

/// Statement metrics (count, duration, slow count, retries, pool usage) and the slow-statement log,
/// keyed by statement name; parameters never reach either.
storage::StoreObserver make_store_observer(obs::Logger& logger, obs::MetricsRegistry& metrics,
                                           std::chrono::milliseconds slow_threshold);

/// The store's settings from `[database]`.
storage::StoreSettings store_settings(const Config& config, storage::StoreObserver observer);

}  // namespace evolveai::app
