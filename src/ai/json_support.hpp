#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace evolveai::ai {

/// Parses JSON text from an upstream (nesting up to 64 levels); nullopt when malformed.
[[nodiscard]] std::optional<boost::json::value> parse_json(std::string_view text);

/// Parses a JSON Schema given by our own code; throws std::invalid_argument when malformed.
[[nodiscard]] boost::json::value parse_schema(std::string_view text);

/// A string member, or "" when missing or not a string.
[[nodiscard]] std::string string_field(const boost::json::object& object, std::string_view key);

/// An integer member (whole doubles accepted), or nullopt.
[[nodiscard]] std::optional<std::int64_t> int_field(const boost::json::object& object, std::string_view key);

/// A token count of a provider's usage object: a whole number clamped to 0..2^40 (so sums of
/// counts cannot overflow), 0 when missing or not a number.
[[nodiscard]] std::int64_t token_count(const boost::json::object& object, std::string_view key);

/// A boolean member, false when missing or not a boolean.
[[nodiscard]] bool bool_field(const boost::json::object& object, std::string_view key);

/// True when `text` holds only whitespace.
[[nodiscard]] bool is_blank(std::string_view text) noexcept;

}  // namespace evolveai::ai
