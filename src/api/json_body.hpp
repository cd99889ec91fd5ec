#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "http/message.hpp"

namespace evolveai::api {

/// Limits on what a JSON request body may contain.
struct JsonLimits {
  std::size_t max_depth = 32;
};

/// Parses a request body as a JSON object: 415 `unsupported_media_type` unless the
/// Content-Type is JSON, 400 `invalid_json` for bad syntax, invalid UTF-8, nesting past
/// `max_depth` or a non-object top level.
boost::json::object parse_json_object(const http::Request& request, const JsonLimits& limits);

/// A required string field of `min_chars`..`max_chars` Unicode characters; 400 `validation_failed` naming it.
std::string require_string(const boost::json::object& object, std::string_view field, std::size_t min_chars,
                           std::size_t max_chars);

/// An optional string field with the same rules; nullopt when absent or null.
std::optional<std::string> optional_string(const boost::json::object& object, std::string_view field,
                                           std::size_t min_chars, std::size_t max_chars);

/// An optional integer field within [min, max].
std::optional<std::int64_t> optional_integer(const boost::json::object& object, std::string_view field,
                                             std::int64_t min, std::int64_t max);

/// An optional boolean field.
std::optional<bool> optional_bool(const boost::json::object& object, std::string_view field);

/// An integer query parameter within [min, max]; `fallback` when absent.
std::int64_t query_integer(const http::Request& request, std::string_view name, std::int64_t fallback, std::int64_t min,
                           std::int64_t max);

/// A JSON response from a value.
http::Response json_response(int status, const boost::json::value& body);

}  // namespace evolveai::api
