#include "ai/sse_parser.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace evolveai::ai {
namespace {

std::vector<SseEvent> parse_whole(std::string_view text) {
  SseParser parser;
  std::vector<SseEvent> events;
  parser.feed(text, events);
  parser.finish(events);
  return events;
}

/// Feeds `text` cut at every possible single point and checks every cut gives `expected`.
void expect_same_for_every_cut(std::string_view text, const std::vector<std::string>& expected) {
  for (std::size_t cut = 0; cut <= text.size(); ++cut) {
    SseParser parser;
    std::vector<SseEvent> events;
    parser.feed(text.substr(0, cut), events);
    parser.feed(text.substr(cut), events);
    parser.finish(events);
    ASSERT_EQ(events.size(), expected.size()) << "cut at " << cut;
    for (std::size_t i = 0; i < expected.size(); ++i) {
      EXPECT_EQ(events[i].data, expected[i]) << "cut at " << cut;
    }
  }
}

TEST(SseParser, SplitsEventsOnBlankLinesWithAnyLineEnding) {
  expect_same_for_every_cut("data: one\r\n\r\ndata: two\n\ndata: three\r\rdata: four\r\n\r\n",
                            {"one", "two", "three", "four"});
}

TEST(SseParser, ByteAtATimeGivesTheSameEvents) {
  const std::string text = "event: delta\r\ndata: {\"a\":1}\r\n\r\n: keep-alive\r\n\r\ndata: x\r\n\r\n";
  SseParser parser;
  std::vector<SseEvent> events;
  for (const char c : text) {
    parser.feed(std::string_view(&c, 1), events);
  }
  parser.finish(events);
  ASSERT_EQ(events.size(), 2U);
  EXPECT_EQ(events[0].type, "delta");
  EXPECT_EQ(events[0].data, R"({"a":1})");
  EXPECT_EQ(events[1].type, "message");
  EXPECT_EQ(events[1].data, "x");
  EXPECT_EQ(parser.comments(), 1U);
}

TEST(SseParser, JoinsMultiLineDataWithNewlines) {
  const auto events = parse_whole("data: first\ndata:second\ndata:  third\n\n");
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].data, "first\nsecond\n third");
}

TEST(SseParser, CommentsAreCountedAndNeverEvents) {
  SseParser parser;
  std::vector<SseEvent> events;
  parser.feed(": OPENROUTER PROCESSING\n\n: OPENROUTER PROCESSING\n\ndata: [DONE]\n\n", events);
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].data, "[DONE]");
  EXPECT_EQ(parser.comments(), 2U);
}

TEST(SseParser, HonoursEventIdAndRetryFields) {
  SseParser parser;
  std::vector<SseEvent> events;
  parser.feed("id: 7\nevent: end\nretry: 2500\ndata: bye\n\nretry: soon\ndata: again\n\n", events);
  ASSERT_EQ(events.size(), 2U);
  EXPECT_EQ(events[0].type, "end");
  EXPECT_EQ(events[0].id, "7");
  EXPECT_EQ(events[1].type, "message");
  EXPECT_EQ(events[1].id, "7");
  ASSERT_TRUE(parser.retry());
  EXPECT_EQ(*parser.retry(), std::chrono::milliseconds(2500));
}

TEST(SseParser, BlankLinesWithoutDataDispatchNothingButEmptyDataDoes) {
  const auto events = parse_whole("\n\n\nevent: ping\n\ndata\n\ndata:\n\n");
  ASSERT_EQ(events.size(), 2U);
  EXPECT_EQ(events[0].data, "");
  EXPECT_EQ(events[0].type, "message");
  EXPECT_EQ(events[1].data, "");
}

TEST(SseParser, StripsALeadingByteOrderMarkEvenWhenSplit) {
  const std::string text =
      "\xEF\xBB\xBF"
      "data: x\n\n";
  expect_same_for_every_cut(text, {"x"});
}

TEST(SseParser, FinishDeliversAnEventWithoutItsBlankLineAndALastLineWithoutNewline) {
  EXPECT_EQ(parse_whole("data: a\n\ndata: b\n").size(), 2U);
  const auto events = parse_whole("data: a\n\ndata: tail");
  ASSERT_EQ(events.size(), 2U);
  EXPECT_EQ(events[1].data, "tail");
}

TEST(SseParser, KeepsLinesThatAreNotFieldsAsStrayText) {
  SseParser parser;
  std::vector<SseEvent> events;
  parser.feed("data: {\"x\":1}\n\n{\n  \"error\": {\n    \"code\": 499\n  }\n}\n", events);
  parser.finish(events);
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(parser.stray_text(), "{\n  \"error\": {\n    \"code\": 499\n  }\n}\n");
}

TEST(SseParser, RefusesLinesOverTheLimit) {
  SseParser parser(16);
  std::vector<SseEvent> events;
  EXPECT_THROW(parser.feed("data: 0123456789abcdef0123\n", events), std::length_error);
  SseParser unterminated(16);
  EXPECT_THROW(unterminated.feed("data: 0123456789abcdef0123", events), std::length_error);
  SseParser event_limit(16);
  EXPECT_THROW(event_limit.feed("data: 0123456789\ndata: 0123456789\n", events), std::length_error);
}

}  // namespace
}  // namespace evolveai::ai
