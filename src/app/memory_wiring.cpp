#include "app/memory_wiring.hpp"

namespace evolveai::app {

services::MemoryOptions memory_options(const Config& config) {
  const auto& memory = config.memory;
  services::MemoryOptions options;
  options.limits.max_facts = static_cast<std::size_t>(memory.max_facts);
  options.limits.max_fact_chars = static_cast<std::size_t>(memory.max_fact_chars);
  options.limits.max_summary_chars = static_cast<std::size_t>(memory.max_summary_chars);
  options.summary_threshold = memory.summary_threshold;
  options.max_messages_per_summary = static_cast<std::size_t>(memory.max_messages_per_summary);
  options.job_lease = memory.job_lease;
  options.retry_delay = memory.retry_delay;
  options.max_attempts = memory.max_attempts;
  return options;
}

}  // namespace evolveai::app
