#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "core/task.hpp"

namespace evolveai::obs {
class Logger;
}

namespace evolveai::storage {
class Store;
}

namespace evolveai::telegram {

class BotApi;
class Dispatcher;

/// The lease that lets one node of a cluster poll.
inline constexpr std::string_view kPollerLease = "telegram_poller";
/// The kv key of the next getUpdates offset.
inline constexpr std::string_view kOffsetKey = "telegram_update_offset";

/// The update kinds the bot asks Telegram for.
[[nodiscard]] std::vector<std::string> allowed_updates();

/// How the poller shares the work and waits.
struct PollerOptions {
  std::string owner;                              ///< this node's lease owner name (unique per process)
  std::chrono::milliseconds lease_ttl{30000};     ///< a dead poller's lease expires after this
  std::chrono::seconds poll_timeout{25};          ///< getUpdates long-poll timeout; kept below lease_ttl / 2
  std::chrono::milliseconds error_backoff{1000};  ///< pause after a failed getUpdates
};

/// Long polling for a cluster: only the node holding the `telegram_poller` lease (in the
/// database) calls getUpdates, renewing the lease before every poll; another node takes over
/// within lease_ttl when it dies. The offset is kept in the store (kv `telegram_update_offset`)
/// and read again whenever the lease is taken. Updates go to the dispatcher; the handlers
/// dedupe them by update_id, so an update redelivered after a takeover is handled once.
class Poller {
 public:
  Poller(BotApi& api, storage::Store& store, Dispatcher& dispatcher, PollerOptions options, obs::Logger& logger);

  /// Polls until the coroutine is cancelled (then throws operation_aborted).
  Task<void> run();
  /// Gives the lease up (after run() ended) so that another node takes over at once.
  Task<void> release();

  [[nodiscard]] const PollerOptions& options() const noexcept { return options_; }

 private:
  Task<void> pause(std::chrono::milliseconds duration);

  BotApi& api_;
  storage::Store& store_;
  Dispatcher& dispatcher_;
  PollerOptions options_;
  obs::Logger& logger_;
};

}  // namespace evolveai::telegram
