#include "api/admin_routes.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>

#include <algorithm>
#include <charconv>
#include <initializer_list>
#include <string>

#include "api/json_body.hpp"
#include "api/record_json.hpp"
#include "core/errors.hpp"
#include "core/time_format.hpp"
#include "http/context.hpp"
#include "services/admin_service.hpp"
#include "storage/store_support.hpp"

namespace evolveai::api {
namespace {

namespace json = boost::json;

constexpr std::int64_t kMaxId = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kDefaultPage = 50;
constexpr std::int64_t kMaxPage = 100;
constexpr std::size_t kMaxQueryChars = 100;
constexpr std::size_t kMaxReasonChars = 500;
constexpr std::size_t kMaxChargeIdBytes = 255;

json::value cursor_value(const std::optional<std::int64_t>& cursor) {
  return cursor ? json::value(std::to_string(*cursor)) : json::value(nullptr);
}

std::string day_text(std::chrono::sys_days day) {
  return storage::support::format_day(day);
}

/// The admin's view of a user (list entries and the base of every user answer).
json::object user_body(const storage::User& user, storage::Time now) {
  const auto today = std::chrono::floor<std::chrono::days>(now);
  const std::int64_t today_count = user.usage_day && *user.usage_day == today ? user.usage_count : 0;
  json::object body;
  body["id"] = user.id;
  body["telegram_id"] = user.telegram_id;
  body["first_name"] = user.first_name;
  body["last_name"] = optional_text(user.last_name);
  body["username"] = optional_text(user.username);
  body["language_code"] = optional_text(user.language_code);
  body["created_at"] = core::format_rfc3339(user.created_at);
  body["banned"] = user.banned;
  body["premium"] = json::object{{"active", user.premium_at(now)}, {"until", optional_time(user.premium_until)}};
  body["usage"] = json::object{{"messages_today", today_count}};
  return body;
}

json::object audit_body(const storage::AuditEntry& entry) {
  json::object body;
  body["id"] = entry.id;
  body["admin_id"] = entry.admin_id ? json::value(*entry.admin_id) : json::value(nullptr);
  body["action"] = entry.action;
  body["target"] = entry.target;
  json::value details;
  try {
    details = json::parse(entry.details_json);
  } catch (const std::exception&) {
    details = entry.details_json;  // written by an older version as plain text
  }
  body["details"] = std::move(details);
  body["created_at"] = core::format_rfc3339(entry.created_at);
  return body;
}

json::object backup_body(const storage::BackupInfo& info) {
  json::object tables;
  for (const auto& [table, rows] : info.tables) {
    tables[table] = rows;
  }
  json::object body;
  body["name"] = info.name;
  body["dialect"] = info.dialect;
  body["bytes"] = info.bytes;
  body["created_at"] = core::format_rfc3339(info.created_at);
  body["sha256"] = info.has_manifest ? json::value(info.sha256) : json::value(nullptr);
  body["tables"] = std::move(tables);
  return body;
}

json::object flags_body(const services::FlagSet& flags) {
  json::object object;
  for (const auto& [name, state] : flags) {
    object[name] = json::object{{"enabled", state.enabled}, {"percentage", state.percentage}};
  }
  return json::object{{"flags", std::move(object)}};
}

/// Only the named fields may appear in a body.
void allow_only(const json::object& body, std::initializer_list<std::string_view> fields) {
  for (const auto& [key, value] : body) {
    if (std::find(fields.begin(), fields.end(), std::string_view(key)) == fields.end()) {
      throw core::validation_failed(std::string(key), "Unknown field '" + std::string(key) + "'");
    }
  }
}

/// The JSON body, or an empty object when the request has none (bodies are optional where only
/// a reason may be given).
json::object optional_body(const http::Request& request) {
  if (request.body.empty()) {
    return {};
  }
  return parse_json_object(request, {});
}

std::string reason_of(const json::object& body) {
  return optional_string(body, "reason", 0, kMaxReasonChars).value_or("");
}

storage::UserId user_id_of(const http::Request& request) {
  const auto text = request.param("id").value_or("");
  std::int64_t id = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, id);
  if (ec != std::errc() || ptr != end || id < 1) {
    throw core::not_found("No such user");
  }
  return id;
}

std::optional<std::int64_t> cursor_of(const http::Request& request) {
  if (!request.query_param("cursor")) {
    return std::nullopt;
  }
  return query_integer(request, "cursor", 0, 1, kMaxId);
}

std::size_t limit_of(const http::Request& request) {
  return static_cast<std::size_t>(query_integer(request, "limit", kDefaultPage, 1, kMaxPage));
}

std::optional<bool> bool_param(const http::Request& request, std::string_view name) {
  const auto text = request.query_param(name);
  if (!text || text->empty()) {
    return std::nullopt;
  }
  if (*text == "true") {
    return true;
  }
  if (*text == "false") {
    return false;
  }
  throw core::validation_failed(std::string(name), "'" + std::string(name) + "' must be true or false");
}

services::Actor actor_of(const http::RequestContext& context) {
  services::Actor actor;
  actor.admin_id = context.admin_id;
  actor.via = "api";
  actor.request_id = context.request_id;
  actor.trace = context.trace;
  return actor;
}

services::FlagSet flag_changes(const json::object& body) {
  const auto* flags = body.if_contains("flags");
  if (flags == nullptr || !flags->is_object()) {
    throw core::validation_failed("flags", "'flags' must be an object of flag name to {\"enabled\", \"percentage\"}");
  }
  services::FlagSet changes;
  for (const auto& [name, value] : flags->as_object()) {
    const std::string field = "flags." + std::string(name);
    if (!value.is_object()) {
      throw core::validation_failed(field, "'" + field + "' must be an object");
    }
    const auto& object = value.as_object();
    allow_only(object, {"enabled", "percentage"});
    const auto enabled = optional_bool(object, "enabled");
    const auto percentage = optional_integer(object, "percentage", 0, 100);
    if (!enabled || !percentage) {
      throw core::validation_failed(field, "'" + field + "' needs 'enabled' (boolean) and 'percentage' (0 to 100)");
    }
    changes.emplace(std::string(name), services::FlagState{*enabled, static_cast<int>(*percentage)});
  }
  return changes;
}

storage::Time now() {
  return std::chrono::system_clock::now();
}

}  // namespace

