#include "services/auth/query_string.hpp"

#include <algorithm>
#include <optional>

#include "core/utf8.hpp"

namespace evolveai::services::auth {
namespace {

int hex_digit(char c) noexcept {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/// Decodes one form-encoded component; nullopt on a bad escape, a raw byte a URL-encoded
/// string never holds, or a result that is not UTF-8.
std::optional<std::string> decode_component(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20U || byte >= 0x7FU) {
      return std::nullopt;
    }
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%') {
      if (i + 2 >= text.size()) {
        return std::nullopt;
      }
      const int high = hex_digit(text[i + 1]);
      const int low = hex_digit(text[i + 2]);
      if (high < 0 || low < 0) {
        return std::nullopt;
      }
      out.push_back(static_cast<char>((high << 4) | low));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  if (!core::is_valid_utf8(out)) {
    return std::nullopt;
  }
  return out;
}

}  // namespace

Outcome<std::vector<QueryField>, QueryStringError> parse_query_string(std::string_view text, QueryStringLimits limits) {
  if (text.size() > limits.max_length) {
    return QueryStringError::kMalformed;
  }
  std::vector<QueryField> fields;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('&', start);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    const std::string_view piece = text.substr(start, end - start);
    start = end + 1;
    if (piece.empty()) {
      continue;
    }
    const std::size_t equals = piece.find('=');
    if (equals == std::string_view::npos || equals == 0) {
      return QueryStringError::kMalformed;
    }
    auto key = decode_component(piece.substr(0, equals));
    auto value = decode_component(piece.substr(equals + 1));
    if (!key || !value || key->empty()) {
      return QueryStringError::kMalformed;
    }
    if (fields.size() == limits.max_fields) {
      return QueryStringError::kMalformed;
    }
    const bool seen = std::any_of(fields.begin(), fields.end(), [&](const QueryField& f) { return f.key == *key; });
    if (seen) {
      return QueryStringError::kDuplicateKey;
    }
    fields.push_back(QueryField{std::move(*key), std::move(*value)});
  }
  return fields;
}

}  // namespace evolveai::services::auth
