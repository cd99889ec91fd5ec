#include <gtest/gtest.h>

#include "api/json_body.hpp"
#include "core/errors.hpp"

namespace evolveai::api {
namespace {

http::Request json_request(std::string body, std::string type = "application/json") {
  http::Request request;
  request.headers.set("Content-Type", std::move(type));
  request.body = std::move(body);
  return request;
}

std::string code_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const core::Error& error) {
    return error.code();
  }
  return "none";
}

TEST(JsonBody, ParsesAnObject) {
  const auto object = parse_json_object(json_request(R"({"a":1})", "application/json; charset=utf-8"), {});
  EXPECT_EQ(object.at("a").as_int64(), 1);
}

TEST(JsonBody, RejectsWrongContentType) {
  EXPECT_EQ(code_of([] { parse_json_object(json_request("{}", "text/plain"), {}); }), "unsupported_media_type");
  http::Request missing;
  missing.body = "{}";
  EXPECT_EQ(code_of([&] { parse_json_object(missing, {}); }), "unsupported_media_type");
}

TEST(JsonBody, RejectsBadJsonNonObjectsDeepNestingAndInvalidUtf8) {
  EXPECT_EQ(code_of([] { parse_json_object(json_request("{"), {}); }), "invalid_json");
  EXPECT_EQ(code_of([] { parse_json_object(json_request("[1,2]"), {}); }), "invalid_json");
  EXPECT_EQ(code_of([] { parse_json_object(json_request(""), {}); }), "invalid_json");
  std::string deep = std::string(100, '[') + std::string(100, ']');
  EXPECT_EQ(code_of([&] { parse_json_object(json_request(R"({"a":)" + deep + "}"), {}); }), "invalid_json");
  EXPECT_EQ(code_of([] { parse_json_object(json_request("{\"a\":\"\xff\xfe\"}"), {}); }), "invalid_json");
}

TEST(JsonBody, StringFieldsAreCheckedInCharactersNotBytes) {
  const auto object = parse_json_object(json_request(R"({"m":"Привет","n":5,"e":""})"), {});
  EXPECT_EQ(require_string(object, "m", 1, 6), "Привет");
  EXPECT_EQ(code_of([&] { require_string(object, "m", 1, 5); }), "validation_failed");
  EXPECT_EQ(code_of([&] { require_string(object, "n", 1, 5); }), "validation_failed");
  EXPECT_EQ(code_of([&] { require_string(object, "e", 1, 5); }), "validation_failed");
  EXPECT_EQ(code_of([&] { require_string(object, "absent", 1, 5); }), "validation_failed");
  EXPECT_FALSE(optional_string(object, "absent", 1, 5));
}

TEST(JsonBody, ValidationErrorsNameTheField) {
  const auto object = parse_json_object(json_request(R"({"days":0})"), {});
  try {
    optional_integer(object, "days", 1, 3650);
    FAIL();
  } catch (const core::Error& error) {
    EXPECT_EQ(error.code(), "validation_failed");
    EXPECT_EQ(error.field(), "days");
  }
}

TEST(JsonBody, QueryIntegersAreBounded) {
  http::Request request;
  request.query = "limit=50&bad=12x&neg=-1";
  EXPECT_EQ(query_integer(request, "limit", 20, 1, 100), 50);
  EXPECT_EQ(query_integer(request, "absent", 20, 1, 100), 20);
  EXPECT_EQ(code_of([&] { query_integer(request, "bad", 20, 1, 100); }), "validation_failed");
  EXPECT_EQ(code_of([&] { query_integer(request, "neg", 20, 1, 100); }), "validation_failed");
  EXPECT_EQ(code_of([&] { query_integer(request, "limit", 20, 1, 10); }), "validation_failed");
}

}  // namespace
}  // namespace evolveai::api
