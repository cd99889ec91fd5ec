#pragma once

#include <string_view>

#include "http/router.hpp"

namespace evolveai::api {

/// The OpenAPI 3.1 document of the whole API (src/api/openapi.json, compiled in).
[[nodiscard]] std::string_view openapi_document();
/// The human-readable docs page that renders the document (src/api/docs.html, compiled in).
[[nodiscard]] std::string_view docs_page();

/// `GET /api/v1/openapi.json` and `GET /docs`.
void add_openapi_routes(http::Router& router);

}  // namespace evolveai::api
