#pragma once

#include <chrono>
#include <exception>
#include <optional>
#include <string>
#include <string_view>

#include "core/task.hpp"

namespace evolveai::cache {

/// A key/value cache with per-entry time to live. Implementations never fail a caller
/// because the cache is unavailable: a read then misses and a write does nothing (both
/// counted). Keys and values are binary-safe; string_view arguments must stay valid until
/// the returned task has been awaited.
class Cache {
 public:
  virtual ~Cache() = default;

  /// The value under `key`, or nullopt (absent, expired, or the cache unavailable).
  virtual Task<std::optional<std::string>> get(std::string_view key) = 0;
  /// Stores `value` under `key` for `ttl`; a ttl of zero or less erases the key instead.
  virtual Task<void> set(std::string_view key, std::string value, std::chrono::milliseconds ttl) = 0;
  /// Removes `key` (invalidation after a change).
  virtual Task<void> erase(std::string_view key) = 0;
  /// Reports an entry its reader could not decode: erases it, logs `reason` and counts it in
  /// `evolveai_cache_corrupt_entries_total{cache}`.
  virtual Task<void> discard_corrupt(std::string_view key, std::string_view reason) = 0;
  /// The cache's name, its `cache` metric label ("local", "redis").
  [[nodiscard]] virtual std::string_view name() const noexcept = 0;
};

/// Reads `key` and decodes it with `decode` (a callable taking std::string_view and returning
/// std::optional<T>; nullopt or an exception means undecodable). An undecodable entry is
/// discarded as corrupt and reads as a miss.
template <typename T, typename Decode>
Task<std::optional<T>> get_decoded(Cache& cache, std::string_view key, Decode decode) {
  auto raw = co_await cache.get(key);
  if (!raw)
    co_return std::nullopt;
  std::optional<T> value;
  std::string reason = "undecodable entry";
  try {
    value = decode(std::string_view(*raw));
  } catch (const std::exception& e) {
    reason = e.what();
  }
  if (!value) {
    co_await cache.discard_corrupt(key, reason);
    co_return std::nullopt;
  }
  co_return value;
}

}  // namespace evolveai::cache
