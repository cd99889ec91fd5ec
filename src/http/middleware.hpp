#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "http/pipeline.hpp"

namespace evolveai::obs {
class Logger;
class MetricsRegistry;
class Tracer;
}  // namespace evolveai::obs

namespace evolveai::http {

/// Takes a well-formed `X-Request-Id` from the client or makes one; echoes it on the response.
Middleware request_id_middleware(std::uint64_t seed);

/// Opens the request's server span: a child of a valid incoming `traceparent`, else a new trace;
/// stores its ids in the context and ends it with the response (a stream: when it ends).
Middleware tracing_middleware(obs::Tracer& tracer);

/// One JSON access-log line and the HTTP metrics per request (never headers or bodies).
Middleware observe_middleware(obs::Logger& logger, obs::MetricsRegistry& metrics);

/// Maps typed errors to the JSON error body; anything unexpected becomes a bare 500.
Middleware error_middleware(obs::Logger& logger);

/// Cuts off a handler that runs longer than its route's `timeout` (else `timeout`) with 503
/// `service_unavailable`.
Middleware deadline_middleware(std::chrono::milliseconds timeout);

/// True when a client's request id is safe to reuse (1..64 of [A-Za-z0-9._-]).
bool is_valid_request_id(std::string_view id);

}  // namespace evolveai::http
