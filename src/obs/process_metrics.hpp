#pragma once

#include <cstddef>
#include <string>

namespace evolveai::obs {

class MetricsRegistry;

/// Resident set size of this process in bytes (from /proc/self/statm); 0 when it cannot be read.
[[nodiscard]] std::size_t current_rss_bytes();

/// Registers the standard process figures, read at scrape time from /proc: process_resident_memory_bytes,
/// process_virtual_memory_bytes, process_cpu_seconds_total, process_start_time_seconds, process_open_fds,
/// process_max_fds, evolveai_uptime_seconds and evolveai_build_info{version,commit} = 1.
void register_process_metrics(MetricsRegistry& registry, std::string version, std::string commit);

}  // namespace evolveai::obs
