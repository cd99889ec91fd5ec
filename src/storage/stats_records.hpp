#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "storage/records.hpp"

namespace evolveai::storage {

/// One model call of a chat turn, recorded for the operators' statistics.
struct NewModelCall {
  UserId user_id = 0;
  bool ok = true;  ///< false: the call failed (the turn ended with an upstream error)
  std::int64_t input_tokens = 0;
  std::int64_t output_tokens = 0;
  std::int64_t latency_ms = 0;  ///< context loading and the model call, as the user waited for it
};

/// The operators' numbers of one UTC day.
struct DailyStats {
  std::chrono::sys_days day{};
  std::int64_t messages = 0;                   ///< messages stored that day (user and assistant)
  std::int64_t active_users = 0;               ///< users who sent at least one message that day
  std::int64_t new_users = 0;                  ///< users created that day
  std::int64_t stars_revenue = 0;              ///< Telegram Stars (XTR) paid that day, refunds not deducted
  std::int64_t tokens_in = 0;                  ///< model input tokens of that day's chat turns
  std::int64_t tokens_out = 0;                 ///< model output tokens
  std::int64_t model_errors = 0;               ///< model calls that failed
  std::optional<std::int64_t> p95_latency_ms;  ///< nearest-rank 95th percentile of successful calls; none without calls

  friend bool operator==(const DailyStats&, const DailyStats&) = default;
};

/// How much a user has used the service, for the admin's user detail.
struct UserActivity {
  std::int64_t messages = 0;             ///< every stored message of the user (both roles)
  std::int64_t user_messages_since = 0;  ///< messages the user sent since the asked-for time
  std::optional<Time> last_active_at;    ///< when the newest message was stored
};

}  // namespace evolveai::storage
