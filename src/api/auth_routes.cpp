#include "api/auth_routes.hpp"

#include <boost/json/object.hpp>

#include "api/json_body.hpp"
#include "core/errors.hpp"
#include "core/time_format.hpp"
#include "services/auth_service.hpp"
#include "services/profile_service.hpp"

namespace evolveai::api {
namespace {

constexpr std::size_t kMaxInitDataChars = 8192;
constexpr std::size_t kMaxLoginWidgetFields = 32;

std::optional<std::string_view> strip_scheme(std::string_view header, std::string_view scheme) {
  if (header.size() <= scheme.size() || header[scheme.size()] != ' ') {
    return std::nullopt;
  }
  for (std::size_t i = 0; i < scheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(header[i])) != scheme[i]) {
      return std::nullopt;
    }
  }
  auto rest = header.substr(scheme.size() + 1);
  while (!rest.empty() && rest.front() == ' ') {
    rest.remove_prefix(1);
  }
  return rest;
}

boost::json::value optional_text(const std::optional<std::string>& text) {
  return text ? boost::json::value(*text) : boost::json::value(nullptr);
}

boost::json::object sign_in_body(const services::SignIn& sign_in) {
  boost::json::object user;
  user["id"] = sign_in.user.id;
  user["telegram_id"] = sign_in.user.telegram_id;
  user["first_name"] = sign_in.user.first_name;
  user["username"] = optional_text(sign_in.user.username);
  user["language_code"] = optional_text(sign_in.user.language_code);
  boost::json::object body;
  body["access_token"] = sign_in.token.token;
  body["token_type"] = "bearer";
  body["expires_in"] = sign_in.expires_in.count();
  body["user"] = std::move(user);
  return body;
}

services::auth::LoginWidgetFields widget_fields(const boost::json::value& value) {
  if (!value.is_object()) {
    throw core::validation_failed("login_widget", "'login_widget' must be an object");
  }
  const auto& object = value.as_object();
  if (object.size() > kMaxLoginWidgetFields) {
    throw core::validation_failed("login_widget", "'login_widget' has too many fields");
  }
  services::auth::LoginWidgetFields fields;
  for (const auto& [key, field] : object) {
    if (field.is_string()) {
      fields.emplace(std::string(key), std::string(field.as_string()));
    } else if (field.is_int64()) {
      fields.emplace(std::string(key), std::to_string(field.as_int64()));
    } else if (field.is_uint64()) {
      fields.emplace(std::string(key), std::to_string(field.as_uint64()));
    } else {
      throw core::validation_failed("login_widget." + std::string(key), "fields must be strings or whole numbers");
    }
  }
  return fields;
}

boost::json::object profile_body(const services::Profile& profile) {
  const auto& user = profile.user;
  boost::json::object premium;
  premium["active"] = profile.premium.active;
  premium["until"] = profile.premium.until ? boost::json::value(core::format_rfc3339(*profile.premium.until)) : nullptr;
  boost::json::object usage;
  usage["messages_today"] = profile.usage.messages_today;
  usage["daily_limit"] = profile.usage.daily_limit ? boost::json::value(*profile.usage.daily_limit) : nullptr;
  usage["resets_at"] = core::format_rfc3339(profile.usage.resets_at);
  boost::json::object body;
  body["id"] = user.id;
  body["telegram_id"] = user.telegram_id;
  body["first_name"] = user.first_name;
  body["last_name"] = optional_text(user.last_name);
  body["username"] = optional_text(user.username);
  body["language_code"] = optional_text(user.language_code);
  body["created_at"] = core::format_rfc3339(user.created_at);
  body["premium"] = std::move(premium);
  body["usage"] = std::move(usage);
  body["settings"] = services::to_json(profile.settings);
  return body;
}

}  // namespace

std::int64_t current_user(const http::RequestContext& context) {
  if (!context.user_id) {
    throw core::unauthorized("Sign in first");
  }
  return *context.user_id;
}

