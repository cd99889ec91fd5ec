#pragma once

#include <cstddef>
#include <string_view>

namespace evolveai::core {

/// True when `text` is well-formed UTF-8: no overlong forms, surrogates, values past U+10FFFF
/// or truncated sequences.
[[nodiscard]] bool is_valid_utf8(std::string_view text) noexcept;

/// Number of Unicode code points in valid UTF-8 text (bytes that are not continuation bytes).
[[nodiscard]] std::size_t utf8_length(std::string_view text) noexcept;

/// The longest prefix of valid UTF-8 `text` with at most `max_chars` code points; never cuts a sequence.
[[nodiscard]] std::string_view utf8_prefix(std::string_view text, std::size_t max_chars) noexcept;

}  // namespace evolveai::core
