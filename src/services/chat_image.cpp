#include "services/chat_image.hpp"

#include <fmt/format.h>

#include <array>
#include <cctype>
#include <cstdint>

#include "core/errors.hpp"

namespace evolveai::services {
namespace {

constexpr std::string_view kPngSignature{"\x89PNG\r\n\x1a\n", 8};

/// Walks a byte string without ever reading past its end.
class Bytes {
 public:
  explicit Bytes(std::string_view data) : data_(data) {}
  [[nodiscard]] std::size_t size() const { return data_.size(); }
  [[nodiscard]] std::uint8_t at(std::size_t pos) const { return static_cast<std::uint8_t>(data_[pos]); }
  [[nodiscard]] std::uint32_t be32(std::size_t pos) const {
    return (std::uint32_t{at(pos)} << 24U) | (std::uint32_t{at(pos + 1)} << 16U) | (std::uint32_t{at(pos + 2)} << 8U) |
           std::uint32_t{at(pos + 3)};
  }
  [[nodiscard]] std::uint32_t le32(std::size_t pos) const {
    return std::uint32_t{at(pos)} | (std::uint32_t{at(pos + 1)} << 8U) | (std::uint32_t{at(pos + 2)} << 16U) |
           (std::uint32_t{at(pos + 3)} << 24U);
  }
  [[nodiscard]] std::string_view slice(std::size_t pos, std::size_t count) const { return data_.substr(pos, count); }

