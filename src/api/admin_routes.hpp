#pragma once

#include <optional>
#include <string_view>

#include "http/router.hpp"
#include "storage/records.hpp"

namespace evolveai::services {
class AdminService;
}

namespace evolveai::api {

/// Every `/api/v1/admin/*` route but log-in (which lives with the other sign-in routes): users,
/// premium, bans, payments and refunds, statistics, cleanup, backups, audit log and feature
/// flags. Admin token only; the shapes are those of API.md ("Admin").
void add_admin_routes(http::Router& router, services::AdminService& admin);

/// `YYYY-MM-DD` (midnight UTC) or `YYYY-MM-DDTHH:MM:SS[.fraction]Z`; nullopt for anything else.
[[nodiscard]] std::optional<storage::Time> parse_utc_time(std::string_view text);

}  // namespace evolveai::api
