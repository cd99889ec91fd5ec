#include <gtest/gtest.h>

#include "net/redis_protocol.hpp"

namespace evolveai::net {
namespace {

// Found by the resp fuzz target: an array header alone made hiredis allocate the whole array
// (`*1111111111` asked for 8.9 GB) before a single element arrived.
TEST(RespParser, RefusesAnArrayHeaderPastTheBound) {
  RespParser parser;
  parser.feed("*1111111111\r\n");
  try {
    (void)parser.next();
    FAIL() << "an array of 1111111111 elements was accepted";
  } catch (const RedisError& error) {
    EXPECT_EQ(error.kind(), RedisErrorKind::kProtocol);
  }
}

TEST(RespParser, StillReadsArraysWithinTheBound) {
  RespParser parser;
  parser.feed("*3\r\n:1\r\n*1\r\n+OK\r\n$-1\r\n");
  const auto reply = parser.next();
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->elements.size(), 3U);
  EXPECT_EQ(reply->elements[0].integer, 1);
  EXPECT_EQ(reply->elements[1].elements.at(0).text, "OK");
  EXPECT_TRUE(reply->elements[2].is_nil());
}

}  // namespace
}  // namespace evolveai::net
