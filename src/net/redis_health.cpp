#include "net/redis_health.hpp"

#include "net/circuit_breaker.hpp"
#include "net/deadline.hpp"
#include "net/redis_client.hpp"

namespace evolveai::net {

RedisHealthCheck::RedisHealthCheck(RedisClient& client, CircuitBreaker& breaker, std::chrono::milliseconds timeout)
    : client_(client), breaker_(breaker), timeout_(timeout) {}

Task<obs::CheckResult> RedisHealthCheck::check() {
  obs::CheckResult result;
  result.degraded = true;
  try {
    RedisCommand command{"PING"};
    auto ping = breaker_.run(client_.command(std::move(command)), is_redis_unavailable);
    const auto reply = co_await with_timeout(std::move(ping), timeout_);
    if (!reply) {
      result.detail = "PING timed out after " + std::to_string(timeout_.count()) + " ms; running without Redis";
    } else if (reply->type == RedisReply::Type::kStatus && reply->text == "PONG") {
      result.ok = true;
      result.degraded = false;
    } else {
      result.detail = "unexpected PING reply";
    }
  } catch (const CircuitOpenError&) {
    result.detail = "circuit breaker open; cache skipped, rate limits local to this node";
  } catch (const RedisError& e) {
    result.detail = std::string(e.what()) + "; running without Redis";
  }
  co_return result;
}

}  // namespace evolveai::net
