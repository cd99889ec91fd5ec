#pragma once

#include <cstdint>
#include <optional>

#include <boost/json/object.hpp>

#include "core/task.hpp"
#include "services/user_settings.hpp"
#include "storage/records.hpp"

namespace evolveai::storage {
class Store;
}

namespace evolveai::services {

/// Today's use of the free allowance.
struct Usage {
  std::int64_t messages_today = 0;
  std::optional<std::int64_t> daily_limit;  ///< nullopt: premium, unlimited
  storage::Time resets_at{};
};

/// Whether premium is active, and until when.
struct PremiumStatus {
  bool active = false;
  std::optional<storage::Time> until;
};

/// Everything the profile endpoint shows about a user.
struct Profile {
  storage::User user;
  PremiumStatus premium;
  Usage usage;
  UserSettings settings;
};

/// Premium status at `now`: the one place that decides whether premium is active.
PremiumStatus premium_status(const storage::User& user, storage::Time now);

/// Usage of the free allowance at `now` (a counter from an earlier UTC day counts as zero).
Usage usage_of(const storage::User& user, std::int64_t free_daily_limit, storage::Time now);

/// Reads and updates a user's own profile and settings.
class ProfileService {
 public:
  ProfileService(storage::Store& store, std::int64_t free_daily_limit, storage::Clock clock);

  /// The user's profile; 404 `not_found` when the user no longer exists.
  Task<Profile> get(storage::UserId user_id);
  /// Applies a validated settings patch and returns the new profile.
  Task<Profile> update_settings(storage::UserId user_id, const boost::json::object& patch);

 private:
  [[nodiscard]] Profile build(storage::User user) const;

  storage::Store& store_;
  std::int64_t free_daily_limit_;
  storage::Clock clock_;
};

}  // namespace evolveai::services
