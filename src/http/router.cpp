#include "http/router.hpp"

#include <algorithm>
#include <stdexcept>

namespace evolveai::http {
namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> segments;
  std::size_t start = 0;
  while (start <= path.size()) {
    auto end = path.find('/', start);
    if (end == std::string_view::npos) {
      end = path.size();
    }
    if (end > start) {
      segments.push_back(path.substr(start, end - start));
    }
    start = end + 1;
  }
  return segments;
}

bool is_parameter(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

}  // namespace

void Router::add(std::string method, std::string pattern, Handler handler, RouteOptions options) {
  if (pattern.empty() || pattern.front() != '/') {
    throw std::logic_error("route pattern must start with '/': " + pattern);
  }
  Compiled compiled;
  for (const auto segment : split_path(pattern)) {
    if (segment.find_first_of("{}") != std::string_view::npos && !is_parameter(segment)) {
      throw std::logic_error("malformed route segment in " + pattern);
    }
    compiled.segments.emplace_back(segment);
  }
  // Two patterns clash when they differ only in parameter names.
  const auto same_shape = [](const Compiled& a, const Compiled& b) {
    return std::equal(
        a.segments.begin(), a.segments.end(), b.segments.begin(), b.segments.end(),
        [](const std::string& x, const std::string& y) { return x == y || (is_parameter(x) && is_parameter(y)); });
  };
  for (std::size_t i = 0; i < routes_.size(); ++i) {
    if (routes_[i].method == method && same_shape(compiled_[i], compiled)) {
      throw std::logic_error("duplicate route " + method + " " + pattern);
    }
  }
  routes_.push_back(Route{std::move(method), std::move(pattern), std::move(handler), std::move(options)});
  compiled_.push_back(std::move(compiled));
}

RouteMatch Router::match(std::string_view method, std::string_view path) const {
  const auto segments = split_path(path);
  RouteMatch result;
  // A literal match beats a parameter match at the same depth; count literals to pick the best.
  int best_score = -1;
  for (std::size_t i = 0; i < routes_.size(); ++i) {
    const auto& pattern = compiled_[i].segments;
    if (pattern.size() != segments.size()) {
      continue;
    }
    std::vector<std::pair<std::string, std::string>> params;
    int score = 0;
    bool matched = true;
    for (std::size_t s = 0; s < segments.size(); ++s) {
      if (is_parameter(pattern[s])) {
        params.emplace_back(pattern[s].substr(1, pattern[s].size() - 2), std::string(segments[s]));
      } else if (pattern[s] == segments[s]) {
        ++score;
      } else {
        matched = false;
        break;
      }
    }
    if (!matched) {
      continue;
    }
    const bool method_ok = routes_[i].method == method || (method == "HEAD" && routes_[i].method == "GET");
    if (!method_ok) {
      result.allowed_methods.push_back(routes_[i].method);
      continue;
    }
    if (score > best_score) {
      best_score = score;
      result.route = &routes_[i];
      result.params = std::move(params);
    }
  }
  if (result.route != nullptr) {
    result.allowed_methods.clear();
  }
  return result;
}

}  // namespace evolveai::http
