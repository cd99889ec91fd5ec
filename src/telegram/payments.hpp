#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "services/premium_plans.hpp"
#include "storage/records.hpp"
#include "telegram/texts.hpp"

namespace evolveai::telegram {

/// Who pays for what, as an invoice payload carries it.
struct InvoicePayload {
  storage::UserId user_id = 0;
  std::string plan;
};

/// The invoice payload for a user's plan: "premium:<user_id>:<plan>" (Telegram allows 1..128 bytes).
[[nodiscard]] std::string invoice_payload(storage::UserId user_id, std::string_view plan);
/// Reads a payload made by invoice_payload; nullopt for anything else.
[[nodiscard]] std::optional<InvoicePayload> parse_invoice_payload(std::string_view payload);

/// What the bot knows at pre-checkout time.
struct CheckoutFacts {
  std::string_view payload;
  std::string_view currency;
  std::int64_t total_amount = 0;
  std::optional<storage::User> payer;  ///< the user of the paying Telegram account, if known
};

/// Decides a pre-checkout query: nullopt to accept, else the refusal text to show. The plan must
/// exist, currency and amount must match it exactly, the payload must name the paying account's
/// user, who must not be banned.
[[nodiscard]] std::optional<Text> check_pre_checkout(const services::PremiumPlans& plans, const CheckoutFacts& facts);

}  // namespace evolveai::telegram
