#include "api/record_json.hpp"

#include "core/time_format.hpp"

namespace evolveai::api {

boost::json::value optional_text(const std::optional<std::string>& text) {
  return text ? boost::json::value(*text) : boost::json::value(nullptr);
}

boost::json::value optional_time(const std::optional<storage::Time>& time) {
  return time ? boost::json::value(core::format_rfc3339(*time)) : boost::json::value(nullptr);
}

boost::json::object payment_json(const storage::Payment& payment) {
  boost::json::object body;
  body["id"] = payment.id;
  body["charge_id"] = payment.charge_id;
  body["user_id"] = payment.user_id;
  body["currency"] = payment.currency;
  body["amount"] = payment.amount;
  body["plan"] = payment.plan;
  body["days"] = payment.days;
  body["status"] = storage::to_string(payment.status);
  body["created_at"] = core::format_rfc3339(payment.created_at);
  body["refunded_at"] = optional_time(payment.refunded_at);
  return body;
}

}  // namespace evolveai::api
