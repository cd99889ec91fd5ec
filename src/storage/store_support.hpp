#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "storage/records.hpp"

/// Helpers shared by the engines: time and day conversions, input checks, search text
/// handling and snippet rendering. Internal to the storage layer.
namespace evolveai::storage::support {

/// Longest client_message_id accepted (bytes).
inline constexpr std::size_t kMaxClientMessageIdBytes = 64;
/// Longest finish_reason accepted (bytes).
inline constexpr std::size_t kMaxFinishReasonBytes = 32;
/// Longest charge_id accepted (bytes).
inline constexpr std::size_t kMaxChargeIdBytes = 255;
/// Search text beyond this many bytes is ignored.
inline constexpr std::size_t kMaxSearchBytes = 1024;
/// At most this many terms of a search are used.
inline constexpr std::size_t kMaxSearchTerms = 32;
/// At most this many words of a new message look for relevant older ones.
inline constexpr std::size_t kMaxRelevantWords = 16;
/// Highlight markers handed to the engines' snippet functions: private-use code points
/// U+E000 and U+E001, removed from search text and balanced when rendering.
inline constexpr std::string_view kMarkStart = "\xEE\x80\x80";
inline constexpr std::string_view kMarkEnd = "\xEE\x80\x81";
/// Largest page any list call returns.
inline constexpr std::size_t kMaxPage = 1000;

/// Microseconds since the Unix epoch, the precision both engines keep.
[[nodiscard]] std::int64_t to_micros(Time t) noexcept;
/// The inverse of to_micros.
[[nodiscard]] Time from_micros(std::int64_t micros) noexcept;
/// `t` truncated to what the store keeps.
[[nodiscard]] Time store_precision(Time t) noexcept;
/// The UTC day of `t`.
[[nodiscard]] std::chrono::sys_days utc_day(Time t) noexcept;
/// "YYYY-MM-DD".
[[nodiscard]] std::string format_day(std::chrono::sys_days day);
/// Parses "YYYY-MM-DD"; throws std::invalid_argument.
[[nodiscard]] std::chrono::sys_days parse_day(std::string_view text);

/// Throws core::validation_failed(field) unless `text` is valid UTF-8 without NUL bytes:
/// both engines then store exactly the same text.
void require_storable_text(std::string_view field, std::string_view text);
/// Throws core::validation_failed(field) unless `text` is a JSON object.
void require_json_object(std::string_view field, std::string_view text);
/// Escapes `%`, `_` and `\` so that `text` matches literally inside a LIKE pattern (ESCAPE '\').
[[nodiscard]] std::string like_pattern_contains(std::string_view text);
/// Checks a message before it is stored (text, client_message_id length).
void validate_new_message(const NewMessage& message);
/// Checks a payment before it is applied (charge_id 1..255 bytes, days > 0, texts).
void validate_new_payment(const NewPayment& payment);
/// Throws core::validation_failed("counter") unless `name` is 1..32 characters of [a-z0-9_].
void validate_counter_name(std::string_view name);
/// Clamps a page size to 1..kMaxPage.
[[nodiscard]] std::size_t clamp_limit(std::size_t limit) noexcept;

/// Longest fact id accepted (bytes).
inline constexpr std::size_t kMaxFactIdBytes = 32;

/// A JSON array of strings (e.g. job kinds handed to a statement as one parameter).
[[nodiscard]] std::string string_array_json(const std::vector<std::string>& items);
/// Facts as the `facts` column keeps them: a JSON array of {"id","text","pinned"} objects.
[[nodiscard]] std::string facts_to_json(const std::vector<Fact>& facts);
/// Reads the `facts` column. Older rows hold plain strings: they read as unpinned facts whose
/// id is derived from the text, so it stays the same on every read until the facts are
/// rewritten. Anything malformed reads as no facts.
[[nodiscard]] std::vector<Fact> facts_from_json(std::string_view json);
/// Throws core::validation_failed("facts") unless every id is 1..kMaxFactIdBytes of
/// [A-Za-z0-9_-] and unique, and every text is storable.
void validate_facts(const std::vector<Fact>& facts);

/// Search text made safe for any engine: invalid UTF-8, control characters and the
/// highlight markers become spaces; cut to kMaxSearchBytes at a character boundary.
[[nodiscard]] std::string normalize_search_text(std::string_view text);
/// An FTS5 query matching rows that contain every whitespace-separated term: each term
/// is a quoted string with quotes doubled, so no input is an operator or a syntax error.
/// Empty when there is nothing to search for.
[[nodiscard]] std::string fts5_all_terms_query(std::string_view normalized);
/// The distinct words (letters and digits, at least three characters, ASCII lower-cased, not
/// a common English or Russian word such as "and" or "что") of a new message, used to find
/// relevant older messages.
[[nodiscard]] std::vector<std::string> relevant_words(std::string_view text);
/// An FTS5 query matching any of `words`.
[[nodiscard]] std::string fts5_any_word_query(const std::vector<std::string>& words);
/// A websearch_to_tsquery text matching any of `words`.
[[nodiscard]] std::string websearch_any_word_query(const std::vector<std::string>& words);
/// Turns an engine's snippet (content with kMarkStart/kMarkEnd around matches) into HTML:
/// everything HTML-escaped, markers as balanced <mark>…</mark>.
[[nodiscard]] std::string render_snippet(std::string_view raw);

/// Monotonic stopwatch for statement timing.
[[nodiscard]] inline std::chrono::steady_clock::time_point started() noexcept {
  return std::chrono::steady_clock::now();
}

}  // namespace evolveai::storage::support