 private:
  std::string_view data_;
};

bool is_restart_marker(std::uint8_t marker) {
  return marker >= 0xD0 && marker <= 0xD7;
}

/// Skips the entropy-coded data after a start-of-scan header; `pos` ends on the 0xFF of the next marker.
bool skip_scan_data(const Bytes& b, std::size_t& pos) {
  while (pos + 1 < b.size()) {
    if (b.at(pos) != 0xFF) {
      ++pos;
      continue;
    }
    const std::uint8_t next = b.at(pos + 1);
    if (next == 0x00 || is_restart_marker(next)) {
      pos += 2;  // a stuffed 0xFF byte or a restart marker: still scan data
    } else if (next == 0xFF) {
      ++pos;  // fill byte before a marker
    } else {
      return true;
    }
  }
  return false;
}

/// SOI, then marker segments (scan data skipped) up to EOI as the very last bytes.
bool jpeg_well_formed(const Bytes& b) {
  if (b.size() < 4 || b.at(0) != 0xFF || b.at(1) != 0xD8) {
    return false;
  }
  std::size_t pos = 2;
  while (pos < b.size()) {
    if (b.at(pos) != 0xFF) {
      return false;
    }
    while (pos < b.size() && b.at(pos) == 0xFF) {
      ++pos;
    }
    if (pos >= b.size()) {
      return false;
    }
    const std::uint8_t marker = b.at(pos++);
    if (marker == 0xD9) {
      return pos == b.size();
    }
    if (marker == 0x01 || is_restart_marker(marker)) {
      continue;  // markers without a length
    }
    if (marker == 0x00 || marker == 0xD8 || pos + 2 > b.size()) {
      return false;
    }
    const std::size_t length = (std::size_t{b.at(pos)} << 8U) | b.at(pos + 1);
    if (length < 2 || length > b.size() - pos) {
      return false;
    }
    pos += length;
    if (marker == 0xDA && !skip_scan_data(b, pos)) {
      return false;
    }
  }
  return false;
}

bool is_chunk_letter(std::uint8_t c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/// The signature, IHDR first, chunks back to back, IEND as the very last chunk.
bool png_well_formed(const Bytes& b) {
  if (b.slice(0, kPngSignature.size()) != kPngSignature) {
    return false;
  }
  std::size_t pos = kPngSignature.size();
  bool first = true;
  while (pos + 12 <= b.size()) {
    const std::size_t length = b.be32(pos);
    const std::string_view type = b.slice(pos + 4, 4);
    for (std::size_t i = 0; i < 4; ++i) {
      if (!is_chunk_letter(b.at(pos + 4 + i))) {
        return false;
      }
    }
    if (length > 0x7FFFFFFFU || length > b.size() - pos - 12) {
      return false;
    }
    if (first && (type != "IHDR" || length != 13)) {
      return false;
    }
    first = false;
    pos += 12 + length;
    if (type == "IEND") {
      return length == 0 && pos == b.size();
    }
  }
  return false;
}

/// A colour table's size from the packed flags of a screen or image descriptor.
std::size_t colour_table_bytes(std::uint8_t flags) {
  return (flags & 0x80U) != 0 ? 3 * (std::size_t{1} << ((flags & 0x07U) + 1)) : 0;
}

bool skip_sub_blocks(const Bytes& b, std::size_t& pos) {
  while (pos < b.size()) {
    const std::size_t size = b.at(pos++);
    if (size == 0) {
      return true;
    }
    if (size > b.size() - pos) {
      return false;
    }
    pos += size;
  }
  return false;
}

/// Header, logical screen, then extensions and images up to the trailer as the very last byte.
bool gif_well_formed(const Bytes& b) {
  if (b.size() < 14 || (b.slice(0, 6) != "GIF87a" && b.slice(0, 6) != "GIF89a")) {
    return false;
  }
  std::size_t pos = 13 + colour_table_bytes(b.at(10));
  bool has_image = false;
  while (pos < b.size()) {
    const std::uint8_t block = b.at(pos++);
    if (block == 0x3B) {
      return has_image && pos == b.size();
    }
    if (block == 0x21) {
      if (pos >= b.size()) {
        return false;
      }
      ++pos;  // the extension's label
    } else if (block == 0x2C) {
      if (b.size() - pos < 10) {
        return false;
      }
      const std::size_t after_descriptor = pos + 9 + colour_table_bytes(b.at(pos + 8));
      if (after_descriptor >= b.size()) {
        return false;
      }
      pos = after_descriptor + 1;  // the LZW minimum code size
      has_image = true;
    } else {
      return false;
    }
    if (!skip_sub_blocks(b, pos)) {
      return false;
    }
  }
  return false;
}

/// A RIFF container whose size covers exactly the file, holding WEBP chunks back to back.
bool webp_well_formed(const Bytes& b) {
  if (b.size() < 20 || b.slice(0, 4) != "RIFF" || b.slice(8, 4) != "WEBP") {
    return false;
  }
  if (std::size_t{b.le32(4)} + 8 != b.size()) {
    return false;
  }
  std::size_t pos = 12;
  bool first = true;
  while (pos < b.size()) {
    if (b.size() - pos < 8) {
      return false;
    }
    const std::string_view fourcc = b.slice(pos, 4);
    if (first && fourcc != "VP8 " && fourcc != "VP8L" && fourcc != "VP8X") {
      return false;
    }
    first = false;
    const std::size_t size = b.le32(pos + 4);
    pos += 8;
    const std::size_t padded = size + (size & 1U);
    if (padded > b.size() - pos) {
      return false;
    }
    pos += padded;
  }
  return !first && pos == b.size();
}

constexpr std::array<std::int8_t, 256> make_base64_table() {
  std::array<std::int8_t, 256> table{};
  for (auto& value : table) {
    value = -1;
  }
  constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (std::size_t i = 0; i < kAlphabet.size(); ++i) {
    table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<std::int8_t>(i);
  }
  return table;
}

constexpr auto kBase64Table = make_base64_table();

std::string lower_media_type(std::string_view mime_type) {
  const auto semicolon = mime_type.find(';');
  std::string_view media = mime_type.substr(0, semicolon);
  while (!media.empty() && media.back() == ' ') {
    media.remove_suffix(1);
  }
  while (!media.empty() && media.front() == ' ') {
    media.remove_prefix(1);
  }
  std::string out(media);
  for (auto& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

}  // namespace

std::string_view image_mime_type(ImageType type) noexcept {
  switch (type) {
    case ImageType::kJpeg: return "image/jpeg";
    case ImageType::kPng: return "image/png";
    case ImageType::kWebp: return "image/webp";
    case ImageType::kGif: return "image/gif";
  }
  return "application/octet-stream";
}

std::optional<ImageType> image_type_from_mime(std::string_view mime_type) {
  const auto media = lower_media_type(mime_type);
  if (media == "image/jpeg" || media == "image/jpg") {
    return ImageType::kJpeg;
  }
  if (media == "image/png") {
    return ImageType::kPng;
  }
  if (media == "image/webp") {
    return ImageType::kWebp;
  }
  if (media == "image/gif") {
    return ImageType::kGif;
  }
  return std::nullopt;
}

std::optional<ImageType> sniff_image_type(std::string_view bytes) noexcept {
  if (bytes.size() >= 3 && bytes.substr(0, 3) == std::string_view("\xFF\xD8\xFF", 3)) {
    return ImageType::kJpeg;
  }
  if (bytes.substr(0, kPngSignature.size()) == kPngSignature) {
    return ImageType::kPng;
  }
  if (bytes.substr(0, 6) == "GIF87a" || bytes.substr(0, 6) == "GIF89a") {
    return ImageType::kGif;
  }
  if (bytes.size() >= 12 && bytes.substr(0, 4) == "RIFF" && bytes.substr(8, 4) == "WEBP") {
    return ImageType::kWebp;
  }
  return std::nullopt;
}

bool is_well_formed_image(ImageType type, std::string_view bytes) noexcept {
  const Bytes b(bytes);
  switch (type) {
    case ImageType::kJpeg: return jpeg_well_formed(b);
    case ImageType::kPng: return png_well_formed(b);
    case ImageType::kWebp: return webp_well_formed(b);
    case ImageType::kGif: return gif_well_formed(b);
  }
  return false;
}

std::string decode_image_base64(std::string_view base64, std::size_t max_bytes, std::string_view field) {
  if (base64.empty()) {
    throw core::validation_failed(std::string(field), "The image is empty");
  }
  if (base64.size() % 4 != 0) {
    throw core::validation_failed(std::string(field), "The image is not valid base64 (length)");
  }
  std::size_t padding = 0;
  if (base64.back() == '=') {
    padding = base64[base64.size() - 2] == '=' ? 2 : 1;
  }
  const std::size_t decoded_size = base64.size() / 4 * 3 - padding;
  if (decoded_size > max_bytes) {
    throw core::payload_too_large(fmt::format("The image is larger than {} bytes", max_bytes));
  }
  const std::string_view body = base64.substr(0, base64.size() - padding);
  for (const char c : body) {
    if (kBase64Table[static_cast<unsigned char>(c)] < 0) {
      throw core::validation_failed(std::string(field), "The image is not valid base64");
    }
  }
  std::string out;
  out.reserve(decoded_size);
  std::uint32_t accumulator = 0;
  unsigned bits = 0;
  for (const char c : body) {
    accumulator = (accumulator << 6U) | static_cast<std::uint32_t>(kBase64Table[static_cast<unsigned char>(c)]);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((accumulator >> bits) & 0xFFU));
    }
  }
  // The bits left over by the padding must be zero, or two encodings would decode alike.
  if ((accumulator & ((1U << bits) - 1U)) != 0) {
    throw core::validation_failed(std::string(field), "The image is not valid base64 (padding)");
  }
  return out;
}

CheckedImage check_image(std::string bytes, std::string_view declared_mime, std::size_t max_bytes) {
  const auto declared = image_type_from_mime(declared_mime);
  if (!declared) {
    throw core::unsupported_media_type("Images must be JPEG, PNG, WebP or GIF");
  }
  if (bytes.empty()) {
    throw core::validation_failed("image.data", "The image is empty");
  }
  if (bytes.size() > max_bytes) {
    throw core::payload_too_large(fmt::format("The image is larger than {} bytes", max_bytes));
  }
  const auto detected = sniff_image_type(bytes);
  if (!detected) {
    throw core::unsupported_media_type("The image is not JPEG, PNG, WebP or GIF");
  }
  if (*detected != *declared) {
    throw core::unsupported_media_type(
        fmt::format("The image is {}, not {} as declared", image_mime_type(*detected), image_mime_type(*declared)));
  }
  if (!is_well_formed_image(*detected, bytes)) {
    throw core::validation_failed("image.data",
                                  fmt::format("The image is not a well-formed {} file", image_mime_type(*detected)));
  }
  return CheckedImage{*detected, std::string(image_mime_type(*detected)), std::move(bytes)};
}

}  // namespace evolveai::services
