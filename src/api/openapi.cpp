#include "api/openapi.hpp"

namespace evolveai::api {

void add_openapi_routes(http::Router& router) {
  router.add("GET", "/api/v1/openapi.json", [](http::Request&, http::RequestContext&) -> Task<http::Response> {
    auto response = http::Response::json(200, std::string(openapi_document()));
    response.headers.set("Cache-Control", "public, max-age=300");
    co_return response;
  });
  router.add("GET", "/docs", [](http::Request&, http::RequestContext&) -> Task<http::Response> {
    auto response = http::Response::text(200, std::string(docs_page()), "text/html; charset=utf-8");
    response.headers.set("Cache-Control", "public, max-age=300");
    co_return response;
  });
}

}  // namespace evolveai::api
