#include "core/utf8.hpp"

#include <gtest/gtest.h>

namespace evolveai::core {
namespace {

TEST(Utf8, ValidatesEncoding) {
  EXPECT_TRUE(is_valid_utf8("hello"));
  EXPECT_TRUE(is_valid_utf8("Привет 👋"));
  EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(is_valid_utf8("abc\xe2\x82"));       // truncated
  EXPECT_FALSE(is_valid_utf8("\x80"));
  EXPECT_EQ(utf8_length("Привет 👋"), 8U);
}

TEST(Utf8, PrefixCountsCodePointsAndNeverCutsASequence) {
  EXPECT_EQ(utf8_prefix("Привет 👋", 3), "При");
  EXPECT_EQ(utf8_prefix("a👋b", 2), "a👋");
  EXPECT_EQ(utf8_prefix("a👋b", 1), "a");
  EXPECT_EQ(utf8_prefix("short", 10), "short");
  EXPECT_EQ(utf8_prefix("abc", 0), "");
  EXPECT_EQ(utf8_prefix("", 5), "");
}

}  // namespace
}  // namespace evolveai::core
