#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "obs/trace_context.hpp"

namespace evolveai::http {

struct Route;

/// What the server and middleware learn about a request while it is handled.
struct RequestContext {
  std::string request_id;
  /// The matched route pattern, "static" for files, "unmatched" otherwise (metrics label).
  std::string route_label = "unmatched";
  const Route* route = nullptr;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  /// Set by the authentication middleware: the signed-in user, or the admin.
  std::optional<std::int64_t> user_id;
  std::optional<std::int64_t> admin_id;
  /// The request's server span (set by the tracing middleware): the parent of its work.
  obs::TraceContext trace;
};

}  // namespace evolveai::http
