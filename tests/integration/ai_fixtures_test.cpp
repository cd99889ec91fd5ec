// Every recorded Gemini and OpenAI-compatible response in the shared fixtures, served
// byte for byte by the fake servers, must come out of the providers as the text, finish
// reason, usage or typed error the recording itself says. The expectations are derived
// from each file's own content by a deliberately plain reading (below), and a few
// well-known files are also pinned to what SOURCES.md says about them.

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <sstream>

#include "ai/gemini/gemini_model.hpp"
#include "ai/openai_compat/openai_model.hpp"
#include "fakes/fake_gemini.hpp"
#include "fakes/fake_openai.hpp"
#include "fakes/vcr_cassette.hpp"

namespace evolveai::ai {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using testing::FakeGemini;
using testing::FakeOpenAi;
using testing::FakeReply;

fs::path fixtures_dir() {
  return EVOLVEAI_FIXTURES_DIR;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::vector<fs::path> files_in(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.is_regular_file()) {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

/// What a recording says the provider must produce.
struct Expected {
  bool error = false;
  int status = 0;        ///< HTTP status (or in-stream error code) of an error
  bool partial = false;  ///< text came before the error
  bool bad_response = false;
  std::string text;
  std::string finish = "stop";
  bool blocked = false;
  std::int64_t input_tokens = 0;
  std::int64_t output_tokens = 0;
};

/// What the provider produced.
struct Outcome {
  bool error = false;
  int status = 0;
  bool partial = false;
  bool retryable = false;
  ModelFailure failure = ModelFailure::kBadResponse;
  std::string code;
  std::string text;
  std::string finish;
  bool blocked = false;
  std::string friendly;
  std::int64_t input_tokens = 0;
  std::int64_t output_tokens = 0;
  std::string streamed;  ///< the deltas joined
  std::size_t deltas = 0;
};

std::optional<json::value> try_parse(std::string_view text) {
  boost::system::error_code ec;
  json::parse_options options;
  options.max_depth = 64;
  auto value = json::parse(text, ec, {}, options);
  if (ec) {
    return std::nullopt;
  }
  return value;
}

const json::value* member(const json::value& value, std::string_view key) {
  const auto* object = value.if_object();
  return object == nullptr ? nullptr : object->if_contains(key);
}

std::string text_of(const json::value* value) {
  return value != nullptr && value->is_string() ? std::string(value->get_string()) : std::string();
}

std::int64_t number_of(const json::value* value) {
  return value != nullptr && value->is_int64() ? value->get_int64() : 0;
}

/// The error object of a body, if it is one (`{"error":…}` or `[{"error":…}]`).
const json::value* error_member(const json::value& body) {
  if (body.is_array() && !body.get_array().empty()) {
    return member(body.get_array().front(), "error");
  }
  return member(body, "error");
}

/// The finish reasons as the providers' documentation names them.
std::string ours(std::string_view provider, std::string_view reason) {
  static const std::map<std::string, std::string, std::less<>> gemini = {
      {"STOP", "stop"},           {"MAX_TOKENS", "length"},         {"SAFETY", "safety"},
      {"BLOCKLIST", "safety"},    {"PROHIBITED_CONTENT", "safety"}, {"SPII", "safety"},
      {"IMAGE_SAFETY", "safety"}, {"RECITATION", "recitation"}};
  static const std::map<std::string, std::string, std::less<>> openai = {
      {"stop", "stop"}, {"length", "length"}, {"content_filter", "safety"}};
  const auto& table = provider == "gemini" ? gemini : openai;
  const auto found = table.find(reason);
  return found == table.end() ? "error" : found->second;
}

/// Applies the common rules to what a recording holds.
void settle(Expected& expected, std::string_view provider, const std::string& raw_finish, bool saw_reply) {
  if (expected.error) {
    return;
  }
  if (!saw_reply) {
    expected.error = true;
    expected.bad_response = true;
    return;
  }
  if (expected.blocked) {
    expected.finish = "safety";
    return;
  }
  expected.finish = raw_finish.empty() ? "stop" : ours(provider, raw_finish);
  if (expected.finish == "safety" || expected.finish == "recitation") {
    expected.blocked = true;
  } else if (expected.text.empty()) {
    expected.finish = "error";
  }
}

/// Reads Gemini responses (a unary body, or the `data:` lines of a stream) plainly.
Expected expect_gemini(const std::string& bytes) {
  Expected expected;
  const auto lead = bytes.find_first_not_of(" \t\r\n");
  if (bytes[lead] == '<') {
    std::smatch match;
    expected.error = true;
    expected.status = std::regex_search(bytes, match, std::regex(R"(Error (\d{3}))")) ? std::stoi(match[1]) : 500;
    return expected;
  }
  std::vector<json::value> responses;
  std::string trailing;
  if (bytes[lead] == '{' || bytes[lead] == '[') {
    const auto body = try_parse(bytes);
    if (!body) {
      expected.error = true;
      expected.bad_response = true;
      return expected;
    }
    if (const auto* error = error_member(*body)) {
      expected.error = true;
      expected.status = static_cast<int>(number_of(member(*error, "code")));
      return expected;
    }
    if (body->is_array()) {
      responses.assign(body->get_array().begin(), body->get_array().end());
    } else {
      responses.push_back(*body);
    }
  } else {
    std::istringstream lines(bytes);
    std::string line;
    while (std::getline(lines, line)) {
      if (!line.empty() && line.back() == '\r') {
        line.pop_back();
      }
      if (line.starts_with("data:")) {
        auto event = try_parse(line.substr(5));
        if (!event) {
          expected.error = true;
          expected.bad_response = true;
          return expected;
        }
        responses.push_back(std::move(*event));
      } else if (!line.empty()) {
        trailing += line + "\n";
      }
    }
  }
  std::string raw_finish;
  bool saw_reply = false;
  bool any_candidate = false;
  bool block_feedback = false;
  for (const auto& response : responses) {
    if (const auto* candidates = member(response, "candidates"); candidates != nullptr && candidates->is_array()) {
      saw_reply = true;
      if (!candidates->get_array().empty()) {
        any_candidate = true;
        const auto& candidate = candidates->get_array().front();
        const auto* content = member(candidate, "content");
        const auto* parts = content != nullptr ? member(*content, "parts") : nullptr;
        if (parts != nullptr && parts->is_array()) {
          for (const auto& part : parts->get_array()) {
            const auto* thought = member(part, "thought");
            if (thought != nullptr && thought->is_bool() && thought->get_bool()) {
              continue;
            }
            expected.text += text_of(member(part, "text"));
          }
        }
        if (const auto finish = text_of(member(candidate, "finishReason")); !finish.empty()) {
          raw_finish = finish;
        }
      }
    }
    if (const auto* feedback = member(response, "promptFeedback")) {
      saw_reply = true;
      if (member(*feedback, "blockReason") != nullptr || member(*feedback, "blockReasonMessage") != nullptr) {
        block_feedback = true;
      }
    }
    if (const auto* usage = member(response, "usageMetadata")) {
      expected.input_tokens = number_of(member(*usage, "promptTokenCount"));
      expected.output_tokens =
          number_of(member(*usage, "candidatesTokenCount")) + number_of(member(*usage, "thoughtsTokenCount"));
    }
  }
  if (!trailing.empty()) {
    if (const auto body = try_parse(trailing); body && error_member(*body) != nullptr) {
      expected.error = true;
      expected.status = static_cast<int>(number_of(member(*error_member(*body), "code")));
      expected.partial = !expected.text.empty();
      return expected;
    }
  }
  expected.blocked = block_feedback && !any_candidate;
  settle(expected, "gemini", raw_finish, saw_reply);
  return expected;
}

/// Reads OpenAI-compatible chunks (one JSON per `data:` line, `[DONE]` skipped) plainly.
Expected expect_openai_chunks(const std::vector<std::string>& chunks) {
  Expected expected;
  std::string raw_finish;
  std::string refusal;
  bool saw_reply = false;
  for (const auto& text : chunks) {
    if (text == "[DONE]") {
      continue;
    }
    const auto chunk = try_parse(text);
    if (!chunk) {
      expected.error = true;
      expected.bad_response = true;
      return expected;
    }
    if (const auto* error = member(*chunk, "error"); error != nullptr && !error->is_null()) {
      expected.error = true;
      expected.status = static_cast<int>(number_of(member(*error, "code")));
      expected.partial = !expected.text.empty();
      return expected;
    }
    saw_reply = saw_reply || member(*chunk, "choices") != nullptr || member(*chunk, "usage") != nullptr;
    if (const auto* choices = member(*chunk, "choices");
        choices != nullptr && choices->is_array() && !choices->get_array().empty()) {
      const auto& choice = choices->get_array().front();
      const auto* delta = member(choice, "delta") != nullptr ? member(choice, "delta") : member(choice, "message");
      if (delta != nullptr) {
        expected.text += text_of(member(*delta, "content"));
        refusal += text_of(member(*delta, "refusal"));
      }
      if (const auto finish = text_of(member(choice, "finish_reason")); !finish.empty()) {
        raw_finish = finish;
      }
    }
    if (const auto* usage = member(*chunk, "usage"); usage != nullptr && usage->is_object()) {
      expected.input_tokens = number_of(member(*usage, "prompt_tokens"));
      expected.output_tokens = number_of(member(*usage, "completion_tokens"));
    }
  }
  if (!refusal.empty() && expected.text.empty()) {
    raw_finish = "content_filter";
  }
  settle(expected, "openai", raw_finish, saw_reply);
  return expected;
}

std::vector<std::string> data_lines(const std::string& sse) {
  std::vector<std::string> out;
  std::istringstream lines(sse);
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    if (line.starts_with("data:")) {
      out.push_back(line.substr(line.size() > 5 && line[5] == ' ' ? 6 : 5));
    }
  }
  return out;
}

std::vector<std::string> plain_lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.empty()) {
      out.push_back(line);
    }
  }
  return out;
}

