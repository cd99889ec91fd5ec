#pragma once

#include "app/config.hpp"
#include "services/memory_service.hpp"

namespace evolveai::app {

/// The memory service's settings from `[memory]`.
[[nodiscard]] services::MemoryOptions memory_options(const Config& config);

}  // namespace evolveai::app
