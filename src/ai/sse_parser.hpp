#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace evolveai::ai {

/// One server-sent event.
struct SseEvent {
  std::string type = "message";  ///< from `event:`, "message" when absent
  std::string data;              ///< `data:` lines joined with '\n'
  std::string id;                ///< the last event id seen so far
};

/// Incremental server-sent-events parser after the WHATWG rules: feed it byte chunks cut
/// anywhere and it yields whole events. Lines may end in CRLF, LF or CR; comments (`:`)
/// are counted and skipped; `event:`, `data:`, `id:` and `retry:` are honoured.
/// Lines that are not SSE fields at all (a bare JSON error body some servers append) are
/// kept as `stray_text()` for the caller to inspect. Pure: no I/O.
class SseParser {
 public:
  /// `max_event_bytes` bounds one line and one event's data; past it feed() throws
  /// std::length_error.
  explicit SseParser(std::size_t max_event_bytes = std::size_t{8} * 1024 * 1024);

  /// Parses more bytes and appends the events they complete to `out`.
  void feed(std::string_view bytes, std::vector<SseEvent>& out);

  /// The stream ended: a last line without its newline, and an event without its blank
  /// line, are still delivered (servers do end that way).
  void finish(std::vector<SseEvent>& out);

  /// The reconnection delay the server asked for with `retry:`.
  [[nodiscard]] std::optional<std::chrono::milliseconds> retry() const noexcept { return retry_; }
  [[nodiscard]] const std::string& last_event_id() const noexcept { return last_event_id_; }
  /// Comment lines seen (keep-alives such as `: OPENROUTER PROCESSING`).
  [[nodiscard]] std::size_t comments() const noexcept { return comments_; }
  /// Lines that were not SSE fields, each followed by '\n'.
  [[nodiscard]] const std::string& stray_text() const noexcept { return stray_; }

 private:
  void line(std::string_view text, std::vector<SseEvent>& out);
  void dispatch(std::vector<SseEvent>& out);

  std::size_t max_event_bytes_;
  std::string line_;
  bool skip_lf_ = false;  ///< the last chunk ended in CR: a leading LF belongs to it
  bool started_ = false;  ///< past a possible byte order mark
  std::string data_;
  std::string type_;
  bool has_data_ = false;
  std::string last_event_id_;
  std::optional<std::chrono::milliseconds> retry_;
  std::size_t comments_ = 0;
  std::string stray_;
};

}  // namespace evolveai::ai
