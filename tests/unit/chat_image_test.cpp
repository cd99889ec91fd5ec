#include <gtest/gtest.h>

#include <string>

#include "core/errors.hpp"
#include "services/chat_image.hpp"

namespace evolveai::services {
namespace {

using namespace std::string_literals;

constexpr std::size_t kMax = std::size_t{10} * 1024 * 1024;

/// A 1x1 PNG as produced by common encoders.
std::string png() {
  return "\x89PNG\r\n\x1a\n"s
         "\x00\x00\x00\x0dIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"s
         "\x00\x00\x00\x0bIDATx\x9c\x63`\x00\x02\x00\x00\x05\x00\x01z^\xab?"s
         "\x00\x00\x00\x00IEND\xae\x42`\x82"s;
}

/// A 1x1 GIF89a with a global colour table, a graphic control extension and one image.
std::string gif() {
  return "GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff"s
         "\x21\xf9\x04\x01\x00\x00\x00\x00"s
         "\x2c\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x01\x44\x00\x3b"s;
}

/// SOI, APP0, a start of scan with entropy data (a stuffed 0xFF and a restart marker), EOI.
std::string jpeg() {
  return "\xff\xd8"s
         "\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"s
         "\xff\xdb\x00\x04\x00\x01"s
         "\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00"s
         "\x12\x34\xff\x00\x56\xff\xd0\x78"s
         "\xff\xd9"s;
}

std::string le32(std::uint32_t v) {
  return std::string{static_cast<char>(v & 0xFFU), static_cast<char>((v >> 8U) & 0xFFU),
                     static_cast<char>((v >> 16U) & 0xFFU), static_cast<char>((v >> 24U) & 0xFFU)};
}

/// A RIFF/WEBP container with one odd-sized VP8L chunk (so it carries a pad byte).
std::string webp() {
  const std::string data = "\x2f\x00\x00\x00\x00"s;
  const std::string chunk = "VP8L" + le32(static_cast<std::uint32_t>(data.size())) + data + "\x00"s;
  return "RIFF" + le32(static_cast<std::uint32_t>(4 + chunk.size())) + "WEBP" + chunk;
}

std::string base64(const std::string& bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const auto n = (std::uint32_t{static_cast<unsigned char>(bytes[i])} << 16U) |
                   (std::uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8U) |
                   static_cast<unsigned char>(bytes[i + 2]);
    for (int shift = 18; shift >= 0; shift -= 6) {
      out.push_back(kAlphabet[(n >> static_cast<unsigned>(shift)) & 0x3FU]);
    }
  }
  if (i + 1 == bytes.size()) {
    const auto n = std::uint32_t{static_cast<unsigned char>(bytes[i])} << 16U;
    out += {kAlphabet[(n >> 18U) & 0x3FU], kAlphabet[(n >> 12U) & 0x3FU], '=', '='};
  } else if (i + 2 == bytes.size()) {
    const auto n = (std::uint32_t{static_cast<unsigned char>(bytes[i])} << 16U) |
                   (std::uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8U);
    out += {kAlphabet[(n >> 18U) & 0x3FU], kAlphabet[(n >> 12U) & 0x3FU], kAlphabet[(n >> 6U) & 0x3FU], '='};
  }
  return out;
}

/// The error `check` throws (or a failed test when it throws none).
template <typename F>
core::Error error_of(F&& check) {
  try {
    check();
  } catch (const core::Error& error) {
    return error;
  }
  ADD_FAILURE() << "no error was thrown";
  return core::bad_request("none");
}

TEST(ChatImage, WellFormedImagesOfEachTypePass) {
  const std::vector<std::pair<std::string, std::string>> images = {
      {"image/png", png()}, {"image/gif", gif()}, {"image/jpeg", jpeg()}, {"image/webp", webp()}};
  for (const auto& [mime, bytes] : images) {
    const auto checked = check_image(bytes, mime, kMax);
    EXPECT_EQ(checked.mime_type, mime);
    EXPECT_EQ(checked.bytes, bytes);
  }
}

TEST(ChatImage, DeclaredTypeIsCaseInsensitiveAndMayCarryParameters) {
  EXPECT_EQ(check_image(png(), "IMAGE/PNG; charset=binary", kMax).type, ImageType::kPng);
  EXPECT_EQ(check_image(jpeg(), "image/jpg", kMax).type, ImageType::kJpeg);
}

TEST(ChatImage, TypeComesFromMagicBytesNotTheClientsWord) {
  const auto error = error_of([] { (void)check_image(png(), "image/jpeg", kMax); });
  EXPECT_EQ(error.code(), "unsupported_media_type");
  EXPECT_NE(error.client_message().find("image/png"), std::string::npos);
}

TEST(ChatImage, UnsupportedDeclaredTypeOrContentIs415) {
  EXPECT_EQ(error_of([] { (void)check_image(png(), "image/svg+xml", kMax); }).code(), "unsupported_media_type");
  EXPECT_EQ(error_of([] { (void)check_image("<svg onload=alert(1)>", "image/png", kMax); }).code(),
            "unsupported_media_type");
  EXPECT_EQ(error_of([] { (void)check_image("BM\x36\x00\x00\x00"s, "image/png", kMax); }).code(),
            "unsupported_media_type");
}

TEST(ChatImage, EmptyImageIsAValidationError) {
  const auto error = error_of([] { (void)check_image("", "image/png", kMax); });
  EXPECT_EQ(error.code(), "validation_failed");
  EXPECT_EQ(error.field(), "image.data");
}

TEST(ChatImage, OversizedImageIs413) {
  EXPECT_EQ(error_of([] { (void)check_image(png(), "image/png", png().size() - 1); }).code(), "payload_too_large");
}

TEST(ChatImage, PolyglotsWithAppendedContentAreRejected) {
  const std::string zip_tail = "PK\x03\x04 appended archive"s;
  const std::string html_tail = "<script>alert(1)</script>";
  for (const auto& image : std::vector<std::pair<std::string, std::string>>{
           {"image/png", png() + zip_tail}, {"image/gif", gif() + html_tail}, {"image/jpeg", jpeg() + html_tail}}) {
    const auto error = error_of([&] { (void)check_image(image.second, image.first, kMax); });
    EXPECT_EQ(error.code(), "validation_failed") << image.first;
  }
  // A WebP whose RIFF size does not cover exactly the file.
  EXPECT_EQ(error_of([] { (void)check_image(webp() + "XXXX", "image/webp", kMax); }).code(), "validation_failed");
}

TEST(ChatImage, GifJavaScriptPolyglotIsRejected) {
  // The classic GIF89a header that is also a JavaScript program.
  const std::string polyglot = "GIF89a/*\x01\x00\x00\x00\x00\x00\x00*/=alert(document.domain);"s;
  EXPECT_EQ(error_of([&] { (void)check_image(polyglot, "image/gif", kMax); }).code(), "validation_failed");
}

TEST(ChatImage, TruncatedImagesAreRejected) {
  for (const auto& [mime, bytes] : std::vector<std::pair<std::string, std::string>>{
           {"image/png", png()}, {"image/gif", gif()}, {"image/jpeg", jpeg()}, {"image/webp", webp()}}) {
    for (std::size_t cut = 1; cut < 8; ++cut) {
      const auto shorter = bytes.substr(0, bytes.size() - cut);
      EXPECT_FALSE(is_well_formed_image(*image_type_from_mime(mime), shorter)) << mime << " cut " << cut;
    }
  }
}

TEST(ChatImage, Base64DecodesStandardPaddedText) {
  for (const auto& bytes : {png(), gif(), jpeg(), webp(), "a"s, "ab"s, "abc"s}) {
    EXPECT_EQ(decode_image_base64(base64(bytes), kMax), bytes);
  }
}

TEST(ChatImage, Base64LengthIsCheckedBeforeTheAlphabet) {
  // Four million characters decode to three million bytes: refused by length alone.
  const std::string huge(4'000'000, '!');
  EXPECT_EQ(error_of([&] { (void)decode_image_base64(huge, 1'000'000); }).code(), "payload_too_large");
}

TEST(ChatImage, BadBase64IsAValidationErrorNamingTheField) {
  for (const std::string bad :
       {"", "abc", "ab!d", "ab=d", "a===", "data:image/png;base64,AAAA", "QUJD\nRA==", "QR=="}) {
    const auto error = error_of([&] { (void)decode_image_base64(bad, kMax); });
    EXPECT_EQ(error.code(), "validation_failed") << bad;
    EXPECT_EQ(error.field(), "image.data") << bad;
  }
}

}  // namespace
}  // namespace evolveai::services
