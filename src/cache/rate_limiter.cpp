#include "cache/rate_limiter.hpp"

#include <stdexcept>

namespace evolveai::cache {

void validate(const RatePolicy& policy) {
  using namespace std::chrono_literals;
  if (policy.name.empty())
    throw std::invalid_argument("rate policy without a name");
  if (policy.limit < 1 || policy.limit > 1'000'000) {
    throw std::invalid_argument("rate policy '" + policy.name + "': limit must be within 1..1000000");
  }
  if (policy.period < 1ms || policy.period > std::chrono::milliseconds(std::chrono::hours(24 * 7))) {
    throw std::invalid_argument("rate policy '" + policy.name + "': period must be within 1 ms..7 days");
  }
}

}  // namespace evolveai::cache
