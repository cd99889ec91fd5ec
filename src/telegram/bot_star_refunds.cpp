#include "telegram/bot_star_refunds.hpp"

#include <boost/json/object.hpp>

#include "core/errors.hpp"
#include "telegram/bot_api.hpp"

namespace evolveai::telegram {

Task<void> BotStarRefunds::refund(std::int64_t telegram_user_id, std::string_view charge_id, obs::TraceContext trace) {
  if (api_ == nullptr) {
    throw core::Error(core::ErrorKind::kServiceUnavailable, "bot_not_configured",
                      "Refunds need the Telegram bot (telegram.bot_token)");
  }
  boost::json::object params;
  params["user_id"] = telegram_user_id;
  params["telegram_payment_charge_id"] = charge_id;
  std::optional<core::Error> failure;
  try {
    auto api = api_->with_trace(trace);
    auto calling = api.call("refundStarPayment", std::move(params));
    co_await std::move(calling);
  } catch (const BotApiError& e) {
    if (e.description().find("CHARGE_ALREADY_REFUNDED") != std::string::npos) {
      co_return;
    }
    if (e.error_code() == 400) {
      failure = core::validation_failed("charge_id", "Telegram refused the refund: " + e.description());
    } else {
      failure = core::upstream_unavailable("Telegram could not refund the payment now", e.what());
    }
  } catch (const core::Error&) {
    throw;
  } catch (const std::exception& e) {
    failure = core::upstream_unavailable("Telegram cannot be reached now", e.what());
  }
  if (failure) {
    throw *failure;
  }
}

}  // namespace evolveai::telegram
