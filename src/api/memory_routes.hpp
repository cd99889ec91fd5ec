#pragma once

#include "http/router.hpp"

namespace evolveai::services {
class MemoryService;
}

namespace evolveai::api {

/// GET /api/v1/memory, POST /api/v1/memory/facts, PATCH and DELETE /api/v1/memory/facts/{id}:
/// the signed-in user's own memory only; another user's fact id is simply not found.
void add_memory_routes(http::Router& router, services::MemoryService& memory);

}  // namespace evolveai::api
