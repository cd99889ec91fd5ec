#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace evolveai::telegram {

/// The most characters (UTF-16 code units, as Telegram counts them) one message may hold.
inline constexpr std::size_t kMaxMessageUnits = 4096;

/// Escapes `<`, `>`, `&` and `"` for Telegram's HTML parse mode.
[[nodiscard]] std::string escape_html(std::string_view text);

/// Turns the model's light Markdown into Telegram HTML: ```fenced``` blocks become <pre>,
/// `code` <code>, **bold** <b>, and every other character is escaped, so no text the model
/// writes can break the markup (unpaired markers stay as they are). Tags always nest.
[[nodiscard]] std::string to_telegram_html(std::string_view text);

/// Length of UTF-8 text in UTF-16 code units (characters outside the BMP count twice).
[[nodiscard]] std::size_t utf16_length(std::string_view text) noexcept;

/// Splits text into pieces of at most `max_units` UTF-16 units, cutting at the last paragraph
/// break, else line break, else sentence end, else space before the limit, and only as a last
/// resort inside a word (never inside a UTF-8 sequence). Whitespace at the cuts is dropped; the
/// pieces keep the text's order and every non-space character.
[[nodiscard]] std::vector<std::string> split_message(std::string_view text, std::size_t max_units = kMaxMessageUnits);

/// At most `max_units` of the text's beginning, with "…" when cut (for streamed previews).
[[nodiscard]] std::string preview(std::string_view text, std::size_t max_units = kMaxMessageUnits);

/// The text with every HTML tag removed and entities decoded (a plain-text fallback).
[[nodiscard]] std::string html_to_plain(std::string_view html);

}  // namespace evolveai::telegram
