#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include <sstream>

#include "obs/logger.hpp"

namespace evolveai::obs {
namespace {

TEST(Logger, WritesOneJsonObjectPerLine) {
  std::ostringstream out;
  {
    Logger logger(LogLevel::kInfo, Logger::Format::kJson, out);
    logger.info("http_request", {{"status", 200}, {"path", "/a\"b"}, {"ok", true}, {"ms", 1.5}});
    logger.flush();
  }
  const auto line = out.str();
  ASSERT_FALSE(line.empty());
  const auto json = boost::json::parse(line);
  EXPECT_EQ(json.at("event").as_string(), "http_request");
  EXPECT_EQ(json.at("level").as_string(), "info");
  EXPECT_EQ(json.at("status").as_int64(), 200);
  EXPECT_EQ(json.at("path").as_string(), "/a\"b");
  EXPECT_TRUE(json.at("ok").as_bool());
  EXPECT_TRUE(json.as_object().contains("time"));
}

TEST(Logger, NeverWritesSecretFields) {
  std::ostringstream out;
  {
    Logger logger(LogLevel::kInfo, Logger::Format::kJson, out);
    logger.info("oops", {{"authorization", "Bearer abc.def"}, {"password", "hunter2"}, {"api_key", "k-123"}});
    logger.flush();
  }
  const auto line = out.str();
  EXPECT_EQ(line.find("abc.def"), std::string::npos);
  EXPECT_EQ(line.find("hunter2"), std::string::npos);
  EXPECT_EQ(line.find("k-123"), std::string::npos);
  EXPECT_NE(line.find("***"), std::string::npos);
}

TEST(Logger, DropsEventsBelowTheLevel) {
  std::ostringstream out;
  {
    Logger logger(LogLevel::kWarn, Logger::Format::kJson, out);
    logger.info("quiet", {});
    logger.debug("quieter", {});
    logger.flush();
  }
  EXPECT_TRUE(out.str().empty());
}

TEST(Logger, EscapesControlCharacters) {
  std::string out;
  append_json_escaped(out, std::string("a\n\x01", 3));
  EXPECT_EQ(out, "a\\n\\u0001");
}

TEST(Logger, ParsesLevels) {
  LogLevel level = LogLevel::kInfo;
  EXPECT_TRUE(parse_log_level("debug", level));
  EXPECT_EQ(level, LogLevel::kDebug);
  EXPECT_FALSE(parse_log_level("loud", level));
}

}  // namespace
}  // namespace evolveai::obs
