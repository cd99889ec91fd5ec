#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/task.hpp"
#include "storage/records.hpp"

namespace evolveai::cache {
class Cache;
}

namespace evolveai::storage {
class Store;
}

namespace evolveai::services {

/// The state of one feature flag: on/off, and the share of users (by a stable hash of flag
/// name and user id) that get the feature while it is on.
struct FlagState {
  bool enabled = true;
  int percentage = 100;  ///< 0..100

  friend bool operator==(const FlagState&, const FlagState&) = default;
};

/// Every known flag by name.
using FlagSet = std::map<std::string, FlagState, std::less<>>;

/// Names of the flags services read. Unknown names are refused when set and read as off.
inline constexpr std::string_view kFlagVoiceReplies = "voice_replies";
inline constexpr std::string_view kFlagRelevantPast = "relevant_past";
inline constexpr std::string_view kFlagTelegramStreaming = "telegram_streaming";
inline constexpr std::string_view kFlagNewUserSignup = "new_user_signup";

/// Named feature flags stored in the database (the Store's kv, key `feature_flag:<name>`),
/// read through the cache with a short time to live and erased from it on every change; a
/// node that did not make a change sees it within that time.
class FeatureFlags {
 public:
  /// `ttl` bounds how long a change may take to reach other nodes.
  FeatureFlags(storage::Store& store, cache::Cache& cache, std::chrono::milliseconds ttl = std::chrono::seconds(5));

  /// True when the flag is on and `user` falls into its rollout percentage; false for an unknown name.
  Task<bool> enabled(std::string_view name, storage::UserId user);
  /// Every known flag with its state (defaults for flags never set: on, 100 %).
  Task<FlagSet> all();
  /// Sets some flags (the others keep their state) and returns every flag afterwards. Unknown
  /// names and percentages outside 0..100 are `validation_failed`, and nothing is changed.
  Task<FlagSet> set(const FlagSet& changes);

  /// The known flag names, in a fixed order.
  [[nodiscard]] static const std::vector<std::string>& known_names();
  /// Whether `user` is inside a rollout of `percentage` % for flag `name`: a stable hash of both
  /// mapped onto 0..99, compared with the percentage. The same answer on every node and every run.
  [[nodiscard]] static bool in_rollout(std::string_view name, storage::UserId user, int percentage) noexcept;

 private:
  Task<FlagSet> load_from_store();

  storage::Store& store_;
  cache::Cache& cache_;
  std::chrono::milliseconds ttl_;
};

}  // namespace evolveai::services
