#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace evolveai::services::auth {

/// A SHA-256 digest or HMAC-SHA256 tag.
using Digest = std::array<unsigned char, 32>;

/// HMAC-SHA256 of `message` under `key` (OpenSSL).
[[nodiscard]] Digest hmac_sha256(std::span<const unsigned char> key, std::string_view message);
/// HMAC-SHA256 with a text key.
[[nodiscard]] Digest hmac_sha256(std::string_view key, std::string_view message);
/// SHA-256 of `data` (OpenSSL).
[[nodiscard]] Digest sha256(std::string_view data);

/// Compares two byte strings in time that depends only on their lengths, never on where they
/// differ; different lengths compare unequal.
[[nodiscard]] bool equal_constant_time(std::span<const unsigned char> a, std::span<const unsigned char> b);

/// Lower-case hexadecimal text of `bytes`.
[[nodiscard]] std::string to_hex(std::span<const unsigned char> bytes);
/// Bytes of hexadecimal text (either case); nullopt when the text is not whole hex pairs.
[[nodiscard]] std::optional<std::vector<unsigned char>> from_hex(std::string_view text);

/// URL-safe base64 without padding (RFC 4648 §5), as JWTs use.
[[nodiscard]] std::string encode_base64url(std::span<const unsigned char> bytes);
/// Decodes URL-safe base64; trailing '=' padding is tolerated, anything else that is not
/// canonical base64url (wrong alphabet, stray bits) gives nullopt.
[[nodiscard]] std::optional<std::vector<unsigned char>> decode_base64url(std::string_view text);

/// Views the characters of a string as bytes.
[[nodiscard]] inline std::span<const unsigned char> as_bytes(std::string_view text) noexcept {
  // Reading char storage as unsigned char is allowed aliasing.
  return {reinterpret_cast<const unsigned char*>(text.data()), text.size()};
}

}  // namespace evolveai::services::auth
