#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace evolveai::services {

/// The image types chat accepts.
enum class ImageType { kJpeg, kPng, kWebp, kGif };

/// "image/jpeg", "image/png", "image/webp" or "image/gif".
[[nodiscard]] std::string_view image_mime_type(ImageType type) noexcept;

/// The type a MIME type names (case-insensitive, parameters ignored); nullopt for any other type.
[[nodiscard]] std::optional<ImageType> image_type_from_mime(std::string_view mime_type);

/// The type the leading magic bytes announce; nullopt when they are none of the four.
[[nodiscard]] std::optional<ImageType> sniff_image_type(std::string_view bytes) noexcept;

/// True when `bytes` walk as one well-formed image of `type` that ends exactly where the format
/// says it ends: a truncated file, or one with anything appended (a polyglot), is not.
[[nodiscard]] bool is_well_formed_image(ImageType type, std::string_view bytes) noexcept;

/// Decodes standard padded base64, checking its length and then its alphabet before any decoding
/// work: 413 `payload_too_large` when it would decode to more than `max_bytes`, 400
/// `validation_failed` naming `field` when it is empty, not a multiple of 4 or not base64.
[[nodiscard]] std::string decode_image_base64(std::string_view base64, std::size_t max_bytes,
                                              std::string_view field = "image.data");

/// An image that passed check_image.
struct CheckedImage {
  ImageType type = ImageType::kJpeg;
  std::string mime_type;  ///< the detected type's MIME name
  std::string bytes;
};

/// Checks an attached image, trusting its bytes and not the declared type: 400 `validation_failed`
/// for no bytes or a malformed file (truncated, or with anything appended); 413
/// `payload_too_large` past `max_bytes`; 415 `unsupported_media_type` when the declared type or
/// the content is not JPEG, PNG, WebP or GIF, or the bytes contradict the declared type.
[[nodiscard]] CheckedImage check_image(std::string bytes, std::string_view declared_mime, std::size_t max_bytes);

}  // namespace evolveai::services
