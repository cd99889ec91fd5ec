#include "services/feature_flags.hpp"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>

#include "cache/cache.hpp"
#include "core/errors.hpp"
#include "storage/store.hpp"

namespace evolveai::services {
namespace {

namespace json = boost::json;

/// Bumped whenever the cached shape changes, so old entries are simply not found.
constexpr std::string_view kCacheKey = "feature_flags:v1";
constexpr std::string_view kStoreKeyPrefix = "feature_flag:";
constexpr int kMaxPercentage = 100;

std::string store_key(std::string_view name) {
  return std::string(kStoreKeyPrefix) + std::string(name);
}

json::object flag_json(const FlagState& state) {
  return json::object{{"enabled", state.enabled}, {"percentage", state.percentage}};
}

/// A stored or cached flag; nullopt when it does not have the expected shape.
std::optional<FlagState> flag_from_json(const json::value& value) {
  const auto* object = value.if_object();
  if (object == nullptr) {
    return std::nullopt;
  }
  const auto* enabled = object->if_contains("enabled");
  const auto* percentage = object->if_contains("percentage");
  if (enabled == nullptr || !enabled->is_bool() || percentage == nullptr || !percentage->is_int64()) {
    return std::nullopt;
  }
  const auto share = percentage->as_int64();
  if (share < 0 || share > kMaxPercentage) {
    return std::nullopt;
  }
  return FlagState{enabled->as_bool(), static_cast<int>(share)};
}

std::string encode_set(const FlagSet& flags) {
  json::object object;
  for (const auto& [name, state] : flags) {
    object[name] = flag_json(state);
  }
  return json::serialize(object);
}

std::optional<FlagSet> decode_set(std::string_view text) {
  const auto parsed = json::parse(text);
  FlagSet flags;
  for (const auto& [name, value] : parsed.as_object()) {
    auto state = flag_from_json(value);
    if (!state) {
      return std::nullopt;
    }
    flags.emplace(std::string(name), *state);
  }
  return flags;
}

bool known(std::string_view name) {
  const auto& names = FeatureFlags::known_names();
  return std::find(names.begin(), names.end(), name) != names.end();
}

/// 64-bit FNV-1a, then a final avalanche so that neighbouring ids spread evenly.
std::uint64_t stable_hash(std::string_view text) noexcept {
  constexpr std::uint64_t kOffset = 0xcbf29ce484222325ULL;
  constexpr std::uint64_t kPrime = 0x100000001b3ULL;
  std::uint64_t hash = kOffset;
  for (const char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= kPrime;
  }
  hash ^= hash >> 33U;
  hash *= 0xff51afd7ed558ccdULL;
  hash ^= hash >> 33U;
  hash *= 0xc4ceb9fe1a85ec53ULL;
  hash ^= hash >> 33U;
  return hash;
}

}  // namespace

FeatureFlags::FeatureFlags(storage::Store& store, cache::Cache& cache, std::chrono::milliseconds ttl)
    : store_(store), cache_(cache), ttl_(ttl) {}

const std::vector<std::string>& FeatureFlags::known_names() {
  static const std::vector<std::string> names{std::string(kFlagVoiceReplies), std::string(kFlagRelevantPast),
                                              std::string(kFlagTelegramStreaming), std::string(kFlagNewUserSignup)};
  return names;
}

bool FeatureFlags::in_rollout(std::string_view name, storage::UserId user, int percentage) noexcept {
  if (percentage >= kMaxPercentage) {
    return true;
  }
  if (percentage <= 0) {
    return false;
  }
  std::string key(name);
  key += ':';
  key += std::to_string(user);
  return static_cast<int>(stable_hash(key) % kMaxPercentage) < percentage;
}

Task<bool> FeatureFlags::enabled(std::string_view name, storage::UserId user) {
  const std::string flag(name);
  const auto flags = co_await all();
  const auto it = flags.find(flag);
  if (it == flags.end() || !it->second.enabled) {
    co_return false;
  }
  co_return in_rollout(flag, user, it->second.percentage);
}

Task<FlagSet> FeatureFlags::all() {
  auto cached = co_await cache::get_decoded<FlagSet>(cache_, kCacheKey, decode_set);
  if (cached) {
    co_return std::move(*cached);
  }
  auto flags = co_await load_from_store();
  // Named rather than a temporary inside co_await: GCC 12 may destroy such temporaries twice.
  auto storing = cache_.set(kCacheKey, encode_set(flags), ttl_);
  co_await std::move(storing);
  co_return flags;
}

Task<FlagSet> FeatureFlags::set(const FlagSet& changes) {
  for (const auto& [name, state] : changes) {
    if (!known(name)) {
      throw core::validation_failed("flags." + name, "Unknown flag '" + name + "'");
    }
    if (state.percentage < 0 || state.percentage > kMaxPercentage) {
      throw core::validation_failed("flags." + name + ".percentage", "'percentage' must be 0 to 100");
    }
  }
  for (const auto& [name, state] : changes) {
    const auto key = store_key(name);
    const auto value = json::serialize(flag_json(state));
    co_await store_.kv_set(key, value);
  }
  co_await cache_.erase(kCacheKey);
  co_return co_await load_from_store();
}

Task<FlagSet> FeatureFlags::load_from_store() {
  FlagSet flags;
  for (const auto& name : known_names()) {
    FlagState state;
    const auto key = store_key(name);
    if (const auto stored = co_await store_.kv_get(key)) {
      try {
        state = flag_from_json(json::parse(*stored)).value_or(FlagState{});
      } catch (const std::exception&) {
        state = FlagState{};  // an unreadable value falls back to the default (on, 100 %)
      }
    }
    flags.emplace(name, state);
  }
  co_return flags;
}

}  // namespace evolveai::services
