#include "obs/trace_context.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <stdexcept>

namespace evolveai::obs {
namespace {

constexpr std::size_t kVersion00Length = 55;
constexpr std::string_view kHexDigits = "0123456789abcdef";

/// The value of one lowercase hex digit, or -1.
int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  return -1;
}

/// Decodes exactly `out.size() * 2` lowercase hex digits; false on any other character.
template <std::size_t N>
bool decode_hex(std::string_view text, std::array<std::uint8_t, N>& out) noexcept {
  if (text.size() != N * 2) {
    return false;
  }
  for (std::size_t i = 0; i < N; ++i) {
    const int high = hex_value(text[2 * i]);
    const int low = hex_value(text[(2 * i) + 1]);
    if (high < 0 || low < 0) {
      return false;
    }
    out[i] = static_cast<std::uint8_t>((high << 4) | low);
  }
  return true;
}

template <std::size_t N>
bool all_zero(const std::array<std::uint8_t, N>& bytes) noexcept {
  return std::all_of(bytes.begin(), bytes.end(), [](std::uint8_t b) { return b == 0; });
}

// Ids must be unique, not secret: one SplitMix64 sequence per thread, seeded once from the OS
// generator, spares every span a locked DRBG call (and the fork check's getpid system call).
std::uint64_t next_random() {
  thread_local std::uint64_t state = [] {
    std::uint64_t seed = 0;
    if (RAND_bytes(reinterpret_cast<unsigned char*>(&seed), sizeof seed) != 1) {  // NOLINT(*-reinterpret-cast)
      throw std::runtime_error("the random number generator failed");
    }
    return seed;
  }();
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30U)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27U)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31U);
}

template <std::size_t N>
void fill_random(std::array<std::uint8_t, N>& out) {
  static_assert(N % sizeof(std::uint64_t) == 0);
  // A zero id is invalid by the specification: draw again (odds 2^-64 or less).
  do {
    for (std::size_t i = 0; i < N; i += sizeof(std::uint64_t)) {
      const std::uint64_t word = next_random();
      std::memcpy(out.data() + i, &word, sizeof word);
    }
  } while (all_zero(out));
}

void append_hex(std::string& out, const std::uint8_t* bytes, std::size_t size) {
  for (std::size_t i = 0; i < size; ++i) {
    out.push_back(kHexDigits[bytes[i] >> 4U]);
    out.push_back(kHexDigits[bytes[i] & 0x0fU]);
  }
}

}  // namespace

std::optional<TraceContext> TraceContext::parse(std::string_view text) noexcept {
  // version "-" trace-id "-" parent-id "-" trace-flags: 2 + 1 + 32 + 1 + 16 + 1 + 2.
  if (text.size() < kVersion00Length || text[2] != '-' || text[35] != '-' || text[52] != '-') {
    return std::nullopt;
  }
  std::array<std::uint8_t, 1> version{};
  if (!decode_hex(text.substr(0, 2), version) || version[0] == 0xff) {
    return std::nullopt;
  }
  // Version 00 is exactly 55 characters; a later version may append fields after a '-'.
  if (version[0] == 0 ? text.size() != kVersion00Length
                      : text.size() > kVersion00Length && text[kVersion00Length] != '-') {
    return std::nullopt;
  }
  TraceContext context;
  std::array<std::uint8_t, 1> flags{};
  if (!decode_hex(text.substr(3, 32), context.trace_id) || !decode_hex(text.substr(36, 16), context.span_id) ||
      !decode_hex(text.substr(53, 2), flags)) {
    return std::nullopt;
  }
  if (!context.valid()) {
    return std::nullopt;
  }
  context.sampled = (flags[0] & 0x01U) != 0;
  return context;
}

TraceContext TraceContext::new_root() {
  TraceContext context;
  fill_random(context.trace_id);
  fill_random(context.span_id);
  context.sampled = true;
  return context;
}

TraceContext TraceContext::child() const {
  TraceContext context = *this;
  fill_random(context.span_id);
  return context;
}

bool TraceContext::valid() const noexcept {
  return !all_zero(trace_id) && !all_zero(span_id);
}

std::string TraceContext::traceparent() const {
  std::string out;
  out.reserve(kVersion00Length);
  out += "00-";
  append_hex(out, trace_id.data(), trace_id.size());
  out.push_back('-');
  append_hex(out, span_id.data(), span_id.size());
  out += sampled ? "-01" : "-00";
  return out;
}

std::string TraceContext::trace_id_hex() const {
  return to_hex(trace_id.data(), trace_id.size());
}

std::string TraceContext::span_id_hex() const {
  return to_hex(span_id.data(), span_id.size());
}

std::string to_hex(const std::uint8_t* bytes, std::size_t size) {
  std::string out;
  out.reserve(size * 2);
  append_hex(out, bytes, size);
  return out;
}

}  // namespace evolveai::obs