std::optional<storage::Time> parse_utc_time(std::string_view text) {
  const auto number = [&](std::size_t at, std::size_t digits) -> std::optional<int> {
    if (at + digits > text.size()) {
      return std::nullopt;
    }
    int value = 0;
    for (std::size_t i = at; i < at + digits; ++i) {
      if (text[i] < '0' || text[i] > '9') {
        return std::nullopt;
      }
      value = value * 10 + (text[i] - '0');
    }
    return value;
  };
  const auto year = number(0, 4);
  const auto month = number(5, 2);
  const auto day = number(8, 2);
  if (!year || !month || !day || text.size() < 10 || text[4] != '-' || text[7] != '-') {
    return std::nullopt;
  }
  const std::chrono::year_month_day date{std::chrono::year(*year), std::chrono::month(static_cast<unsigned>(*month)),
                                         std::chrono::day(static_cast<unsigned>(*day))};
  if (!date.ok()) {
    return std::nullopt;
  }
  storage::Time at{std::chrono::sys_days(date)};
  if (text.size() == 10) {
    return at;
  }
  const auto hours = number(11, 2);
  const auto minutes = number(14, 2);
  const auto seconds = number(17, 2);
  if (text.size() < 20 || (text[10] != 'T' && text[10] != 't') || text[13] != ':' || text[16] != ':' || !hours ||
      !minutes || !seconds || *hours > 23 || *minutes > 59 || *seconds > 60) {
    return std::nullopt;
  }
  at += std::chrono::hours(*hours) + std::chrono::minutes(*minutes) + std::chrono::seconds(*seconds);
  std::size_t at_index = 19;
  if (text[at_index] == '.') {
    ++at_index;
    std::int64_t micros = 0;
    int digits = 0;
    while (at_index < text.size() && text[at_index] >= '0' && text[at_index] <= '9') {
      if (digits < 6) {
        micros = micros * 10 + (text[at_index] - '0');
        ++digits;
      }
      ++at_index;
    }
    if (digits == 0) {
      return std::nullopt;
    }
    for (; digits < 6; ++digits) {
      micros *= 10;
    }
    at += std::chrono::microseconds(micros);
  }
  if (at_index + 1 != text.size() || (text[at_index] != 'Z' && text[at_index] != 'z')) {
    return std::nullopt;
  }
  return at;
}

