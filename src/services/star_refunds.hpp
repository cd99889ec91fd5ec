#pragma once

#include <cstdint>
#include <string_view>

#include "core/task.hpp"
#include "obs/trace_context.hpp"

namespace evolveai::services {

/// Gives Telegram Stars back to a payer. The Telegram front door implements it with the Bot API's
/// `refundStarPayment`; the operators' API calls it before it revokes the premium days a payment bought.
class StarRefunds {
 public:
  virtual ~StarRefunds() = default;
  /// Refunds the payment `charge_id` made by the Telegram user `telegram_user_id`.
  /// Throws `core::Error` (upstream_unavailable or validation_failed) when Telegram refuses or cannot be reached;
  /// a charge Telegram reports as already refunded is not an error. The call joins `trace` (the
  /// operator's request).
  virtual Task<void> refund(std::int64_t telegram_user_id, std::string_view charge_id, obs::TraceContext trace) = 0;
  /// False when no bot is configured, so refunds cannot reach Telegram.
  [[nodiscard]] virtual bool available() const noexcept = 0;
};

}  // namespace evolveai::services
