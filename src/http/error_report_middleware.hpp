#pragma once

#include "http/pipeline.hpp"

namespace evolveai::obs {
class ErrorReporter;
}

namespace evolveai::http {

/// Reports every error escaping the rest of the chain that the error middleware (which must
/// run outside this one) turns into a 5xx, with request id, route, method, status and error
/// code; then passes the error on unchanged. 4xx errors and the deliberate "not configured"
/// 503s are not reported, nor are 5xx answers a handler returns on purpose (readiness).
Middleware error_report_middleware(obs::ErrorReporter& errors);

}  // namespace evolveai::http
