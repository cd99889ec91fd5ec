#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/message.hpp"

namespace evolveai::http {

struct RequestContext;

/// The one shape of every handler.
using Handler = std::function<Task<Response>(Request&, RequestContext&)>;

/// Who may call a route.
enum class Access {
  kPublic,  ///< anyone
  kUser,    ///< a signed-in user's token
  kAdmin,   ///< an admin token
};

/// Per-route options read by the server and the middleware.
struct RouteOptions {
  /// Largest accepted request body in bytes; 0 means the server's default.
  std::size_t body_limit = 0;
  Access access = Access::kPublic;
  /// Name of the rate-limit policy applied to this route; empty for none.
  std::string rate_limit_policy;
  /// Deadline of a whole request on this route; 0 means the server's `request_timeout`.
  std::chrono::milliseconds timeout{0};
};

/// A registered route.
struct Route {
  std::string method;
  std::string pattern;  ///< e.g. `/api/v1/admin/users/{id}`; also the metrics label
  Handler handler;
  RouteOptions options;
};

/// What the router found for a method and path.
struct RouteMatch {
  const Route* route = nullptr;  ///< null when nothing matched
  std::vector<std::pair<std::string, std::string>> params;
  /// Methods that would match the path when the method did not (for 405).
  std::vector<std::string> allowed_methods;
};

/// Maps method + path to handlers; patterns are literal segments and `{name}` parameters.
class Router {
 public:
  /// Registers a route; a duplicate method+pattern or a malformed pattern throws std::logic_error.
  void add(std::string method, std::string pattern, Handler handler, RouteOptions options = {});
  /// Finds the route for a request.
  [[nodiscard]] RouteMatch match(std::string_view method, std::string_view path) const;
  /// Every route, in registration order.
  [[nodiscard]] const std::vector<Route>& routes() const { return routes_; }

 private:
  struct Compiled {
    std::vector<std::string> segments;  ///< "{x}" marks a parameter
  };
  std::vector<Route> routes_;
  std::vector<Compiled> compiled_;
};

}  // namespace evolveai::http
