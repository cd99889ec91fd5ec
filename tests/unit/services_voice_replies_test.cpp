#include "services/voice_replies.hpp"

#include <gtest/gtest.h>

#include "core/utf8.hpp"

namespace evolveai::services {
namespace {

TEST(SpeakableExcerpt, ShortReplyIsSpokenWholeWithoutMarkdownMarks) {
  EXPECT_EQ(speakable_excerpt("It is **really** `fine`.", 100), "It is really fine.");
  EXPECT_EQ(speakable_excerpt("## Plan\nStep __one__", 100), "Plan\nStep one");
  EXPECT_EQ(speakable_excerpt("snake_case stays", 100), "snake_case stays");
}

TEST(SpeakableExcerpt, LongReplyIsCutAfterTheLastSentenceThatFits) {
  const std::string reply = "First sentence here. Second one is longer! Third never fits in the limit.";
  EXPECT_EQ(speakable_excerpt(reply, 50), "First sentence here. Second one is longer!");
}

TEST(SpeakableExcerpt, WithoutASentenceEndItCutsAtAWordBoundary) {
  EXPECT_EQ(speakable_excerpt("one two three four five six", 15), "one two three");
  EXPECT_EQ(speakable_excerpt("abcdefghij", 4), "abcd");
}

TEST(SpeakableExcerpt, CountsCharactersNotBytesAndNeverSplitsACodePoint) {
  const std::string reply = "Привет, мир. Как дела у тебя сегодня вечером?";
  const auto excerpt = speakable_excerpt(reply, 20);
  EXPECT_EQ(excerpt, "Привет, мир.");
  EXPECT_TRUE(core::is_valid_utf8(speakable_excerpt("ёжик ёжик ёжик", 7)));
  EXPECT_LE(core::utf8_length(speakable_excerpt("ёжик ёжик ёжик", 7)), 7U);
}

}  // namespace
}  // namespace evolveai::services
