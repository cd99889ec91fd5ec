#include "telegram/format.hpp"

#include <array>

namespace evolveai::telegram {
namespace {

/// Bytes of the UTF-8 sequence a lead byte starts (1 for stray continuation bytes).
std::size_t sequence_length(unsigned char lead) noexcept {
  if (lead >= 0xF0) {
    return 4;
  }
  if (lead >= 0xE0) {
    return 3;
  }
  if (lead >= 0xC0) {
    return 2;
  }
  return 1;
}

/// The largest byte count of `text`'s beginning that fits in `max_units` UTF-16 units, on a
/// character boundary.
std::size_t fitting_bytes(std::string_view text, std::size_t max_units) noexcept {
  std::size_t bytes = 0;
  std::size_t units = 0;
  while (bytes < text.size()) {
    const std::size_t length = sequence_length(static_cast<unsigned char>(text[bytes]));
    const std::size_t cost = length == 4 ? 2 : 1;
    if (units + cost > max_units || bytes + length > text.size()) {
      break;
    }
    units += cost;
    bytes += length;
  }
  return bytes;
}

bool is_space(char c) noexcept {
  return c == ' ' || c == '\n' || c == '\t' || c == '\r';
}

std::string_view trim(std::string_view text) noexcept {
  while (!text.empty() && is_space(text.front())) {
    text.remove_prefix(1);
  }
  while (!text.empty() && is_space(text.back())) {
    text.remove_suffix(1);
  }
  return text;
}

/// Where to cut `window` (the part that fits): the end of the best boundary found, or 0.
std::size_t cut_point(std::string_view window) noexcept {
  static constexpr std::array<std::string_view, 2> kBreaks{"\n\n", "\n"};
  static constexpr std::array<std::string_view, 6> kSentenceEnds{". ", "! ", "? ", ".\n", "!\n", "?\n"};
  const std::size_t half = window.size() / 2;
  for (const auto separator : kBreaks) {
    const auto at = window.rfind(separator);
    if (at != std::string_view::npos && at >= half) {
      return at + separator.size();
    }
  }
  std::size_t best = 0;
  for (const auto separator : kSentenceEnds) {
    const auto at = window.rfind(separator);
    if (at != std::string_view::npos && at + 1 > best) {
      best = at + 1;  // keep the punctuation with its sentence
    }
  }
  if (best >= half) {
    return best;
  }
  const auto space = window.rfind(' ');
  if (space != std::string_view::npos && space >= half) {
    return space + 1;
  }
  // Fall back to earlier boundaries of any kind before cutting inside a word.
  for (const auto separator : kBreaks) {
    const auto at = window.rfind(separator);
    if (at != std::string_view::npos && at > 0) {
      return at + separator.size();
    }
  }
  if (best > 0) {
    return best;
  }
  if (space != std::string_view::npos && space > 0) {
    return space + 1;
  }
  return 0;
}

void append_escaped(std::string& out, std::string_view text) {
  for (const char c : text) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
}

/// Inline markup of a stretch outside fenced blocks: `code` and **bold**.
void append_inline(std::string& out, std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '`') {
      const auto close = text.find('`', i + 1);
      if (close != std::string_view::npos && close > i + 1) {
        out += "<code>";
        append_escaped(out, text.substr(i + 1, close - i - 1));
        out += "</code>";
        i = close + 1;
        continue;
      }
    } else if (text.substr(i, 2) == "**") {
      const auto close = text.find("**", i + 2);
      if (close != std::string_view::npos && close > i + 2) {
        out += "<b>";
        append_escaped(out, text.substr(i + 2, close - i - 2));
        out += "</b>";
        i = close + 2;
        continue;
      }
    }
    append_escaped(out, text.substr(i, 1));
    ++i;
  }
}

}  // namespace

std::string escape_html(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  append_escaped(out, text);
  return out;
}

std::string to_telegram_html(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 4);
  std::size_t i = 0;
  while (i < text.size()) {
    const auto open = text.find("```", i);
    const auto close = open == std::string_view::npos ? std::string_view::npos : text.find("```", open + 3);
    if (close == std::string_view::npos) {
      append_inline(out, text.substr(i));
      break;
    }
    append_inline(out, text.substr(i, open - i));
    std::string_view code = text.substr(open + 3, close - open - 3);
    // A language name on the fence's first line is not code.
    if (const auto newline = code.find('\n');
        newline != std::string_view::npos && code.substr(0, newline).find(' ') == std::string_view::npos) {
      code.remove_prefix(newline + 1);
    }
    out += "<pre>";
    append_escaped(out, code);
    out += "</pre>";
    i = close + 3;
  }
  return out;
}

std::size_t utf16_length(std::string_view text) noexcept {
  std::size_t units = 0;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte & 0xC0U) != 0x80U) {
      units += byte >= 0xF0 ? 2 : 1;
    }
  }
  return units;
}

std::vector<std::string> split_message(std::string_view text, std::size_t max_units) {
  std::vector<std::string> pieces;
  text = trim(text);
  while (!text.empty()) {
    if (utf16_length(text) <= max_units) {
      pieces.emplace_back(text);
      break;
    }
    const std::size_t fits = fitting_bytes(text, max_units);
    std::size_t cut = cut_point(text.substr(0, fits));
    if (cut == 0) {
      cut = fits == 0 ? sequence_length(static_cast<unsigned char>(text.front())) : fits;
    }
    const auto piece = trim(text.substr(0, cut));
    if (!piece.empty()) {
      pieces.emplace_back(piece);
    }
    text = trim(text.substr(cut));
  }
  return pieces;
}

std::string preview(std::string_view text, std::size_t max_units) {
  if (utf16_length(text) <= max_units) {
    return std::string(text);
  }
  std::string out(text.substr(0, fitting_bytes(text, max_units - 1)));
  out += "\u2026";
  return out;
}

std::string html_to_plain(std::string_view html) {
  std::string out;
  out.reserve(html.size());
  static constexpr std::array<std::pair<std::string_view, char>, 4> kEntities{
      {{"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'}, {"&quot;", '"'}}};
  std::size_t i = 0;
  while (i < html.size()) {
    if (html[i] == '<') {
      const auto close = html.find('>', i);
      if (close == std::string_view::npos) {
        break;
      }
      i = close + 1;
      continue;
    }
    if (html[i] == '&') {
      bool decoded = false;
      for (const auto& [entity, c] : kEntities) {
        if (html.substr(i, entity.size()) == entity) {
          out += c;
          i += entity.size();
          decoded = true;
          break;
        }
      }
      if (decoded) {
        continue;
      }
    }
    out += html[i];
    ++i;
  }
  return out;
}

}  // namespace evolveai::telegram
