#pragma once

#include <string_view>

namespace evolveai::obs {
class Counter;
class MetricsRegistry;
}  // namespace evolveai::obs

namespace evolveai::cache {

/// The counters every Cache implementation keeps, labelled with its name:
/// `evolveai_cache_requests_total{cache,result}` (reads: hit, miss, error, skipped),
/// `evolveai_cache_writes_total{cache,result}` (set and erase: ok, error, skipped) and
/// `evolveai_cache_corrupt_entries_total{cache}`.
struct CacheCounters {
  /// Registers (or finds) the families and this cache's children.
  CacheCounters(obs::MetricsRegistry& metrics, std::string_view cache);

  obs::Counter& hit;
  obs::Counter& miss;
  obs::Counter& error;
  obs::Counter& skipped;
  obs::Counter& write_ok;
  obs::Counter& write_error;
  obs::Counter& write_skipped;
  obs::Counter& corrupt;
};

}  // namespace evolveai::cache
