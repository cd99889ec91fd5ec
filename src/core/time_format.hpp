#pragma once

#include <chrono>
#include <string>

namespace evolveai::core {

/// A UTC time as RFC 3339 with whole seconds, e.g. "2026-11-25T20:19:25Z" (what the API returns).
std::string format_rfc3339(std::chrono::system_clock::time_point time);

}  // namespace evolveai::core
