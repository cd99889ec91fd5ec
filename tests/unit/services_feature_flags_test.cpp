#include <gtest/gtest.h>

#include <set>
#include <string>

#include "app/cli_admin.hpp"
#include "services/feature_flags.hpp"

namespace evolveai::services {
namespace {

TEST(FeatureFlagRollout, ThirtyPercentReachesThirtyPercentOfUsersAndAlwaysTheSameOnes) {
  constexpr int kUsers = 10000;
  std::set<storage::UserId> chosen;
  for (storage::UserId user = 1; user <= kUsers; ++user) {
    if (FeatureFlags::in_rollout("voice_replies", user, 30)) {
      chosen.insert(user);
    }
  }
  EXPECT_GE(chosen.size(), 2700U);
  EXPECT_LE(chosen.size(), 3300U);
  for (storage::UserId user = 1; user <= kUsers; ++user) {
    EXPECT_EQ(FeatureFlags::in_rollout("voice_replies", user, 30), chosen.contains(user)) << user;
  }
}

TEST(FeatureFlagRollout, RaisingThePercentageOnlyAddsUsers) {
  for (storage::UserId user = 1; user <= 2000; ++user) {
    if (FeatureFlags::in_rollout("relevant_past", user, 10)) {
      EXPECT_TRUE(FeatureFlags::in_rollout("relevant_past", user, 50)) << user;
    }
  }
}

TEST(FeatureFlagRollout, EachFlagPicksItsOwnUsersAndTheEndsAreExact) {
  int both = 0;
  for (storage::UserId user = 1; user <= 10000; ++user) {
    EXPECT_TRUE(FeatureFlags::in_rollout("voice_replies", user, 100));
    EXPECT_FALSE(FeatureFlags::in_rollout("voice_replies", user, 0));
    both += FeatureFlags::in_rollout("voice_replies", user, 50) && FeatureFlags::in_rollout("relevant_past", user, 50)
                ? 1
                : 0;
  }
  // Independent halves overlap in about a quarter of the users, not in all of them.
  EXPECT_GT(both, 2200);
  EXPECT_LT(both, 2800);
}

TEST(FeatureFlagRollout, KnownFlagsAreTheFourServicesRead) {
  const auto& names = FeatureFlags::known_names();
  const std::set<std::string> known(names.begin(), names.end());
  EXPECT_EQ(known, (std::set<std::string>{"voice_replies", "relevant_past", "telegram_streaming", "new_user_signup"}));
}

TEST(FeatureFlagCli, SetArgumentsParse) {
  EXPECT_EQ(app::parse_flag_change("voice_replies=on")->second, (FlagState{true, 100}));
  EXPECT_EQ(app::parse_flag_change("voice_replies=off")->second, (FlagState{false, 100}));
  const auto rollout = app::parse_flag_change("relevant_past=30");
  ASSERT_TRUE(rollout);
  EXPECT_EQ(rollout->first, "relevant_past");
  EXPECT_EQ(rollout->second, (FlagState{true, 30}));
  EXPECT_FALSE(app::parse_flag_change("relevant_past=101"));
  EXPECT_FALSE(app::parse_flag_change("relevant_past"));
  EXPECT_FALSE(app::parse_flag_change("=on"));
  EXPECT_FALSE(app::parse_flag_change("x=maybe"));
}

}  // namespace
}  // namespace evolveai::services
