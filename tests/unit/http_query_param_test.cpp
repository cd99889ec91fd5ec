#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <utility>

#include "http/message.hpp"

namespace evolveai::http {
namespace {

Request with_query(std::string query) {
  Request request;
  request.query = std::move(query);
  return request;
}

// Found by the json_body fuzz target: the query "#" crashed query_param (a stack overflow in
// Boost.URL 1.81 iterating "?#"). A query never holds '#', so it has no parameters.
TEST(RequestQueryParam, AQueryWithAHashHasNoParameters) {
  EXPECT_EQ(with_query("#").query_param("limit"), std::nullopt);
  EXPECT_EQ(with_query("limit=5#x").query_param("limit"), std::nullopt);
  EXPECT_EQ(with_query("limit=5&q=tea+time").query_param("q"), "tea time");
  EXPECT_EQ(with_query("limit=5&q=%D1%87%D0%B0%D0%B9").query_param("q"), "\xD1\x87\xD0\xB0\xD0\xB9");
}

}  // namespace
}  // namespace evolveai::http
