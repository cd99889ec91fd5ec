#include "cache/redis_cache.hpp"

#include "net/circuit_breaker.hpp"
#include "net/redis_client.hpp"
#include "obs/logger.hpp"
#include "obs/metrics.hpp"

namespace evolveai::cache {

RedisCache::RedisCache(net::RedisClient& client, net::CircuitBreaker& breaker, RedisCacheOptions options,
                       obs::MetricsRegistry& metrics, obs::Logger& logger)
    : client_(client),
      breaker_(breaker),
      options_(std::move(options)),
      logger_(logger),
      counters_(metrics, options_.name) {}

std::string RedisCache::full_key(std::string_view key) const {
  std::string full;
  full.reserve(options_.key_prefix.size() + key.size());
  full += options_.key_prefix;
  full += key;
  return full;
}

Task<std::optional<std::string>> RedisCache::get(std::string_view key) {
  // Built before the co_await: GCC 12 miscompiles braced lists inside co_await expressions.
  net::RedisCommand command{"GET", full_key(key)};
  try {
    const auto reply = co_await breaker_.run(client_.command(std::move(command)), net::is_redis_unavailable);
    auto value = reply.as_optional_string();
    (value ? counters_.hit : counters_.miss).inc();
    co_return value;
  } catch (const net::CircuitOpenError&) {
    counters_.skipped.inc();
  } catch (const net::RedisError& e) {
    counters_.error.inc();
    logger_.warn("cache_error", {{"cache", options_.name}, {"operation", "get"}, {"error", e.what()}});
  }
  co_return std::nullopt;
}

Task<void> RedisCache::write(std::string_view operation, std::vector<std::string> command) {
  try {
    co_await breaker_.run(client_.command(std::move(command)), net::is_redis_unavailable);
    counters_.write_ok.inc();
  } catch (const net::CircuitOpenError&) {
    counters_.write_skipped.inc();
  } catch (const net::RedisError& e) {
    counters_.write_error.inc();
    logger_.warn("cache_error", {{"cache", options_.name}, {"operation", operation}, {"error", e.what()}});
  }
}

Task<void> RedisCache::set(std::string_view key, std::string value, std::chrono::milliseconds ttl) {
  if (ttl <= std::chrono::milliseconds::zero()) {
    co_await erase(key);
    co_return;
  }
  net::RedisCommand command{"SET", full_key(key), std::move(value), "PX", std::to_string(ttl.count())};
  co_await write("set", std::move(command));
}

Task<void> RedisCache::erase(std::string_view key) {
  net::RedisCommand command{"DEL", full_key(key)};
  co_await write("erase", std::move(command));
}

Task<void> RedisCache::discard_corrupt(std::string_view key, std::string_view reason) {
  counters_.corrupt.inc();
  logger_.warn("cache_entry_corrupt", {{"cache", options_.name}, {"key", key}, {"reason", reason}});
  co_await erase(key);
}

}  // namespace evolveai::cache
