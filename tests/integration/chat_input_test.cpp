// What a chat request may carry: hostile images are refused before any model call, a good
// image reaches the model inline, bad fields are named, and without a model chat answers 503
// while the rest of the API works.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "support/chat_test_env.hpp"

namespace evolveai {
namespace {

using namespace std::string_literals;
using testing::ChatAppTest;

namespace json = boost::json;

json::object with_image(const std::string& mime_type, const std::string& data) {
  return {{"message", "What is in this picture?"}, {"image", json::object{{"mime_type", mime_type}, {"data", data}}}};
}

class ChatInput : public ChatAppTest {};

TEST_P(ChatInput, HostileImagesAreRefusedBeforeAnyModelCall) {
  start();
  const auto token = sign_in(7001);
  const auto png = testing::tiny_png();
  struct Case {
    std::string name;
    json::object body;
    int status;
    std::string code;
  };
  const std::vector<Case> cases = {
      {"bad base64", with_image("image/png", "not base64 at all!!"), 400, "validation_failed"},
      {"zero bytes", with_image("image/png", ""), 400, "validation_failed"},
      {"one byte over 10 MiB",
       with_image("image/png", testing::base64_encode(png + std::string(std::size_t{10} * 1024 * 1024, '\0'))), 413,
       "payload_too_large"},
      {"PNG declared as JPEG", with_image("image/jpeg", testing::base64_encode(png)), 415, "unsupported_media_type"},
      {"not an image", with_image("image/png", testing::base64_encode("<svg onload=alert(1)>")), 415,
       "unsupported_media_type"},
      {"SVG declared", with_image("image/svg+xml", testing::base64_encode(png)), 415, "unsupported_media_type"},
      {"PNG with an archive appended", with_image("image/png", testing::base64_encode(png + "PK\x03\x04zip"s)), 400,
       "validation_failed"},
      {"GIF that is also JavaScript",
       with_image("image/gif", testing::base64_encode("GIF89a/*\x01\x00\x00\x00\x00*/=alert(1);"s)), 400,
       "validation_failed"},
  };
  for (const auto& c : cases) {
    const auto reply = testing::post_chat(port(), token, c.body);
    ASSERT_TRUE(reply) << c.name;
    EXPECT_EQ(reply->status, c.status) << c.name << ": " << reply->body.substr(0, 300);
    EXPECT_EQ(testing::error_code_of(*reply), c.code) << c.name;
  }
  // An 11 MB image makes a body over the chat route's 14 MiB limit: refused from its head alone.
  const auto huge =
      json::serialize(with_image("image/png", testing::base64_encode(std::string(std::size_t{11} * 1024 * 1024, 'x'))));
  testing::RawConnection connection(port());
  ASSERT_TRUE(connection.send("POST /api/v1/chat HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token +
                              "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(huge.size()) +
                              "\r\n\r\n"));
  const auto refused = connection.read_reply();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 413);
  EXPECT_EQ(testing::error_code_of(*refused), "payload_too_large");

  EXPECT_EQ(gemini_.request_count(), 0U) << "no hostile image reached the model";
  EXPECT_TRUE(stored_messages(token).empty()) << "nothing refused was stored";
  const auto profile = testing::call_api(port(), "GET", "/api/v1/profile", token);
  EXPECT_EQ(testing::json_of(*profile).at("usage").at("messages_today").as_int64(), 0);
}

TEST_P(ChatInput, AGoodImageReachesTheModelInline) {
  start();
  const auto token = sign_in(7002);
  const auto png = testing::tiny_png();
  const auto reply = testing::post_chat(port(), token, with_image("image/png", testing::base64_encode(png)));
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->status, 200) << reply->body;
  const auto body = json::parse(gemini_.requests().back().body);
  const auto& parts = body.at("contents").as_array().back().at("parts").as_array();
  bool found = false;
  for (const auto& part : parts) {
    if (const auto* inline_data = part.as_object().if_contains("inline_data")) {
      EXPECT_EQ(inline_data->at("mime_type").as_string(), "image/png");
      EXPECT_EQ(inline_data->at("data").as_string(), testing::base64_encode(png));
      found = true;
    }
  }
  EXPECT_TRUE(found) << gemini_.requests().back().body;
  const auto history = testing::call_api(port(), "GET", "/api/v1/history", token);
  EXPECT_TRUE(testing::json_of(*history).at("messages").as_array().back().at("has_image").as_bool());
}

