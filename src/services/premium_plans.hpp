#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace evolveai::services {

/// One premium plan sold for Telegram Stars.
struct PremiumPlan {
  std::string id;          ///< 1..32 characters of [a-z0-9_]
  std::int64_t days = 0;   ///< premium days it buys
  std::int64_t stars = 0;  ///< its price in Telegram Stars (currency XTR)

  bool operator==(const PremiumPlan&) const = default;
};

/// The currency every plan is priced in.
inline constexpr std::string_view kStarsCurrency = "XTR";

/// The plans on sale, from `premium.plans`; the one catalogue the API, the bot and payment checks read.
class PremiumPlans {
 public:
  /// Plans in the order they are offered; ids must be unique (std::invalid_argument otherwise).
  explicit PremiumPlans(std::vector<PremiumPlan> plans);

  /// Parses specs of the form "id:days:stars" ("month:30:250"); std::invalid_argument names the bad one.
  static PremiumPlans parse(const std::vector<std::string>& specs);
  /// Checks one spec; the reason it is wrong, or "" when it is fine.
  static std::string spec_problem(std::string_view spec);

  /// The plan with this id, or null.
  [[nodiscard]] const PremiumPlan* find(std::string_view id) const;
  /// Every plan, in offer order.
  [[nodiscard]] const std::vector<PremiumPlan>& all() const noexcept { return plans_; }

 private:
  std::vector<PremiumPlan> plans_;
};

}  // namespace evolveai::services
