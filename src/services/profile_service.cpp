#include "services/profile_service.hpp"

#include <boost/json/serialize.hpp>

#include "core/errors.hpp"
#include "storage/store.hpp"

namespace evolveai::services {

PremiumStatus premium_status(const storage::User& user, storage::Time now) {
  PremiumStatus status;
  status.active = user.premium_at(now);
  if (status.active) {
    status.until = user.premium_until;
  }
  return status;
}

Usage usage_of(const storage::User& user, std::int64_t free_daily_limit, storage::Time now) {
  const auto today = std::chrono::floor<std::chrono::days>(now);
  Usage usage;
  usage.messages_today = user.usage_day && *user.usage_day == today ? user.usage_count : 0;
  if (!user.premium_at(now)) {
    usage.daily_limit = free_daily_limit;
  }
  usage.resets_at = storage::Time(today + std::chrono::days(1));
  return usage;
}

ProfileService::ProfileService(storage::Store& store, std::int64_t free_daily_limit, storage::Clock clock)
    : store_(store), free_daily_limit_(free_daily_limit), clock_(std::move(clock)) {}

Profile ProfileService::build(storage::User user) const {
  const auto now = clock_();
  Profile profile;
  profile.premium = premium_status(user, now);
  profile.usage = usage_of(user, free_daily_limit_, now);
  profile.settings = parse_stored_settings(user.settings_json);
  profile.user = std::move(user);
  return profile;
}

Task<Profile> ProfileService::get(storage::UserId user_id) {
  auto user = co_await store_.find_user(user_id);
  if (!user) {
    throw core::not_found("No such user");
  }
  co_return build(std::move(*user));
}

Task<Profile> ProfileService::update_settings(storage::UserId user_id, const boost::json::object& patch) {
  auto user = co_await store_.find_user(user_id);
  if (!user) {
    throw core::not_found("No such user");
  }
  const auto settings = apply_settings_patch(parse_stored_settings(user->settings_json), patch);
  const auto stored = boost::json::serialize(to_json(settings));
  co_await store_.update_user_settings(user_id, stored);
  user->settings_json = stored;
  co_return build(std::move(*user));
}

}  // namespace evolveai::services
