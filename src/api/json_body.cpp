#include "api/json_body.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <fmt/format.h>
#include <cctype>
#include <charconv>

#include "core/errors.hpp"
#include "core/utf8.hpp"

namespace evolveai::api {
namespace {

bool is_json_content_type(std::string_view type) {
  const auto semicolon = type.find(';');
  auto media = type.substr(0, semicolon);
  while (!media.empty() && media.back() == ' ') {
    media.remove_suffix(1);
  }
  if (media.size() != 16) {
    return false;
  }
  constexpr std::string_view kJson = "application/json";
  for (std::size_t i = 0; i < media.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(media[i])) != kJson[i]) {
      return false;
    }
  }
  return true;
}

std::string checked_string(const boost::json::value& value, std::string_view field, std::size_t min_chars,
                           std::size_t max_chars) {
  if (!value.is_string()) {
    throw core::validation_failed(std::string(field), fmt::format("'{}' must be a string", field));
  }
  std::string text(value.as_string());
  const auto length = core::utf8_length(text);
  if (length < min_chars || length > max_chars) {
    throw core::validation_failed(std::string(field),
                                  fmt::format("'{}' must be {} to {} characters long", field, min_chars, max_chars));
  }
  return text;
}

}  // namespace

boost::json::object parse_json_object(const http::Request& request, const JsonLimits& limits) {
  const auto type = request.headers.get("Content-Type");
  if (!type || !is_json_content_type(*type)) {
    throw core::unsupported_media_type("Send the body as application/json");
  }
  boost::json::parse_options options;
  options.max_depth = limits.max_depth;
  boost::system::error_code ec;
  auto value = boost::json::parse(request.body, ec, {}, options);
  if (ec) {
    throw core::invalid_json("The body is not valid JSON: " + ec.message());
  }
  if (!value.is_object()) {
    throw core::invalid_json("The body must be a JSON object");
  }
  return std::move(value.as_object());
}

std::string require_string(const boost::json::object& object, std::string_view field, std::size_t min_chars,
                           std::size_t max_chars) {
  const auto* value = object.if_contains(field);
  if (value == nullptr || value->is_null()) {
    throw core::validation_failed(std::string(field), fmt::format("'{}' is required", field));
  }
  return checked_string(*value, field, min_chars, max_chars);
}

std::optional<std::string> optional_string(const boost::json::object& object, std::string_view field,
                                           std::size_t min_chars, std::size_t max_chars) {
  const auto* value = object.if_contains(field);
  if (value == nullptr || value->is_null()) {
    return std::nullopt;
  }
  return checked_string(*value, field, min_chars, max_chars);
}

std::optional<std::int64_t> optional_integer(const boost::json::object& object, std::string_view field,
                                             std::int64_t min, std::int64_t max) {
  const auto* value = object.if_contains(field);
  if (value == nullptr || value->is_null()) {
    return std::nullopt;
  }
  std::int64_t number = 0;
  if (value->is_int64()) {
    number = value->as_int64();
  } else if (value->is_uint64() && value->as_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    number = static_cast<std::int64_t>(value->as_uint64());
  } else {
    throw core::validation_failed(std::string(field), fmt::format("'{}' must be a whole number", field));
  }
  if (number < min || number > max) {
    throw core::validation_failed(std::string(field), fmt::format("'{}' must be between {} and {}", field, min, max));
  }
  return number;
}

std::optional<bool> optional_bool(const boost::json::object& object, std::string_view field) {
  const auto* value = object.if_contains(field);
  if (value == nullptr || value->is_null()) {
    return std::nullopt;
  }
  if (!value->is_bool()) {
    throw core::validation_failed(std::string(field), fmt::format("'{}' must be true or false", field));
  }
  return value->as_bool();
}

std::int64_t query_integer(const http::Request& request, std::string_view name, std::int64_t fallback, std::int64_t min,
                           std::int64_t max) {
  const auto text = request.query_param(name);
  if (!text) {
    return fallback;
  }
  std::int64_t value = 0;
  const auto* end = text->data() + text->size();
  const auto [ptr, ec] = std::from_chars(text->data(), end, value);
  if (ec != std::errc() || ptr != end || value < min || value > max) {
    throw core::validation_failed(std::string(name),
                                  fmt::format("'{}' must be a whole number between {} and {}", name, min, max));
  }
  return value;
}

http::Response json_response(int status, const boost::json::value& body) {
  return http::Response::json(status, boost::json::serialize(body));
}

}  // namespace evolveai::api
