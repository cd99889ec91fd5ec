#include "net/redis_protocol.hpp"

#include <gtest/gtest.h>

#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>

#include <string>
#include <vector>

#include "net/redis_connection.hpp"

namespace evolveai::net {
namespace {

using Type = RedisReply::Type;

RedisReply str(std::string text) {
  return RedisReply{Type::kString, std::move(text), 0, {}};
}
RedisReply status(std::string text) {
  return RedisReply{Type::kStatus, std::move(text), 0, {}};
}
RedisReply error(std::string text) {
  return RedisReply{Type::kError, std::move(text), 0, {}};
}
RedisReply integer(std::int64_t value) {
  return RedisReply{Type::kInteger, {}, value, {}};
}
RedisReply nil() {
  return RedisReply{};
}
RedisReply array(std::vector<RedisReply> elements) {
  return RedisReply{Type::kArray, {}, 0, std::move(elements)};
}

/// Every reply in `wire`, fed in one piece.
std::vector<RedisReply> parse_all(std::string_view wire) {
  RespParser parser;
  parser.feed(wire);
  std::vector<RedisReply> replies;
  while (auto reply = parser.next())
    replies.push_back(std::move(*reply));
  return replies;
}

TEST(RespEncoding, EncodesAnArrayOfBulkStrings) {
  EXPECT_EQ(encode_command(RedisCommand{"SET", "key", "value"}), "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n");
  EXPECT_EQ(encode_command(RedisCommand{"ECHO", ""}), "*2\r\n$4\r\nECHO\r\n$0\r\n\r\n");
}

TEST(RespEncoding, IsBinarySafe) {
  const std::string binary("a\r\n\0b\xff", 6);
  EXPECT_EQ(encode_command(RedisCommand{"SET", binary}), "*2\r\n$3\r\nSET\r\n$6\r\n" + binary + "\r\n");
}

TEST(RespEncoding, AppendsSeveralCommandsForAPipeline) {
  std::string out;
  append_command(out, RedisCommand{"PING"});
  append_command(out, RedisCommand{"GET", "k"});
  EXPECT_EQ(out, "*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
}

TEST(RespParsing, ParsesEveryReplyType) {
  const auto replies = parse_all(
      "+OK\r\n"
      "-ERR unknown command 'FOO'\r\n"
      ":42\r\n"
      ":-7\r\n"
      "$5\r\nhello\r\n"
      "$0\r\n\r\n"
      "$-1\r\n"
      "*-1\r\n"
      "*0\r\n");
  const std::vector<RedisReply> expected = {
      status("OK"), error("ERR unknown command 'FOO'"), integer(42), integer(-7), str("hello"), str(""), nil(), nil(),
      array({})};
  EXPECT_EQ(replies, expected);
}

TEST(RespParsing, ParsesNestedArraysWithMixedElements) {
  const auto replies = parse_all("*3\r\n:1\r\n*2\r\n$1\r\na\r\n*1\r\n$-1\r\n-WRONGTYPE no\r\n");
  ASSERT_EQ(replies.size(), 1U);
  EXPECT_EQ(replies[0], array({integer(1), array({str("a"), array({nil()})}), error("WRONGTYPE no")}));
}

TEST(RespParsing, BulkStringsAreBinarySafe) {
  const std::string payload("\0\r\n$3\r\n\xfe", 8);
  const auto replies = parse_all("$8\r\n" + payload + "\r\n");
  ASSERT_EQ(replies.size(), 1U);
  EXPECT_EQ(replies[0].text, payload);
  EXPECT_EQ(replies[0].text.size(), 8U);
}

TEST(RespParsing, RepliesSplitAtAnyByteComeOutWhole) {
  const std::string wire = "*2\r\n$5\r\nhel\r\n\r\n:12345\r\n+PONG\r\n$-1\r\n";
  const std::vector<RedisReply> expected = {array({str("hel\r\n"), integer(12345)}), status("PONG"), nil()};
  for (std::size_t cut1 = 0; cut1 <= wire.size(); ++cut1) {
    for (std::size_t cut2 = cut1; cut2 <= wire.size(); cut2 += 3) {
      RespParser parser;
      std::vector<RedisReply> replies;
      for (const auto piece : {std::string_view(wire).substr(0, cut1), std::string_view(wire).substr(cut1, cut2 - cut1),
                               std::string_view(wire).substr(cut2)}) {
        parser.feed(piece);
        while (auto reply = parser.next())
          replies.push_back(std::move(*reply));
      }
      ASSERT_EQ(replies, expected) << "cut at " << cut1 << " and " << cut2;
    }
  }
}

TEST(RespParsing, ByteByByteFeedingWorks) {
  const std::string wire = "*3\r\n$3\r\nfoo\r\n:-1\r\n*1\r\n+x\r\n";
  RespParser parser;
  std::vector<RedisReply> replies;
  for (const char c : wire) {
    parser.feed(std::string_view(&c, 1));
    while (auto reply = parser.next())
      replies.push_back(std::move(*reply));
  }
  ASSERT_EQ(replies.size(), 1U);
  EXPECT_EQ(replies[0], array({str("foo"), integer(-1), array({status("x")})}));
}

TEST(RespParsing, AnIncompleteReplyWaitsForMoreBytes) {
  RespParser parser;
  parser.feed("$10\r\n01234");
  EXPECT_EQ(parser.next(), std::nullopt);
  parser.feed("56789\r\n");
  EXPECT_EQ(parser.next(), str("0123456789"));
  EXPECT_EQ(parser.next(), std::nullopt);
}

TEST(RespParsing, MalformedInputIsAProtocolError) {
  RespParser parser;
  parser.feed("?what\r\n");
  try {
    (void)parser.next();
    FAIL() << "expected a protocol error";
  } catch (const RedisError& e) {
    EXPECT_EQ(e.kind(), RedisErrorKind::kProtocol);
  }
}

TEST(RedisReplyAccess, TypedAccessorsAndErrors) {
  EXPECT_EQ(str("v").as_optional_string(), "v");
  EXPECT_EQ(status("OK").as_optional_string(), "OK");
  EXPECT_EQ(nil().as_optional_string(), std::nullopt);
  EXPECT_EQ(integer(5).as_integer(), 5);
  EXPECT_THROW((void)integer(5).as_optional_string(), RedisError);
  EXPECT_THROW((void)str("5").as_integer(), RedisError);
  try {
    error("NOSCRIPT No matching script").throw_if_error();
    FAIL();
  } catch (const RedisError& e) {
    EXPECT_EQ(e.kind(), RedisErrorKind::kServer);
    EXPECT_EQ(e.server_code(), "NOSCRIPT");
  }
  EXPECT_NO_THROW(status("OK").throw_if_error());
}

TEST(RedisErrors, OnlyTransportTroubleMeansUnavailable) {
  EXPECT_TRUE(is_redis_unavailable(RedisError(RedisErrorKind::kConnect, "refused")));
  EXPECT_TRUE(is_redis_unavailable(RedisError(RedisErrorKind::kConnectionLost, "eof")));
  EXPECT_TRUE(is_redis_unavailable(RedisError(RedisErrorKind::kTimeout, "slow")));
  EXPECT_TRUE(is_redis_unavailable(RedisError::server("LOADING Redis is loading the dataset in memory")));
  EXPECT_TRUE(is_redis_unavailable(RedisError::server("READONLY You can't write against a read only replica.")));
  EXPECT_FALSE(is_redis_unavailable(RedisError::server("WRONGTYPE Operation against a key")));
  EXPECT_FALSE(is_redis_unavailable(RedisError::server("NOSCRIPT No matching script")));
  EXPECT_FALSE(is_redis_unavailable(std::runtime_error("other")));
  EXPECT_FALSE(is_redis_unavailable(boost::system::system_error(boost::asio::error::operation_aborted)));
}

TEST(RedisUrl, ParsesHostPortDatabaseAndCredentials) {
  EXPECT_EQ(parse_redis_url("redis://cache.internal"), (RedisEndpoint{"cache.internal", "6379", "", "", 0}));
  EXPECT_EQ(parse_redis_url("redis://127.0.0.1:6380/2"), (RedisEndpoint{"127.0.0.1", "6380", "", "", 2}));
  EXPECT_EQ(parse_redis_url("redis://:s%40cret@h:1/0"), (RedisEndpoint{"h", "1", "", "s@cret", 0}));
  EXPECT_EQ(parse_redis_url("redis://app:pw@h/15"), (RedisEndpoint{"h", "6379", "app", "pw", 15}));
  EXPECT_EQ(parse_redis_url("REDIS://h/"), (RedisEndpoint{"h", "6379", "", "", 0}));
}

TEST(RedisUrl, RejectsUnusableUrlsWithoutRevealingThePassword) {
  for (const auto* url : {"http://h:1", "rediss://:topsecret@h", "redis://:topsecret@h:99999",
                          "redis://:topsecret@h/db", "redis://:topsecret@h/-1", "redis://:topsecret@/0", "not a url"}) {
    try {
      (void)parse_redis_url(url);
      ADD_FAILURE() << url;
    } catch (const RedisError& e) {
      EXPECT_EQ(e.kind(), RedisErrorKind::kInvalidUrl) << url;
      EXPECT_EQ(std::string(e.what()).find("topsecret"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace evolveai::net
