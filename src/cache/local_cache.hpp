#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "cache/cache.hpp"
#include "cache/cache_metrics.hpp"

namespace evolveai::obs {
class CallbackFamily;
class Counter;
class Logger;
class MetricsRegistry;
}  // namespace evolveai::obs

namespace evolveai::cache {

/// Bounds of a LocalCache.
struct LocalCacheOptions {
  std::string name = "local";                             ///< the `cache` metric label; unique per registry
  std::size_t max_entries = 10000;                        ///< entries kept at most
  std::size_t max_bytes = std::size_t{64} * 1024 * 1024;  ///< key and value bytes kept at most
};

/// In-process cache: least-recently-used eviction within an entry and a byte bound, and a
/// time to live per entry (expired entries read as misses and are dropped when met).
/// Exposes `evolveai_cache_entries{cache}`, `evolveai_cache_bytes{cache}` and
/// `evolveai_cache_evictions_total{cache}` besides the CacheCounters. Thread-safe; the
/// async calls complete at once. The registry and logger must outlive it.
class LocalCache final : public Cache {
 public:
  /// Reads the current time; injected so that tests move time by hand.
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  /// `clock` defaults to steady_clock.
  LocalCache(LocalCacheOptions options, obs::MetricsRegistry& metrics, obs::Logger& logger, Clock clock = {});
  ~LocalCache() override;
  LocalCache(const LocalCache&) = delete;
  LocalCache& operator=(const LocalCache&) = delete;

  Task<std::optional<std::string>> get(std::string_view key) override;
  Task<void> set(std::string_view key, std::string value, std::chrono::milliseconds ttl) override;
  Task<void> erase(std::string_view key) override;
  Task<void> discard_corrupt(std::string_view key, std::string_view reason) override;
  [[nodiscard]] std::string_view name() const noexcept override { return options_.name; }

  /// get() without a coroutine.
  [[nodiscard]] std::optional<std::string> lookup(std::string_view key);
  /// set() without a coroutine.
  void store(std::string_view key, std::string value, std::chrono::milliseconds ttl);
  /// erase() without a coroutine; true when the key was there.
  bool remove(std::string_view key);

  /// Entries held now (expired ones not yet dropped included).
  [[nodiscard]] std::size_t size() const;
  /// Key and value bytes held now.
  [[nodiscard]] std::size_t bytes() const;

 private:
  struct Entry {
    std::string key;
    std::string value;
    std::chrono::steady_clock::time_point expires_at;
    [[nodiscard]] std::size_t bytes() const noexcept { return key.size() + value.size(); }
  };
  using Lru = std::list<Entry>;  // most recently used first

  void drop(Lru::iterator it);  // requires mutex_

  LocalCacheOptions options_;
  obs::Logger& logger_;
  Clock clock_;
  CacheCounters counters_;
  obs::Counter& evictions_;
  obs::CallbackFamily& entries_gauge_;
  obs::CallbackFamily& bytes_gauge_;

  mutable std::mutex mutex_;
  Lru lru_;
  std::unordered_map<std::string_view, Lru::iterator> index_;  // keys view the entries' own keys
  std::size_t bytes_ = 0;
};

}  // namespace evolveai::cache