class RecordedResponses : public ::testing::Test {
 protected:
  Outcome call(ChatModel& model, bool streaming) {
    Outcome outcome;
    auto task = [&]() -> Task<void> {
      ChatRequest request;
      request.messages.push_back({Role::kUser, {Part::text_part("Hello")}});
      try {
        ChatResult result;
        if (streaming) {
          result = co_await model.stream(request, [&](std::string_view delta) -> Task<bool> {
            outcome.streamed += delta;
            ++outcome.deltas;
            co_return true;
          });
        } else {
          result = co_await model.generate(request);
        }
        outcome.text = result.text;
        outcome.finish = std::string(finish_reason_name(result.finish_reason));
        outcome.blocked = result.blocked;
        outcome.friendly = result.friendly_text;
        outcome.input_tokens = result.usage.input_tokens;
        outcome.output_tokens = result.usage.output_tokens;
      } catch (const ModelError& error) {
        outcome.error = true;
        outcome.status = error.http_status();
        outcome.partial = error.partial();
        outcome.retryable = error.retryable();
        outcome.failure = error.failure();
        outcome.code = error.code();
      }
    };
    io_.restart();
    auto future = boost::asio::co_spawn(io_, task(), boost::asio::use_future);
    io_.run();
    future.get();
    return outcome;
  }

