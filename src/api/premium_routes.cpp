#include "api/premium_routes.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "api/auth_routes.hpp"
#include "api/json_body.hpp"
#include "core/errors.hpp"
#include "core/time_format.hpp"
#include "services/premium_plans.hpp"
#include "services/profile_service.hpp"

namespace evolveai::api {

void add_premium_routes(http::Router& router, services::ProfileService& profiles, const services::PremiumPlans& plans,
                        InvoiceLinkMaker make_link) {
  http::RouteOptions user_route;
  user_route.access = http::Access::kUser;
  user_route.rate_limit_policy = "api";

  router.add(
      "GET", "/api/v1/premium",
      [&profiles, &plans](http::Request&, http::RequestContext& context) -> Task<http::Response> {
        const auto profile = co_await profiles.get(current_user(context));
        boost::json::array offered;
        for (const auto& plan : plans.all()) {
          boost::json::object price;
          price["currency"] = services::kStarsCurrency;
          price["amount"] = plan.stars;
          boost::json::object item;
          item["id"] = plan.id;
          item["days"] = plan.days;
          item["price"] = std::move(price);
          offered.push_back(std::move(item));
        }
        boost::json::object body;
        body["active"] = profile.premium.active;
        body["until"] =
            profile.premium.until ? boost::json::value(core::format_rfc3339(*profile.premium.until)) : nullptr;
        body["plans"] = std::move(offered);
        co_return json_response(200, body);
      },
      user_route);

  router.add(
      "POST", "/api/v1/premium/invoice",
      [&plans, make_link = std::move(make_link)](http::Request& request,
                                                 http::RequestContext& context) -> Task<http::Response> {
        const auto user_id = current_user(context);
        const auto body = parse_json_object(request, {});
        const auto plan_id = require_string(body, "plan", 1, 32);
        const auto* plan = plans.find(plan_id);
        if (plan == nullptr) {
          throw core::validation_failed("plan", "No such plan; GET /api/v1/premium lists them");
        }
        if (!make_link) {
          throw core::Error(core::ErrorKind::kServiceUnavailable, "bot_not_configured",
                            "Payments need the Telegram bot, which is not configured");
        }
        auto making = make_link(user_id, *plan, context.trace);
        const auto link = co_await std::move(making);
        boost::json::object reply;
        reply["invoice_link"] = link;
        co_return json_response(200, reply);
      },
      user_route);
}

}  // namespace evolveai::api
