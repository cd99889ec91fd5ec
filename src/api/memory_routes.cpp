#include "api/memory_routes.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <algorithm>
#include <initializer_list>
#include <string>
#include <string_view>

#include "api/auth_routes.hpp"
#include "api/json_body.hpp"
#include "core/errors.hpp"
#include "services/memory_service.hpp"

namespace evolveai::api {
namespace {

boost::json::object fact_body(const storage::Fact& fact) {
  return boost::json::object{{"id", fact.id}, {"text", fact.text}, {"pinned", fact.pinned}};
}

boost::json::object memory_body(const storage::Memory& memory) {
  boost::json::array facts;
  facts.reserve(memory.facts.size());
  for (const auto& fact : memory.facts) {
    facts.emplace_back(fact_body(fact));
  }
  boost::json::object body;
  body["summary"] = memory.summary;
  body["facts"] = std::move(facts);
  body["last_summarized_message_id"] = memory.last_summarized_message_id;
  return body;
}

/// Only the named fields may appear in a body.
void allow_only(const boost::json::object& body, std::initializer_list<std::string_view> fields) {
  for (const auto& [key, value] : body) {
    if (std::find(fields.begin(), fields.end(), std::string_view(key)) == fields.end()) {
      throw core::validation_failed(std::string(key), "Unknown field '" + std::string(key) + "'");
    }
  }
}

std::string fact_id(const http::Request& request) {
  const auto id = request.param("id");
  if (!id) {
    throw core::not_found("No such fact");
  }
  return std::string(*id);
}

}  // namespace

void add_memory_routes(http::Router& router, services::MemoryService& memory) {
  http::RouteOptions user_route;
  user_route.access = http::Access::kUser;
  user_route.rate_limit_policy = "api";

  router.add(
      "GET", "/api/v1/memory",
      [&memory](http::Request&, http::RequestContext& context) -> Task<http::Response> {
        const auto stored = co_await memory.get(current_user(context));
        co_return json_response(200, memory_body(stored));
      },
      user_route);

  router.add(
      "POST", "/api/v1/memory/facts",
      [&memory](http::Request& request, http::RequestContext& context) -> Task<http::Response> {
        const auto body = parse_json_object(request, {});
        allow_only(body, {"text", "pinned"});
        const auto text = require_string(body, "text", 1, memory.options().limits.max_fact_chars);
        const bool pinned = optional_bool(body, "pinned").value_or(false);
        const auto fact = co_await memory.add_fact(current_user(context), text, pinned);
        co_return json_response(201, fact_body(fact));
      },
      user_route);

  router.add(
      "PATCH", "/api/v1/memory/facts/{id}",
      [&memory](http::Request& request, http::RequestContext& context) -> Task<http::Response> {
        const auto body = parse_json_object(request, {});
        allow_only(body, {"pinned"});
        const auto pinned = optional_bool(body, "pinned");
        if (!pinned) {
          throw core::validation_failed("pinned", "'pinned' must be true or false");
        }
        const std::string id = fact_id(request);
        const auto fact = co_await memory.set_pinned(current_user(context), id, *pinned);
        co_return json_response(200, fact_body(fact));
      },
      user_route);

  router.add(
      "DELETE", "/api/v1/memory/facts/{id}",
      [&memory](http::Request& request, http::RequestContext& context) -> Task<http::Response> {
        const std::string id = fact_id(request);
        co_await memory.delete_fact(current_user(context), id);
        co_return http::Response::empty(204);
      },
      user_route);
}

}  // namespace evolveai::api
