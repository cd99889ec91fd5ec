#include "services/premium_plans.hpp"

#include <algorithm>
#include <charconv>
#include <optional>
#include <stdexcept>

namespace evolveai::services {
namespace {

constexpr std::size_t kMaxPlanIdChars = 32;
constexpr std::int64_t kMaxDays = 3650;
constexpr std::int64_t kMaxStars = 100'000;

std::optional<std::int64_t> whole_number(std::string_view text) {
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

bool valid_id(std::string_view id) {
  return !id.empty() && id.size() <= kMaxPlanIdChars && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

struct SplitSpec {
  std::string_view id;
  std::string_view days;
  std::string_view stars;
};

std::optional<SplitSpec> split_spec(std::string_view spec) {
  const auto first = spec.find(':');
  if (first == std::string_view::npos) {
    return std::nullopt;
  }
  const auto second = spec.find(':', first + 1);
  if (second == std::string_view::npos || spec.find(':', second + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  return SplitSpec{spec.substr(0, first), spec.substr(first + 1, second - first - 1), spec.substr(second + 1)};
}

}  // namespace

PremiumPlans::PremiumPlans(std::vector<PremiumPlan> plans) : plans_(std::move(plans)) {
  for (std::size_t i = 0; i < plans_.size(); ++i) {
    for (std::size_t j = i + 1; j < plans_.size(); ++j) {
      if (plans_[i].id == plans_[j].id) {
        throw std::invalid_argument("premium plan '" + plans_[i].id + "' is listed twice");
      }
    }
  }
}

std::string PremiumPlans::spec_problem(std::string_view spec) {
  const auto parts = split_spec(spec);
  if (!parts) {
    return "write a plan as \"id:days:stars\", e.g. \"month:30:250\"";
  }
  if (!valid_id(parts->id)) {
    return "a plan id is 1..32 characters of a-z, 0-9 and _";
  }
  const auto days = whole_number(parts->days);
  if (!days || *days < 1 || *days > kMaxDays) {
    return "days must be a whole number in 1..3650";
  }
  const auto stars = whole_number(parts->stars);
  if (!stars || *stars < 1 || *stars > kMaxStars) {
    return "stars must be a whole number in 1..100000";
  }
  return {};
}

PremiumPlans PremiumPlans::parse(const std::vector<std::string>& specs) {
  std::vector<PremiumPlan> plans;
  plans.reserve(specs.size());
  for (const auto& spec : specs) {
    const auto problem = spec_problem(spec);
    if (!problem.empty()) {
      throw std::invalid_argument("premium plan '" + spec + "': " + problem);
    }
    const auto parts = split_spec(spec);
    plans.push_back(PremiumPlan{std::string(parts->id), *whole_number(parts->days), *whole_number(parts->stars)});
  }
  return PremiumPlans(std::move(plans));
}

const PremiumPlan* PremiumPlans::find(std::string_view id) const {
  const auto found =
      std::find_if(plans_.begin(), plans_.end(), [id](const PremiumPlan& plan) { return plan.id == id; });
  return found == plans_.end() ? nullptr : &*found;
}

}  // namespace evolveai::services
