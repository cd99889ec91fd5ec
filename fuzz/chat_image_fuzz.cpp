// Fuzzes what a chat turn does with an attached image: the input is read both as the base64 text
// of `image.data` and as the decoded file. Checks that base64 decoding is strict and canonical
// (it decodes exactly what we encode, and only that), that the format walkers never read out of
// bounds, and that check_image accepts only bytes whose sniffed type and structure agree.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/base64.hpp"
#include "core/errors.hpp"
#include "services/chat_image.hpp"

namespace {

namespace services = evolveai::services;

constexpr std::size_t kMaxBytes = std::size_t{1} << 20;
constexpr std::array kTypes = {services::ImageType::kJpeg, services::ImageType::kPng, services::ImageType::kWebp,
                               services::ImageType::kGif};

void check_file(std::string_view bytes) {
  const auto sniffed = services::sniff_image_type(bytes);
  for (const auto type : kTypes) {
    const bool well_formed = services::is_well_formed_image(type, bytes);
    try {
      const auto checked = services::check_image(std::string(bytes), services::image_mime_type(type), kMaxBytes);
      if (!sniffed || checked.type != type || *sniffed != type || !well_formed || checked.bytes != bytes ||
          checked.mime_type != services::image_mime_type(type)) {
        std::abort();
      }
    } catch (const evolveai::core::Error&) {
      // Refused: empty, too large, another type, or malformed.
    }
  }
}

void check_base64(std::string_view text) {
  std::string decoded;
  try {
    decoded = services::decode_image_base64(text, kMaxBytes);
  } catch (const evolveai::core::Error&) {
    return;
  }
  // Canonical: the only text that decodes to these bytes is their own encoding.
  if (decoded.empty() || evolveai::core::base64_encode(decoded) != text) {
    std::abort();
  }
  check_file(decoded);
}

void check_round_trip(std::string_view bytes) {
  if (bytes.empty()) {
    return;
  }
  const auto encoded = evolveai::core::base64_encode(bytes);
  if (services::decode_image_base64(encoded, bytes.size()) != bytes) {
    std::abort();
  }
}

}  // namespace

// NOLINTNEXTLINE(readability-identifier-naming): the entry point libFuzzer calls
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Reading the fuzzer's bytes as characters is allowed aliasing.
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  check_base64(bytes);
  check_file(bytes);
  check_round_trip(bytes);
  // The declared type is client text too.
  if (const auto type = services::image_type_from_mime(bytes)) {
    if (services::image_type_from_mime(services::image_mime_type(*type)) != type) {
      std::abort();
    }
  }
  return 0;
}
