#include "ai/json_support.hpp"

#include <boost/json/parse.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace evolveai::ai {

std::optional<boost::json::value> parse_json(std::string_view text) {
  boost::json::parse_options options;
  options.max_depth = 64;
  boost::system::error_code ec;
  auto value = boost::json::parse(text, ec, {}, options);
  if (ec) {
    return std::nullopt;
  }
  return value;
}

boost::json::value parse_schema(std::string_view text) {
  auto value = parse_json(text);
  if (!value || !value->is_object()) {
    throw std::invalid_argument("the JSON schema of a chat request is not a JSON object");
  }
  return std::move(*value);
}

std::string string_field(const boost::json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  if (value == nullptr || !value->is_string()) {
    return {};
  }
  return std::string(value->get_string());
}

std::optional<std::int64_t> int_field(const boost::json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  if (value == nullptr) {
    return std::nullopt;
  }
  if (value->is_int64()) {
    return value->get_int64();
  }
  if (value->is_uint64() && value->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    return static_cast<std::int64_t>(value->get_uint64());
  }
  if (value->is_double()) {
    const double number = value->get_double();
    if (std::isfinite(number) && std::trunc(number) == number && std::fabs(number) < 9e15) {
      return static_cast<std::int64_t>(number);
    }
  }
  return std::nullopt;
}

std::int64_t token_count(const boost::json::object& object, std::string_view key) {
  constexpr std::int64_t kMaxTokens = std::int64_t{1} << 40;
  return std::clamp<std::int64_t>(int_field(object, key).value_or(0), 0, kMaxTokens);
}

bool bool_field(const boost::json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  return value != nullptr && value->is_bool() && value->get_bool();
}

bool is_blank(std::string_view text) noexcept {
  return std::all_of(text.begin(), text.end(), [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; });
}

}  // namespace evolveai::ai