  static ModelCallOptions single_attempt() {
    ModelCallOptions options;
    options.retry.max_attempts = 1;
    return options;
  }

  std::unique_ptr<ChatModel> gemini_model(const FakeGemini& fake) {
    gemini::GeminiSettings settings;
    settings.base_url = fake.base_url();
    settings.model = "gemini-test";
    settings.api_key = "test-key";
    return gemini::make_model(settings, client_, single_attempt());
  }

  std::unique_ptr<ChatModel> openai_model(const FakeOpenAi& fake) {
    openai_compat::OpenAiSettings settings;
    settings.base_url = fake.base_url();
    settings.model = "gpt-test";
    settings.api_key = "test-key";
    return openai_compat::make_model(settings, client_, single_attempt());
  }

  static void expect_matches(const Outcome& outcome, const Expected& expected, bool streaming,
                             const std::string& label) {
    SCOPED_TRACE(label);
    ASSERT_EQ(outcome.error, expected.error) << "text: " << outcome.text.substr(0, 80) << " finish " << outcome.finish;
    if (expected.error) {
      EXPECT_EQ(outcome.code, "upstream_unavailable");
      EXPECT_EQ(outcome.partial, expected.partial);
      if (expected.bad_response) {
        EXPECT_EQ(outcome.failure, ModelFailure::kBadResponse);
      } else {
        EXPECT_EQ(outcome.status, expected.status);
        const bool retryable_status = expected.status == 429 || expected.status == 500 || expected.status == 502 ||
                                      expected.status == 503 || expected.status == 504 || expected.status == 499;
        EXPECT_EQ(outcome.retryable, retryable_status);
      }
      return;
    }
    EXPECT_EQ(outcome.text, expected.text);
    EXPECT_EQ(outcome.finish, expected.finish);
    EXPECT_EQ(outcome.blocked, expected.blocked);
    EXPECT_EQ(!outcome.friendly.empty(), expected.blocked);
    EXPECT_EQ(outcome.input_tokens, expected.input_tokens);
    EXPECT_EQ(outcome.output_tokens, expected.output_tokens);
    if (streaming) {
      EXPECT_EQ(outcome.streamed, outcome.text);
    }
  }