TEST_P(ChatInput, AnImageOfSeveralMegabytesFitsTheChatBodyLimit) {
  start();
  const auto token = sign_in(7005);
  // A PNG made large by an ancillary text chunk before IEND: well-formed, about 6 MiB.
  const auto png = testing::tiny_png();
  const std::string payload(std::size_t{6} * 1024 * 1024, 'z');
  const auto length = static_cast<std::uint32_t>(payload.size());
  std::string chunk{static_cast<char>(length >> 24U), static_cast<char>((length >> 16U) & 0xFFU),
                    static_cast<char>((length >> 8U) & 0xFFU), static_cast<char>(length & 0xFFU)};
  chunk += "tEXt" + payload + "\x00\x00\x00\x00"s;
  const auto big = png.substr(0, png.size() - 12) + chunk + png.substr(png.size() - 12);
  const auto reply = testing::post_chat(port(), token, with_image("image/png", testing::base64_encode(big)));
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200) << reply->body;
  EXPECT_EQ(gemini_.request_count(), 1U);
}

TEST_P(ChatInput, BadFieldsAreNamed) {
  start();
  const auto token = sign_in(7003);
  const std::vector<std::pair<json::object, std::string>> cases = {
      {{}, "message"},
      {{{"message", ""}}, "message"},
      {{{"message", std::string(8001, 'a')}}, "message"},
      {{{"message", "   "}}, "message"},
      {{{"message", "hi"}, {"client_message_id", std::string(65, 'c')}}, "client_message_id"},
      {{{"message", "hi"}, {"client_message_id", "has space"}}, "client_message_id"},
      {{{"message", "hi"}, {"stream", "yes"}}, "stream"},
      {{{"message", "hi"}, {"text", "hi"}}, "text"},
      {{{"message", "hi"}, {"image", "abc"}}, "image"},
  };
  for (const auto& [body, field] : cases) {
    const auto reply = testing::post_chat(port(), token, body);
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->status, 400) << json::serialize(body) << " " << reply->body;
    EXPECT_EQ(testing::json_of(*reply).at("error").at("field").as_string(), field) << reply->body;
  }
  const auto not_json = testing::call_api(port(), "POST", "/api/v1/chat", token, "{\"message\":", {});
  EXPECT_EQ(testing::error_code_of(*not_json), "invalid_json");
  EXPECT_EQ(gemini_.request_count(), 0U);
}

TEST_P(ChatInput, WithoutAModelChatAnswers503AndTheRestWorks) {
  config_.llm = {};
  start();
  const auto token = sign_in(7004);
  const auto reply = testing::post_chat(port(), token, {{"message", "Hello?"}});
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 503);
  EXPECT_EQ(testing::error_code_of(*reply), "llm_not_configured");
  EXPECT_NE(reply->body.find("llm.provider"), std::string::npos);
  const auto profile = testing::call_api(port(), "GET", "/api/v1/profile", token);
  ASSERT_TRUE(profile);
  EXPECT_EQ(profile->status, 200);
  EXPECT_EQ(testing::json_of(*profile).at("usage").at("messages_today").as_int64(), 0);
  const auto history = testing::call_api(port(), "GET", "/api/v1/history", token);
  ASSERT_TRUE(history);
  EXPECT_EQ(history->status, 200);
  EXPECT_TRUE(testing::json_of(*history).at("messages").as_array().empty());
  const auto ready = testing::http_request(port(), "GET", "/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200) << ready->body;
  EXPECT_TRUE(testing::json_of(*ready).at("checks").at("llm").at("degraded").as_bool());
}

INSTANTIATE_TEST_SUITE_P(Engines, ChatInput, ::testing::Values(testing::Engine::kSqlite, testing::Engine::kPostgres),
                         testing::engine_param_name);

}  // namespace
}  // namespace evolveai
