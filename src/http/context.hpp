#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace evolveai::http {

struct Route;

/// What the server and middleware learn about a request while it is handled.
struct RequestContext {
  std::string request_id;
  /// The matched route pattern, "static" for files, "unmatched" otherwise (metrics label).
  std::string route_label = "unmatched";
  const Route* route = nullptr;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  /// Set by authentication middleware.
  std::optional<std::int64_t> user_id;
  bool is_admin = false;
};

}  // namespace evolveai::http
