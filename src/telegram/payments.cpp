#include "telegram/payments.hpp"

#include <charconv>

namespace evolveai::telegram {
namespace {

constexpr std::string_view kPrefix = "premium:";

}  // namespace

std::string invoice_payload(storage::UserId user_id, std::string_view plan) {
  return std::string(kPrefix) + std::to_string(user_id) + ":" + std::string(plan);
}

std::optional<InvoicePayload> parse_invoice_payload(std::string_view payload) {
  if (!payload.starts_with(kPrefix)) {
    return std::nullopt;
  }
  payload.remove_prefix(kPrefix.size());
  const auto colon = payload.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 >= payload.size()) {
    return std::nullopt;
  }
  InvoicePayload parsed;
  const auto [end, error] = std::from_chars(payload.data(), payload.data() + colon, parsed.user_id);
  if (error != std::errc() || end != payload.data() + colon || parsed.user_id <= 0) {
    return std::nullopt;
  }
  parsed.plan = std::string(payload.substr(colon + 1));
  return parsed;
}

std::optional<Text> check_pre_checkout(const services::PremiumPlans& plans, const CheckoutFacts& facts) {
  const auto payload = parse_invoice_payload(facts.payload);
  if (!payload) {
    return Text::kCheckoutNotAllowed;
  }
  const auto* plan = plans.find(payload->plan);
  if (plan == nullptr) {
    return Text::kCheckoutUnknownPlan;
  }
  if (facts.currency != services::kStarsCurrency || facts.total_amount != plan->stars) {
    return Text::kCheckoutWrongPrice;
  }
  if (!facts.payer || facts.payer->id != payload->user_id || facts.payer->banned) {
    return Text::kCheckoutNotAllowed;
  }
  return std::nullopt;
}

}  // namespace evolveai::telegram