  boost::asio::io_context io_;
  std::shared_ptr<net::HttpClient> client_ = std::make_shared<net::HttpClient>();
};

TEST_F(RecordedResponses, EveryGeminiRecordingReadsAsItSays) {
  std::size_t checked = 0;
  for (const auto* folder : {"gemini-generative-ai-js", "gemini-firebase-vertexai-sdk-test-data/googleai",
                             "gemini-firebase-vertexai-sdk-test-data/vertexai"}) {
    for (const auto& path : files_in(fixtures_dir() / folder)) {
      const std::string name = path.filename().string();
      const bool streaming = name.starts_with("streaming-");
      const std::string bytes = read_file(path);
      FakeGemini fake;
      fake.enqueue(FakeGemini::recorded(bytes));
      auto model = gemini_model(fake);
      const auto outcome = call(*model, streaming);
      expect_matches(outcome, expect_gemini(bytes), streaming, std::string(folder) + "/" + name);
      ASSERT_EQ(fake.request_count(), 1U) << name;
      EXPECT_EQ(fake.requests()[0].path,
                "/v1beta/models/gemini-test:" + std::string(streaming ? "streamGenerateContent" : "generateContent"));
      ++checked;
    }
  }
  EXPECT_EQ(checked, 84U);
}

TEST_F(RecordedResponses, EveryOpenAiChunkRecordingReadsAsItSays) {
  std::size_t checked = 0;
  for (const auto& path : files_in(fixtures_dir() / "openai-vercel-ai")) {
    const std::string name = path.filename().string();
    const std::string bytes = read_file(path);
    FakeOpenAi fake;
    auto model = openai_model(fake);
    Expected expected;
    bool streaming = true;
    if (name.ends_with(".chunks.txt")) {
      fake.enqueue(FakeOpenAi::from_chunk_lines(bytes));
      expected = expect_openai_chunks(plain_lines(bytes));
    } else if (name.ends_with(".sse")) {
      fake.enqueue(FakeOpenAi::recorded(bytes));
      expected = expect_openai_chunks(data_lines(bytes));
    } else {
      streaming = false;
      const auto body = try_parse(bytes);
      ASSERT_TRUE(body) << name;
      if (const auto* error = member(*body, "error")) {
        // OpenAI error bodies carry no status; the type names it.
        const int status = text_of(member(*error, "type")) == "invalid_request_error" ? 400 : 500;
        fake.enqueue(FakeOpenAi::recorded(bytes, status));
        expected.error = true;
        expected.status = status;
      } else {
        fake.enqueue(FakeOpenAi::recorded(bytes));
        expected = expect_openai_chunks({bytes});
      }
    }
    const auto outcome = call(*model, streaming);
    expect_matches(outcome, expected, streaming, name);
    ++checked;
  }
  EXPECT_EQ(checked, 13U);
}

TEST_F(RecordedResponses, EveryOpenAiCassetteExchangeReadsAsItSays) {
  std::size_t checked = 0;
  for (const auto& path : files_in(fixtures_dir() / "openai-pydantic-ai-cassettes")) {
    for (const auto& exchange : testing::load_cassette(read_file(path))) {
      const auto* stream_flag = member(exchange.request_body, "stream");
      const bool streaming = stream_flag != nullptr && stream_flag->is_bool() && stream_flag->get_bool();
      FakeOpenAi fake;
      fake.enqueue(FakeOpenAi::from_cassette(exchange));
      auto model = openai_model(fake);
      Expected expected;
      if (exchange.status != 200) {
        expected.error = true;
        expected.status = exchange.status;
      } else {
        expected =
            expect_openai_chunks(streaming ? data_lines(exchange.body) : std::vector<std::string>{exchange.body});
      }
      const auto outcome = call(*model, streaming);
      expect_matches(outcome, expected, streaming, path.filename().string());
      ++checked;
    }
  }
  EXPECT_EQ(checked, 9U);
}

