#pragma once

#include "http/pipeline.hpp"
#include "http/router.hpp"

namespace evolveai::services {
class AuthService;
class ProfileService;
}  // namespace evolveai::services

namespace evolveai::api {

/// Checks the bearer token of every route that is not public and records who is calling:
/// 401 without or with a bad token, 403 for a user token on an admin route (and the reverse).
http::Middleware authentication_middleware(services::AuthService& auth);

/// POST /api/v1/auth (Telegram Mini App init data or Login Widget) and POST /api/v1/admin/login.
void add_auth_routes(http::Router& router, services::AuthService& auth);

/// GET and PATCH /api/v1/profile (GET /api/v1/premium is in premium_routes.hpp).
void add_profile_routes(http::Router& router, services::ProfileService& profiles);

/// The signed-in user's id; only valid on user routes behind the authentication middleware.
std::int64_t current_user(const http::RequestContext& context);

}  // namespace evolveai::api
