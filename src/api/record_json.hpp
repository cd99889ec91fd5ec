#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <optional>
#include <string>

#include "storage/records.hpp"

namespace evolveai::api {

/// The text, or JSON null.
[[nodiscard]] boost::json::value optional_text(const std::optional<std::string>& text);
/// The time in RFC 3339, or JSON null.
[[nodiscard]] boost::json::value optional_time(const std::optional<storage::Time>& time);
/// A stored payment as every route shows it (operators' list, a user's export).
[[nodiscard]] boost::json::object payment_json(const storage::Payment& payment);

}  // namespace evolveai::api
