#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include <set>

#include "support/http_test_client.hpp"
#include "support/test_app.hpp"

namespace evolveai {
namespace {

/// Every `$ref` in `value` names a schema that exists.
void expect_refs_resolve(const boost::json::value& value, const boost::json::object& schemas, const std::string& at) {
  if (value.is_object()) {
    for (const auto& [key, child] : value.as_object()) {
      if (key == "$ref") {
        const std::string ref(child.as_string());
        const std::string prefix = "#/components/schemas/";
        ASSERT_EQ(ref.rfind(prefix, 0), 0U) << at;
        EXPECT_TRUE(schemas.contains(ref.substr(prefix.size()))) << ref << " at " << at;
      } else {
        expect_refs_resolve(child, schemas, at + "/" + std::string(key));
      }
    }
  } else if (value.is_array()) {
    for (const auto& child : value.as_array()) {
      expect_refs_resolve(child, schemas, at + "[]");
    }
  }
}

class OpenApi : public ::testing::Test {
 protected:
  testing::TempDir dir_;
  testing::TestApp app_{testing::test_config(dir_.path())};
};

TEST_F(OpenApi, DocumentIsServedAndEveryReferenceResolves) {
  const auto reply = testing::http_request(app_.port(), "GET", "/api/v1/openapi.json");
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->status, 200);
  const auto doc = boost::json::parse(reply->body).as_object();
  EXPECT_EQ(doc.at("openapi").as_string(), "3.1.0");
  const auto& schemas = doc.at("components").at("schemas").as_object();
  expect_refs_resolve(doc.at("paths"), schemas, "paths");
  EXPECT_TRUE(schemas.contains("Error"));
}

TEST_F(OpenApi, DocumentedOperationsAreExactlyTheServedRoutes) {
  const auto reply = testing::http_request(app_.port(), "GET", "/api/v1/openapi.json");
  ASSERT_TRUE(reply);
  const auto doc = boost::json::parse(reply->body).as_object();
  std::set<std::string> documented;
  for (const auto& [path, methods] : doc.at("paths").as_object()) {
    for (const auto& [method, operation] : methods.as_object()) {
      std::string upper(method);
      for (auto& c : upper) {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      }
      documented.insert(upper + " " + std::string(path));
      const auto& op = operation.as_object();
      EXPECT_TRUE(op.contains("summary")) << upper << " " << path;
      EXPECT_FALSE(op.at("responses").as_object().empty()) << upper << " " << path;
    }
  }
  std::set<std::string> served;
  for (const auto& route : app_.router().routes()) {
    served.insert(route.method + " " + route.pattern);
    // A route needing a token says so in the document, and a public one does not.
    const auto& op = doc.at("paths").as_object().if_contains(route.pattern);
    if (op == nullptr) {
      continue;
    }
    std::string lower(route.method);
    for (auto& c : lower) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    if (const auto* operation = op->as_object().if_contains(lower)) {
      const bool needs_token = route.options.access != http::Access::kPublic;
      EXPECT_EQ(!operation->at("security").as_array().empty(), needs_token) << route.method << " " << route.pattern;
    }
  }
  for (const auto& route : served) {
    EXPECT_TRUE(documented.contains(route)) << route << " is served but not documented";
  }
  for (const auto& operation : documented) {
    EXPECT_TRUE(served.contains(operation)) << operation << " is documented but not served";
  }
}

TEST_F(OpenApi, DocsPageRendersTheDocument) {
  const auto reply = testing::http_request(app_.port(), "GET", "/docs");
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->status, 200);
  EXPECT_NE(reply->headers.at("content-type").find("text/html"), std::string::npos);
  EXPECT_NE(reply->body.find("/api/v1/openapi.json"), std::string::npos);
}

}  // namespace
}  // namespace evolveai