http::Middleware authentication_middleware(services::AuthService& auth) {
  return [&auth](http::Request& request, http::RequestContext& context,
                 const http::Handler& next) -> Task<http::Response> {
    if (context.route == nullptr || context.route->options.access == http::Access::kPublic) {
      co_return co_await next(request, context);
    }
    const auto header = request.headers.get("Authorization");
    if (!header) {
      throw core::unauthorized("Sign in first: send 'Authorization: Bearer <token>'");
    }
    const auto token = strip_scheme(*header, "bearer");
    if (!token || token->empty()) {
      throw core::unauthorized("Send the access token as 'Authorization: Bearer <token>'");
    }
    const std::string bearer(*token);
    const auto principal = co_await auth.authenticate(bearer);
    const bool admin_route = context.route->options.access == http::Access::kAdmin;
    const bool admin_token = principal.role == services::auth::Role::kAdmin;
    if (admin_route != admin_token) {
      throw core::forbidden(admin_route ? "This needs an admin account" : "Admin tokens cannot use user routes");
    }
    if (admin_token) {
      context.admin_id = principal.id;
    } else {
      context.user_id = principal.id;
    }
    co_return co_await next(request, context);
  };
}

void add_auth_routes(http::Router& router, services::AuthService& auth) {
  http::RouteOptions sign_in_options;
  sign_in_options.rate_limit_policy = "auth";
  router.add(
      "POST", "/api/v1/auth",
      [&auth](http::Request& request, http::RequestContext&) -> Task<http::Response> {
        // The Mini App may send its init data as `Authorization: tma <initData>` instead of a body.
        if (const auto header = request.headers.get("Authorization")) {
          if (const auto init_data = strip_scheme(*header, "tma")) {
            const std::string raw(*init_data);
            const auto sign_in = co_await auth.sign_in_with_init_data(raw);
            co_return json_response(200, sign_in_body(sign_in));
          }
        }
        const auto body = parse_json_object(request, {});
        if (const auto init_data = optional_string(body, "init_data", 1, kMaxInitDataChars)) {
          const auto sign_in = co_await auth.sign_in_with_init_data(*init_data);
          co_return json_response(200, sign_in_body(sign_in));
        }
        if (const auto* widget = body.if_contains("login_widget")) {
          const auto fields = widget_fields(*widget);
          const auto sign_in = co_await auth.sign_in_with_login_widget(fields);
          co_return json_response(200, sign_in_body(sign_in));
        }
        throw core::validation_failed("init_data", "Send either 'init_data' or 'login_widget'");
      },
      sign_in_options);

  http::RouteOptions admin_login_options;
  admin_login_options.rate_limit_policy = "admin_login";
  router.add(
      "POST", "/api/v1/admin/login",
      [&auth](http::Request& request, http::RequestContext&) -> Task<http::Response> {
        const auto body = parse_json_object(request, {});
        const auto username = require_string(body, "username", 1, 64);
        const auto password = require_string(body, "password", 1, 1024);
        const auto token = co_await auth.admin_log_in(username, password);
        boost::json::object reply;
        reply["access_token"] = token.token;
        reply["token_type"] = "bearer";
        reply["expires_in"] = auth.token_lifetime().count();
        co_return json_response(200, reply);
      },
      admin_login_options);
}

void add_profile_routes(http::Router& router, services::ProfileService& profiles) {
  http::RouteOptions user_route;
  user_route.access = http::Access::kUser;
  user_route.rate_limit_policy = "api";

  router.add(
      "GET", "/api/v1/profile",
      [&profiles](http::Request&, http::RequestContext& context) -> Task<http::Response> {
        const auto profile = co_await profiles.get(current_user(context));
        co_return json_response(200, profile_body(profile));
      },
      user_route);

  router.add(
      "PATCH", "/api/v1/profile",
      [&profiles](http::Request& request, http::RequestContext& context) -> Task<http::Response> {
        const auto body = parse_json_object(request, {});
        for (const auto& [key, value] : body) {
          if (key != "settings") {
            throw core::validation_failed(std::string(key), "Only 'settings' can be changed");
          }
        }
        const auto* settings = body.if_contains("settings");
        if (settings == nullptr || !settings->is_object()) {
          throw core::validation_failed("settings", "'settings' must be an object");
        }
        const auto profile = co_await profiles.update_settings(current_user(context), settings->as_object());
        co_return json_response(200, profile_body(profile));
      },
      user_route);
}

}  // namespace evolveai::api
