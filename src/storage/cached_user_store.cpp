#include "storage/cached_user_store.hpp"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <string>

#include "cache/cache.hpp"

namespace evolveai::storage {
namespace {

namespace json = boost::json;

/// Bumped whenever the cached shape of a user changes, so old entries are simply not found.
constexpr std::string_view kKeyPrefix = "user:v1:";

std::string key_of(UserId user_id) {
  return std::string(kKeyPrefix) + std::to_string(user_id);
}

std::int64_t micros(Time t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

Time from_micros(std::int64_t value) {
  return Time(std::chrono::microseconds(value));
}

json::value optional_text(const std::optional<std::string>& text) {
  return text ? json::value(*text) : json::value(nullptr);
}

std::optional<std::string> read_optional_text(const json::object& object, std::string_view key) {
  const auto& value = object.at(key);
  if (value.is_null()) {
    return std::nullopt;
  }
  return std::string(value.as_string());
}

}  // namespace

std::string encode_cached_user(const User& user) {
  json::object object;
  object["id"] = user.id;
  object["telegram_id"] = user.telegram_id;
  object["first_name"] = user.first_name;
  object["last_name"] = optional_text(user.last_name);
  object["username"] = optional_text(user.username);
  object["language_code"] = optional_text(user.language_code);
  object["settings"] = user.settings_json;
  object["banned"] = user.banned;
  object["premium_until"] = user.premium_until ? json::value(micros(*user.premium_until)) : json::value(nullptr);
  object["usage_day"] = user.usage_day ? json::value(user.usage_day->time_since_epoch().count()) : json::value(nullptr);
  object["usage_count"] = user.usage_count;
  object["created_at"] = micros(user.created_at);
  object["updated_at"] = micros(user.updated_at);
  return json::serialize(object);
}

std::optional<User> decode_cached_user(std::string_view text) {
  try {
    const auto parsed = json::parse(text);
    const auto& object = parsed.as_object();
    User user;
    user.id = object.at("id").as_int64();
    user.telegram_id = object.at("telegram_id").as_int64();
    user.first_name = std::string(object.at("first_name").as_string());
    user.last_name = read_optional_text(object, "last_name");
    user.username = read_optional_text(object, "username");
    user.language_code = read_optional_text(object, "language_code");
    user.settings_json = std::string(object.at("settings").as_string());
    user.banned = object.at("banned").as_bool();
    if (const auto& until = object.at("premium_until"); !until.is_null()) {
      user.premium_until = from_micros(until.as_int64());
    }
    if (const auto& day = object.at("usage_day"); !day.is_null()) {
      user.usage_day = std::chrono::sys_days(std::chrono::days(day.as_int64()));
    }
    user.usage_count = object.at("usage_count").as_int64();
    user.created_at = from_micros(object.at("created_at").as_int64());
    user.updated_at = from_micros(object.at("updated_at").as_int64());
    if (user.id <= 0) {
      return std::nullopt;
    }
    return user;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

CachedUserStore::CachedUserStore(std::unique_ptr<Store> inner, cache::Cache& cache, std::chrono::milliseconds ttl)
    : owned_(std::move(inner)), inner_(*owned_), cache_(cache), ttl_(ttl) {}

CachedUserStore::CachedUserStore(Store& inner, cache::Cache& cache, std::chrono::milliseconds ttl)
    : inner_(inner), cache_(cache), ttl_(ttl) {}

Task<void> CachedUserStore::forget(UserId user_id) {
  const auto key = key_of(user_id);
  co_await cache_.erase(key);
}

template <typename T>
Task<T> CachedUserStore::changing(UserId user_id, Task<T> call) {
  ++epoch_;
  auto result = co_await std::move(call);
  ++epoch_;
  co_await forget(user_id);
  co_return result;
}

Task<std::optional<User>> CachedUserStore::find_user(UserId user_id) {
  const auto key = key_of(user_id);
  auto cached = co_await cache::get_decoded<User>(cache_, key, decode_cached_user);
  if (cached && cached->id == user_id) {
    co_return cached;
  }
  const auto epoch = epoch_.load();
  auto user = co_await inner_.find_user(user_id);
  if (user && epoch_.load() == epoch) {
    auto encoded = encode_cached_user(*user);
    co_await cache_.set(key, std::move(encoded), ttl_);
  }
  co_return user;
}

Task<User> CachedUserStore::upsert_user(const TelegramIdentity& identity) {
  ++epoch_;
  auto user = co_await inner_.upsert_user(identity);
  ++epoch_;
  co_await forget(user.id);
  co_return user;
}

Task<bool> CachedUserStore::update_user_settings(UserId user_id, std::string settings_json) {
  auto call = inner_.update_user_settings(user_id, std::move(settings_json));
  co_return co_await changing(user_id, std::move(call));
}

Task<bool> CachedUserStore::set_user_banned(UserId user_id, bool banned) {
  auto call = inner_.set_user_banned(user_id, banned);
  co_return co_await changing(user_id, std::move(call));
}

Task<bool> CachedUserStore::set_premium_until(UserId user_id, std::optional<Time> until) {
  auto call = inner_.set_premium_until(user_id, until);
  co_return co_await changing(user_id, std::move(call));
}

Task<std::optional<Time>> CachedUserStore::grant_premium(UserId user_id, std::chrono::days days) {
  auto call = inner_.grant_premium(user_id, days);
  co_return co_await changing(user_id, std::move(call));
}

Task<QuotaGrant> CachedUserStore::take_quota_unit(UserId user_id, std::int64_t free_limit) {
  auto call = inner_.take_quota_unit(user_id, free_limit);
  co_return co_await changing(user_id, std::move(call));
}

Task<void> CachedUserStore::give_back_quota_unit(UserId user_id, std::chrono::sys_days day) {
  ++epoch_;
  co_await inner_.give_back_quota_unit(user_id, day);
  ++epoch_;
  co_await forget(user_id);
}

Task<DeletedUserData> CachedUserStore::delete_user_data(UserId user_id) {
  auto call = inner_.delete_user_data(user_id);
  co_return co_await changing(user_id, std::move(call));
}

Task<PaymentOutcome> CachedUserStore::apply_payment(const NewPayment& payment) {
  auto call = inner_.apply_payment(payment);
  co_return co_await changing(payment.user_id, std::move(call));
}

Task<RefundOutcome> CachedUserStore::refund_payment(std::string_view charge_id) {
  ++epoch_;
  auto outcome = co_await inner_.refund_payment(charge_id);
  ++epoch_;
  if (outcome.payment) {
    co_await forget(outcome.payment->user_id);
  }
  co_return outcome;
}

}  // namespace evolveai::storage
