#pragma once

#include <cstdint>
#include <string_view>

#include "services/star_refunds.hpp"

namespace evolveai::telegram {

class BotApi;

/// Star refunds through the Bot API's `refundStarPayment`; without a bot (`api` null) it is not
/// available and every refund is 503 `bot_not_configured`.
class BotStarRefunds final : public services::StarRefunds {
 public:
  explicit BotStarRefunds(BotApi* api) : api_(api) {}

  /// Asks Telegram to refund; an already refunded charge counts as done.
  Task<void> refund(std::int64_t telegram_user_id, std::string_view charge_id, obs::TraceContext trace) override;
  [[nodiscard]] bool available() const noexcept override { return api_ != nullptr; }

 private:
  BotApi* api_;
};

}  // namespace evolveai::telegram
