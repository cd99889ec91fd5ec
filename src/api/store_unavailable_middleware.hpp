#pragma once

#include "http/pipeline.hpp"

namespace evolveai::api {

/// Answers 503 `service_unavailable` when the database cannot be reached or does not answer in
/// time (no connection, connection lost, pool or statement timeout, transient failure): the
/// request may well succeed once the database is back, so it is not a 500. Other store errors
/// (constraints, bugs) pass on unchanged and stay 500 `internal`.
http::Middleware store_unavailable_middleware();

}  // namespace evolveai::api
