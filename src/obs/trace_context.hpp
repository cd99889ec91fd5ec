#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace evolveai::obs {

/// Where a piece of work sits in a distributed trace: the W3C Trace Context ids of the current
/// span. A plain value (no I/O); a default-constructed one is invalid (all-zero ids).
struct TraceContext {
  std::array<std::uint8_t, 16> trace_id{};
  std::array<std::uint8_t, 8> span_id{};
  bool sampled = false;

  /// Parses a `traceparent` header strictly (W3C Trace Context level 1); nullopt when malformed.
  [[nodiscard]] static std::optional<TraceContext> parse(std::string_view traceparent) noexcept;
  /// A new trace with fresh random ids (CSPRNG), sampled.
  [[nodiscard]] static TraceContext new_root();
  /// The same trace with a fresh random span id: a child of this span.
  [[nodiscard]] TraceContext child() const;

  /// True when neither id is all zero.
  [[nodiscard]] bool valid() const noexcept;
  /// "00-<trace id>-<span id>-<flags>", 55 characters.
  [[nodiscard]] std::string traceparent() const;
  /// The trace id as 32 lowercase hex digits.
  [[nodiscard]] std::string trace_id_hex() const;
  /// The span id as 16 lowercase hex digits.
  [[nodiscard]] std::string span_id_hex() const;

  bool operator==(const TraceContext&) const = default;
};

/// Lowercase hex of `bytes`, for ids in logs and exports.
[[nodiscard]] std::string to_hex(const std::uint8_t* bytes, std::size_t size);

}  // namespace evolveai::obs
