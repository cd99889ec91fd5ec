#pragma once

#include <functional>
#include <string>

#include "core/task.hpp"
#include "http/router.hpp"
#include "obs/trace_context.hpp"
#include "storage/records.hpp"

namespace evolveai::services {
class PremiumPlans;
class ProfileService;
struct PremiumPlan;
}  // namespace evolveai::services

namespace evolveai::api {

/// Makes a Telegram Stars invoice link for a user's plan (the bot's createInvoiceLink).
using InvoiceLinkMaker =
    std::function<Task<std::string>(storage::UserId, const services::PremiumPlan&, const obs::TraceContext&)>;

/// GET /api/v1/premium (status and the plans on sale) and POST /api/v1/premium/invoice
/// (`{"plan": id}` -> `{"invoice_link": …}`; 503 `bot_not_configured` when `make_link` is empty).
void add_premium_routes(http::Router& router, services::ProfileService& profiles, const services::PremiumPlans& plans,
                        InvoiceLinkMaker make_link);

}  // namespace evolveai::api
