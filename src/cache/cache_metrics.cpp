#include "cache/cache_metrics.hpp"

#include "obs/metrics.hpp"

namespace evolveai::cache {

namespace {

obs::CounterFamily& requests(obs::MetricsRegistry& metrics) {
  return metrics.counter("evolveai_cache_requests_total", "Cache reads by result: hit, miss, error, skipped",
                         {"cache", "result"});
}

obs::CounterFamily& writes(obs::MetricsRegistry& metrics) {
  return metrics.counter("evolveai_cache_writes_total", "Cache sets and erases by result: ok, error, skipped",
                         {"cache", "result"});
}

}  // namespace

CacheCounters::CacheCounters(obs::MetricsRegistry& metrics, std::string_view cache)
    : hit(requests(metrics).with({cache, "hit"})),
      miss(requests(metrics).with({cache, "miss"})),
      error(requests(metrics).with({cache, "error"})),
      skipped(requests(metrics).with({cache, "skipped"})),
      write_ok(writes(metrics).with({cache, "ok"})),
      write_error(writes(metrics).with({cache, "error"})),
      write_skipped(writes(metrics).with({cache, "skipped"})),
      corrupt(metrics
                  .counter("evolveai_cache_corrupt_entries_total",
                           "Cache entries their reader could not decode (erased and treated as misses)", {"cache"})
                  .with({cache})) {}

}  // namespace evolveai::cache
