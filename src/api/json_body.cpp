#include "api/json_body.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <fmt/format.h>
#include <cctype>
#include <charconv>

#include "core/errors.hpp"

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
  const auto length = utf8_length(text);
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

bool is_valid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<unsigned char>(text[i]);
    std::size_t extra = 0;
    std::uint32_t code = 0;
    if (byte < 0x80) {
      ++i;
      continue;
    }
    if ((byte & 0xE0U) == 0xC0U) {
      extra = 1;
      code = byte & 0x1FU;
    } else if ((byte & 0xF0U) == 0xE0U) {
      extra = 2;
      code = byte & 0x0FU;
    } else if ((byte & 0xF8U) == 0xF0U) {
      extra = 3;
      code = byte & 0x07U;
    } else {
      return false;
    }
    if (i + extra >= text.size()) {
      return false;
    }
    for (std::size_t k = 1; k <= extra; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0U) != 0x80U) {
        return false;
      }
      code = (code << 6U) | (next & 0x3FU);
    }
    const bool overlong = (extra == 1 && code < 0x80) || (extra == 2 && code < 0x800) || (extra == 3 && code < 0x10000);
    if (overlong || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
      return false;
    }
    i += extra + 1;
  }
  return true;
}

std::size_t utf8_length(std::string_view text) {
  std::size_t count = 0;
  for (const char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0U) != 0x80U) {
      ++count;
    }
  }
  return count;
}

http::Response json_response(int status, const boost::json::value& body) {
  return http::Response::json(status, boost::json::serialize(body));
}

}  // namespace evolveai::api
