#include "cache/local_cache.hpp"

#include "obs/logger.hpp"
#include "obs/metrics.hpp"

namespace evolveai::cache {

LocalCache::LocalCache(LocalCacheOptions options, obs::MetricsRegistry& metrics, obs::Logger& logger, Clock clock)
    : options_(std::move(options)),
      logger_(logger),
      clock_(clock ? std::move(clock) : Clock([] { return std::chrono::steady_clock::now(); })),
      counters_(metrics, options_.name),
      evictions_(metrics
                     .counter("evolveai_cache_evictions_total",
                              "Entries a bounded cache dropped to stay within its limits", {"cache"})
                     .with({options_.name})),
      entries_gauge_(
          metrics.callback_gauge_family("evolveai_cache_entries", "Entries held by a local cache", {"cache"})),
      bytes_gauge_(metrics.callback_gauge_family("evolveai_cache_bytes", "Key and value bytes held by a local cache",
                                                 {"cache"})) {
  entries_gauge_.set({options_.name}, [this] { return static_cast<double>(size()); });
  bytes_gauge_.set({options_.name}, [this] { return static_cast<double>(bytes()); });
}

LocalCache::~LocalCache() {
  entries_gauge_.remove({options_.name});
  bytes_gauge_.remove({options_.name});
}

std::optional<std::string> LocalCache::lookup(std::string_view key) {
  const std::scoped_lock lock(mutex_);
  const auto found = index_.find(key);
  if (found == index_.end()) {
    counters_.miss.inc();
    return std::nullopt;
  }
  const auto it = found->second;
  if (it->expires_at <= clock_()) {
    drop(it);
    counters_.miss.inc();
    return std::nullopt;
  }
  lru_.splice(lru_.begin(), lru_, it);
  counters_.hit.inc();
  return it->value;
}

void LocalCache::store(std::string_view key, std::string value, std::chrono::milliseconds ttl) {
  if (ttl <= std::chrono::milliseconds::zero()) {
    remove(key);
    return;
  }
  const std::scoped_lock lock(mutex_);
  if (const auto found = index_.find(key); found != index_.end()) {
    drop(found->second);
  }
  counters_.write_ok.inc();
  if (key.size() + value.size() > options_.max_bytes || options_.max_entries == 0) {
    return;  // could never fit; keeping it would evict everything else
  }
  lru_.push_front(Entry{std::string(key), std::move(value), clock_() + ttl});
  index_.emplace(lru_.front().key, lru_.begin());
  bytes_ += lru_.front().bytes();
  while (lru_.size() > options_.max_entries || bytes_ > options_.max_bytes) {
    drop(std::prev(lru_.end()));
    evictions_.inc();
  }
}

bool LocalCache::remove(std::string_view key) {
  const std::scoped_lock lock(mutex_);
  counters_.write_ok.inc();
  const auto found = index_.find(key);
  if (found == index_.end())
    return false;
  drop(found->second);
  return true;
}

void LocalCache::drop(Lru::iterator it) {
  bytes_ -= it->bytes();
  index_.erase(std::string_view(it->key));
  lru_.erase(it);
}

std::size_t LocalCache::size() const {
  const std::scoped_lock lock(mutex_);
  return lru_.size();
}

std::size_t LocalCache::bytes() const {
  const std::scoped_lock lock(mutex_);
  return bytes_;
}

Task<std::optional<std::string>> LocalCache::get(std::string_view key) {
  co_return lookup(key);
}

Task<void> LocalCache::set(std::string_view key, std::string value, std::chrono::milliseconds ttl) {
  store(key, std::move(value), ttl);
  co_return;
}

Task<void> LocalCache::erase(std::string_view key) {
  remove(key);
  co_return;
}

Task<void> LocalCache::discard_corrupt(std::string_view key, std::string_view reason) {
  counters_.corrupt.inc();
  logger_.warn("cache_entry_corrupt", {{"cache", options_.name}, {"key", key}, {"reason", reason}});
  remove(key);
  co_return;
}

}  // namespace evolveai::cache
