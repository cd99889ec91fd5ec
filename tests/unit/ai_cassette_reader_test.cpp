#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "fakes/vcr_cassette.hpp"

namespace evolveai::testing {
namespace {

namespace json = boost::json;

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

TEST(CassetteReader, ReadsTheYamlSubsetCassettesUse) {
  const auto value = parse_simple_yaml(R"(top:
  list:
  - plain text
  - '*'
  - 'it''s'
  - 42
  nested:
  - name: a
    value: true
  - name: b
    value: null
  folded: 'first part
    second part'
  plain: first
    second
  block: |+
    line one

    line three

  after: done
...
ignored: after the end
)");
  const auto& top = value.at("top");
  EXPECT_EQ(top.at("list").at(0).as_string(), "plain text");
  EXPECT_EQ(top.at("list").at(1).as_string(), "*");
  EXPECT_EQ(top.at("list").at(2).as_string(), "it's");
  EXPECT_EQ(top.at("list").at(3).as_int64(), 42);
  EXPECT_EQ(top.at("nested").at(1).at("name").as_string(), "b");
  EXPECT_TRUE(top.at("nested").at(0).at("value").as_bool());
  EXPECT_TRUE(top.at("nested").at(1).at("value").is_null());
  EXPECT_EQ(top.at("folded").as_string(), "first part second part");
  EXPECT_EQ(top.at("plain").as_string(), "first second");
  EXPECT_EQ(top.at("block").as_string(), "line one\n\nline three\n\n");
  EXPECT_EQ(top.at("after").as_string(), "done");
  EXPECT_FALSE(value.as_object().contains("ignored"));
}

TEST(CassetteReader, LoadsTheRecordedOpenAiCassettes) {
  const std::filesystem::path dir = std::filesystem::path(EVOLVEAI_FIXTURES_DIR) / "openai-pydantic-ai-cassettes";
  const auto streamed = load_cassette(read_file(dir / "test_run_stream_sync_streams_real_model.yaml"));
  ASSERT_EQ(streamed.size(), 2U);
  EXPECT_EQ(streamed[0].method, "POST");
  EXPECT_EQ(streamed[0].uri, "https://api.openai.com/v1/chat/completions");
  EXPECT_TRUE(streamed[0].request_body.at("stream").as_bool());
  EXPECT_EQ(streamed[0].status, 200);
  EXPECT_EQ(streamed[0].header("content-type"), "text/event-stream; charset=utf-8");
  EXPECT_TRUE(streamed[1].exact_body);
  EXPECT_TRUE(streamed[1].body.starts_with("data: {\"id\":\"chatcmpl-"));
  EXPECT_TRUE(streamed[1].body.ends_with("\n\ndata: [DONE]\n\n"));

  const auto limited = load_cassette(read_file(dir / "test_openrouter_errors_raised.yaml"));
  ASSERT_EQ(limited.size(), 3U);
  EXPECT_EQ(limited[0].status, 429);
  EXPECT_FALSE(limited[0].exact_body);
  const auto body = json::parse(limited[0].body);
  EXPECT_EQ(body.at("error").at("code").as_int64(), 429);
  EXPECT_TRUE(std::string(body.at("error").at("metadata").at("raw").as_string()).find("your own key to accumulate") !=
              std::string::npos);

  const auto rejected = load_cassette(read_file(dir / "test_openai_o1_mini_system_role[system].yaml"));
  ASSERT_EQ(rejected.size(), 1U);
  EXPECT_EQ(json::parse(rejected[0].body).at("error").at("message").as_string(),
            "Unsupported value: 'messages[0].role' does not support 'system' with this model.");
}

}  // namespace
}  // namespace evolveai::testing