void add_admin_routes(http::Router& router, services::AdminService& admin) {
  http::RouteOptions admin_route;
  admin_route.access = http::Access::kAdmin;
  admin_route.rate_limit_policy = "api";

  router.add(
      "GET", "/api/v1/admin/users",
      [&admin](http::Request& request, http::RequestContext&) -> Task<http::Response> {
        storage::UserListQuery query;
        if (auto text = request.query_param("query"); text && !text->empty()) {
          if (text->size() > kMaxQueryChars) {
            throw core::validation_failed("query", "'query' must be at most 100 characters");
          }
          query.text = std::move(*text);
        }
        query.premium = bool_param(request, "premium");
        query.banned = bool_param(request, "banned");
        if (const auto since = request.query_param("active_since"); since && !since->empty()) {
          query.active_since = parse_utc_time(*since);
          if (!query.active_since) {
            throw core::validation_failed("active_since", "'active_since' must be YYYY-MM-DD or an RFC 3339 UTC time");
          }
        }
        query.before_id = cursor_of(request);
        query.limit = limit_of(request);
        const auto page = co_await admin.list_users(query);
        const auto at = now();
        json::array users;
        for (const auto& user : page.users) {
          users.emplace_back(user_body(user, at));
        }
        co_return json_response(
            200, json::object{{"users", std::move(users)}, {"next_cursor", cursor_value(page.next_cursor)}});
      },
      admin_route);

  router.add(
      "GET", "/api/v1/admin/users/{id}",
      [&admin](http::Request& request, http::RequestContext&) -> Task<http::Response> {
        const auto detail = co_await admin.user_detail(user_id_of(request));
        auto body = user_body(detail.user, now());
        body["usage"] = json::object{{"messages_today", detail.messages_today},
                                     {"messages_30d", detail.activity.user_messages_since}};
        body["messages"] = detail.activity.messages;
        body["last_active_at"] = optional_time(detail.activity.last_active_at);
        body["memory"] = json::object{{"summary_chars", detail.memory_summary_chars}, {"facts", detail.memory_facts}};
        json::array payments;
        for (const auto& payment : detail.payments) {
          payments.emplace_back(payment_json(payment));
        }
        body["payments"] = std::move(payments);
        co_return json_response(200, body);
      },
      admin_route);

  router.add(
      "POST", "/api/v1/admin/users/{id}/premium",
      [&admin](http::Request& request, http::RequestContext& context) -> Task<http::Response> {
        const auto body = parse_json_object(request, {});
        allow_only(body, {"days", "reason"});
        const auto days = optional_integer(body, "days", 1, 3650);
        if (!days) {
          throw core::validation_failed("days", "'days' must be a whole number from 1 to 3650");
        }
        const auto actor = actor_of(context);
        auto reason = reason_of(body);
        const auto user = co_await admin.grant_premium(actor, user_id_of(request), *days, std::move(reason));
        co_return json_response(200, user_body(user, now()));
      },
      admin_route);

  router.add(
      "DELETE", "/api/v1/admin/users/{id}/premium",
      [&admin](http::Request& request, http::RequestContext& context) -> Task<http::Response> {
        const auto body = optional_body(request);
        allow_only(body, {"reason"});
        const auto actor = actor_of(context);
        auto reason = reason_of(body);
        const auto user = co_await admin.revoke_premium(actor, user_id_of(request), std::move(reason));
        co_return json_response(200, user_body(user, now()));
      },
      admin_route);

  for (const bool ban : {true, false}) {
    router.add(
        "POST", ban ? "/api/v1/admin/users/{id}/ban" : "/api/v1/admin/users/{id}/unban",
        [&admin, ban](http::Request& request, http::RequestContext& context) -> Task<http::Response> {
          const auto body = optional_body(request);
          allow_only(body, {"reason"});
          const auto actor = actor_of(context);
          auto reason = reason_of(body);
          const auto user = co_await admin.set_banned(actor, user_id_of(request), ban, std::move(reason));
          co_return json_response(200, user_body(user, now()));
        },
        admin_route);
  }

  router.add(
      "GET", "/api/v1/admin/stats",
      [&admin](http::Request& request, http::RequestContext&) -> Task<http::Response> {
        const auto days = static_cast<int>(query_integer(request, "days", 30, 1, 90));
        const auto report = co_await admin.stats(days);
        json::array series;
        for (const auto& day : report.days) {
          json::object row;
          row["day"] = day_text(day.day);
          row["messages"] = day.messages;
          row["active_users"] = day.active_users;
          row["new_users"] = day.new_users;
          row["stars_revenue"] = day.stars_revenue;
          row["tokens_in"] = day.tokens_in;
          row["tokens_out"] = day.tokens_out;
          row["model_errors"] = day.model_errors;
          row["p95_latency_ms"] = day.p95_latency_ms ? json::value(*day.p95_latency_ms) : json::value(nullptr);
          series.emplace_back(std::move(row));
        }
        co_return json_response(200, json::object{{"days", days},
                                                  {"from", day_text(report.from)},
                                                  {"to", day_text(report.to)},
                                                  {"series", std::move(series)}});
      },
      admin_route);

  router.add(
      "GET", "/api/v1/admin/payments",
      [&admin](http::Request& request, http::RequestContext&) -> Task<http::Response> {
        std::optional<storage::UserId> user_id;
        if (request.query_param("user_id")) {
          user_id = query_integer(request, "user_id", 0, 1, kMaxId);
        }
        const auto page = co_await admin.list_payments(user_id, cursor_of(request), limit_of(request));
        json::array payments;
        for (const auto& payment : page.payments) {
          payments.emplace_back(payment_json(payment));
        }
        co_return json_response(
            200, json::object{{"payments", std::move(payments)}, {"next_cursor", cursor_value(page.next_cursor)}});
      },
      admin_route);

  router.add(
      "POST", "/api/v1/admin/payments/{charge_id}/refund",
      [&admin](http::Request& request, http::RequestContext& context) -> Task<http::Response> {
        const auto body = optional_body(request);
        allow_only(body, {"reason"});
        std::string charge_id(request.param("charge_id").value_or(""));
        if (charge_id.empty() || charge_id.size() > kMaxChargeIdBytes) {
          throw core::not_found("No such payment");
        }
        const auto actor = actor_of(context);
        auto reason = reason_of(body);
        const auto result = co_await admin.refund(actor, std::move(charge_id), std::move(reason));
        co_return json_response(200, json::object{{"payment", payment_json(result.payment)},
                                                  {"already_refunded", result.already_refunded},
                                                  {"premium_until", optional_time(result.premium_until)}});
      },
      admin_route);

  router.add(
      "POST", "/api/v1/admin/cleanup",
      [&admin](http::Request& request, http::RequestContext& context) -> Task<http::Response> {
        const auto body = parse_json_object(request, {});
        allow_only(body, {"older_than_days", "reason"});
        const auto days = optional_integer(body, "older_than_days", 1, 3650);
        if (!days) {
          throw core::validation_failed("older_than_days", "'older_than_days' must be a whole number from 1 to 3650");
        }
        const auto actor = actor_of(context);
        auto reason = reason_of(body);
        const auto deleted = co_await admin.cleanup(actor, *days, std::move(reason));
        co_return json_response(200, json::object{{"deleted_messages", deleted}});
      },
      admin_route);

  router.add(
      "GET", "/api/v1/admin/backups",
      [&admin](http::Request&, http::RequestContext&) -> Task<http::Response> {
        const auto backups = co_await admin.list_backups();
        json::array list;
        for (const auto& backup : backups) {
          list.emplace_back(backup_body(backup));
        }
        co_return json_response(200, json::object{{"backups", std::move(list)}});
      },
      admin_route);

  router.add(
      "POST", "/api/v1/admin/backups",
      [&admin](http::Request& request, http::RequestContext& context) -> Task<http::Response> {
        const auto body = optional_body(request);
        allow_only(body, {"reason"});
        const auto actor = actor_of(context);
        auto reason = reason_of(body);
        const auto backup = co_await admin.create_backup(actor, std::move(reason));
        co_return json_response(201, backup_body(backup));
      },
      admin_route);

  router.add(
      "GET", "/api/v1/admin/audit",
      [&admin](http::Request& request, http::RequestContext&) -> Task<http::Response> {
        const auto page = co_await admin.list_audit(cursor_of(request), limit_of(request));
        json::array entries;
        for (const auto& entry : page.entries) {
          entries.emplace_back(audit_body(entry));
        }
        co_return json_response(
            200, json::object{{"entries", std::move(entries)}, {"next_cursor", cursor_value(page.next_cursor)}});
      },
      admin_route);

  router.add(
      "GET", "/api/v1/admin/flags",
      [&admin](http::Request&, http::RequestContext&) -> Task<http::Response> {
        const auto flags = co_await admin.flags();
        co_return json_response(200, flags_body(flags));
      },
      admin_route);

  router.add(
      "PUT", "/api/v1/admin/flags",
      [&admin](http::Request& request, http::RequestContext& context) -> Task<http::Response> {
        const auto body = parse_json_object(request, {});
        allow_only(body, {"flags", "reason"});
        const auto changes = flag_changes(body);
        const auto actor = actor_of(context);
        auto reason = reason_of(body);
        const auto flags = co_await admin.set_flags(actor, changes, std::move(reason));
        co_return json_response(200, flags_body(flags));
      },
      admin_route);
}

}  // namespace evolveai::api