TEST_F(RecordedResponses, WellKnownRecordingsGiveTheDocumentedResults) {
  const auto gemini = [&](const std::string& file, bool streaming) {
    FakeGemini fake;
    fake.enqueue(FakeGemini::recorded(read_file(fixtures_dir() / file)));
    auto model = gemini_model(fake);
    return call(*model, streaming);
  };
  EXPECT_EQ(gemini("gemini-generative-ai-js/streaming-success-basic-reply-short.txt", true).text, "Cheyenne");
  const auto helena = gemini("gemini-generative-ai-js/unary-success-basic-reply-short.json", false);
  EXPECT_EQ(helena.text, "Helena");
  EXPECT_EQ(helena.finish, "stop");
  const auto blocked = gemini("gemini-generative-ai-js/streaming-failure-prompt-blocked-safety.txt", true);
  EXPECT_FALSE(blocked.error);
  EXPECT_TRUE(blocked.blocked);
  EXPECT_EQ(blocked.finish, "safety");
  EXPECT_FALSE(blocked.friendly.empty());
  EXPECT_EQ(gemini("gemini-generative-ai-js/streaming-failure-recitation-no-content.txt", true).finish, "recitation");
  EXPECT_EQ(gemini("gemini-generative-ai-js/unary-failure-finish-reason-safety.json", false).text, "No");
  const auto quota = gemini("gemini-firebase-vertexai-sdk-test-data/vertexai/unary-failure-quota-exceeded.json", false);
  EXPECT_EQ(quota.failure, ModelFailure::kRateLimited);
  EXPECT_TRUE(quota.retryable);
  const auto unknown =
      gemini("gemini-firebase-vertexai-sdk-test-data/googleai/unary-failure-unknown-model.json", false);
  EXPECT_EQ(unknown.status, 404);
  EXPECT_FALSE(unknown.retryable);
  const auto html = gemini(
      "gemini-firebase-vertexai-sdk-test-data/vertexai/unary-failure-invalid-location-url-not-found.html", false);
  EXPECT_EQ(html.status, 404);
  const auto mid =
      gemini("gemini-firebase-vertexai-sdk-test-data/vertexai/streaming-failure-error-mid-stream.txt", true);
  EXPECT_TRUE(mid.error);
  EXPECT_TRUE(mid.partial);
  EXPECT_EQ(mid.streamed, "First Second ");
  EXPECT_EQ(gemini("gemini-firebase-vertexai-sdk-test-data/vertexai/streaming-failure-invalid-json.txt", true).failure,
            ModelFailure::kBadResponse);
  EXPECT_EQ(
      gemini("gemini-firebase-vertexai-sdk-test-data/googleai/unary-success-thinking-reply-thought-summary.json", false)
          .text,
      "Mountain View");
  const auto utf8 = gemini("gemini-generative-ai-js/streaming-success-utf8.txt", true);
  EXPECT_GT(utf8.deltas, 1U);
  EXPECT_TRUE(utf8.text.starts_with("\xE7\xA7\x8B"));  // the first character, intact

  FakeOpenAi fake;
  fake.enqueue(FakeOpenAi::from_chunk_lines(read_file(fixtures_dir() / "openai-vercel-ai/deepseek-text.chunks.txt")));
  auto model = openai_model(fake);
  const auto deepseek = call(*model, true);
  EXPECT_EQ(deepseek.finish, "length");
  EXPECT_EQ(deepseek.output_tokens, 400);
}

TEST_F(RecordedResponses, TheFakesServeRecordingsByteForByte) {
  net::HttpClient client;
  const auto fetch = [&](FakeReply reply, bool streaming) {
    FakeGemini fake;
    fake.enqueue(std::move(reply));
    std::string body;
    auto task = [&]() -> Task<void> {
      net::HttpRequest request;
      request.method = "POST";
      request.url = fake.base_url() + "/models/m:generateContent";
      if (streaming) {
        co_await client.stream(request, [&](std::string_view chunk) -> Task<bool> {
          body += chunk;
          co_return true;
        });
      } else {
        body = (co_await client.request(request)).body;
      }
    };
    io_.restart();
    auto future = boost::asio::co_spawn(io_, task(), boost::asio::use_future);
    io_.run();
    future.get();
    return body;
  };
  for (const auto* folder : {"gemini-generative-ai-js", "gemini-firebase-vertexai-sdk-test-data/googleai",
                             "gemini-firebase-vertexai-sdk-test-data/vertexai"}) {
    for (const auto& path : files_in(fixtures_dir() / folder)) {
      const std::string bytes = read_file(path);
      const auto reply = FakeGemini::recorded(bytes);
      EXPECT_EQ(fetch(reply, reply.status == 200 && !reply.chunks.empty()), bytes) << path;
    }
  }
}

}  // namespace
}  // namespace evolveai::ai
