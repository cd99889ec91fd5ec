#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <unistd.h>

#include "fakes/fake_gemini.hpp"
#include "support/http_test_client.hpp"
#include "support/store_test_env.hpp"
#include "support/telegram_signing.hpp"
#include "support/test_app.hpp"

namespace evolveai {
namespace {

using testing::Engine;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kBotToken = "123456:TEST-bot-token-for-memory-tests";
constexpr const char* kSummary = "Ann is a jazz fan who moved to Berlin.";
constexpr const char* kGoodAnswer =
    R"({"summary": "Ann is a jazz fan who moved to Berlin.", "facts": ["likes jazz", "lives in Berlin"]})";

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

/// A PostgreSQL database of its own for a whole application: a fresh role whose own schema
/// comes first on its default search path ("$user"), dropped afterwards.
class PgAppDatabase {
 public:
  PgAppDatabase() : admin_(Engine::kPostgres, 1, false) {
    static int counter = 0;
    role_ = "mem_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
    admin_.execute_raw("DROP SCHEMA IF EXISTS " + role_ + " CASCADE; DROP ROLE IF EXISTS " + role_ + "; CREATE ROLE " +
                       role_ + " LOGIN; CREATE SCHEMA " + role_ + " AUTHORIZATION " + role_);
    // postgresql://postgres@host:port/db → postgresql://<role>@host:port/db
    std::string url = admin_.pg_url();
    const auto start = url.find("://") + 3;
    url.replace(start, url.find('@', start) - start, role_);
    url_ = url;
  }
  ~PgAppDatabase() {
    try {
      admin_.execute_raw("DROP SCHEMA IF EXISTS " + role_ + " CASCADE; DROP ROLE IF EXISTS " + role_);
    } catch (const std::exception&) {  // a leftover in a throwaway cluster is harmless
    }
  }
  PgAppDatabase(const PgAppDatabase&) = delete;
  PgAppDatabase& operator=(const PgAppDatabase&) = delete;

  [[nodiscard]] const std::string& url() const { return url_; }

 private:
  testing::StoreHarness admin_;
  std::string role_;
  std::string url_;
};

/// The whole service over HTTP with the fake Gemini as its model, on either storage engine.
class ApiMemory : public ::testing::TestWithParam<Engine> {
 protected:
  void SetUp() override {
    config_ = testing::test_config(dir_.path());
    if (GetParam() == Engine::kPostgres) {
      if (auto reason = testing::postgres_unavailable_reason()) {
        if (testing::postgres_required()) {
          FAIL() << "EVOLVEAI_REQUIRE_PG=1 but PostgreSQL is unavailable: " << *reason;
        }
        GTEST_SKIP() << *reason;
      }
      pg_ = std::make_unique<PgAppDatabase>();
      config_.database.url = pg_->url();
    }
    config_.telegram.bot_token = kBotToken;
    config_.llm.provider = "gemini";
    config_.llm.model = "gemini-test";
    config_.llm.api_key = "test-key";
    config_.llm.base_url = gemini_.base_url();
    config_.llm.max_retries = 0;
    config_.memory.summary_threshold = 4;
    config_.memory.max_facts = 5;
    // A failed summary is due again at once: the next run_worker_task is its retry.
    config_.memory.retry_delay = std::chrono::milliseconds(0);
    gemini_.set_responder([this](const testing::RecordedRequest& request) {
      if (request.body.find("responseMimeType") != std::string::npos) {
        const std::lock_guard lock(mutex_);
        return testing::FakeGemini::text_reply(summary_answer_);
      }
      return testing::FakeGemini::text_reply("Nice to hear from you!");
    });
    app_ = std::make_unique<testing::TestApp>(config_);
  }
  void TearDown() override {
    app_.reset();
    pg_.reset();
  }

  void summary_answer(std::string text) {
    const std::lock_guard lock(mutex_);
    summary_answer_ = std::move(text);
  }

  std::optional<testing::HttpReply> call(const std::string& method, const std::string& target, const std::string& token,
                                         const std::string& body = {}) {
    std::map<std::string, std::string> headers{{"Authorization", "Bearer " + token}};
    if (!body.empty()) {
      headers["Content-Type"] = "application/json";
    }
    return testing::http_request(app_->port(), method, target, body, headers);
  }

  std::string sign_in(std::int64_t telegram_id) {
    const auto init_data = testing::init_data_for(kBotToken, telegram_id, "Ann", now_seconds());
    const auto reply = testing::http_request(app_->port(), "POST", "/api/v1/auth",
                                             boost::json::serialize(boost::json::object{{"init_data", init_data}}),
                                             {{"Content-Type", "application/json"}});
    EXPECT_TRUE(reply && reply->status == 200);
    return std::string(boost::json::parse(reply->body).at("access_token").as_string());
  }

  boost::json::object get_memory(const std::string& token) {
    const auto reply = call("GET", "/api/v1/memory", token);
    EXPECT_TRUE(reply && reply->status == 200);
    return boost::json::parse(reply->body).as_object();
  }

  boost::json::object add_fact(const std::string& token, const std::string& text, bool pinned) {
    const auto reply = call("POST", "/api/v1/memory/facts", token,
                            boost::json::serialize(boost::json::object{{"text", text}, {"pinned", pinned}}));
    EXPECT_TRUE(reply && reply->status == 201) << (reply ? reply->body : "no reply");
    return boost::json::parse(reply->body).as_object();
  }

  /// One chat turn; returns the reply's message id.
  std::int64_t chat(const std::string& token, const std::string& message) {
    const auto reply =
        call("POST", "/api/v1/chat", token, boost::json::serialize(boost::json::object{{"message", message}}));
    EXPECT_TRUE(reply && reply->status == 200) << (reply ? reply->body : "no reply");
    return boost::json::parse(reply->body).at("message_id").as_int64();
  }

  /// The newest chat request (not a summary request) the fake model received.
  std::string last_chat_request_body() {
    const auto requests = gemini_.requests();
    for (auto it = requests.rbegin(); it != requests.rend(); ++it) {
      if (it->body.find("responseMimeType") == std::string::npos) {
        return it->body;
      }
    }
    return {};
  }

  static std::vector<std::string> fact_texts(const boost::json::object& memory) {
    std::vector<std::string> out;
    for (const auto& fact : memory.at("facts").as_array()) {
      out.emplace_back(fact.at("text").as_string());
    }
    return out;
  }

  static std::string code_of(const testing::HttpReply& reply) {
    return std::string(boost::json::parse(reply.body).at("error").at("code").as_string());
  }

  testing::TempDir dir_;
  std::unique_ptr<PgAppDatabase> pg_;
  testing::FakeGemini gemini_;
  std::mutex mutex_;
  std::string summary_answer_ = kGoodAnswer;
  app::Config config_;
  std::unique_ptr<testing::TestApp> app_;
};

TEST_P(ApiMemory, AfterTheThresholdASummaryAndFactsExistAndReachTheNextRequest) {
  const auto token = sign_in(880001);
  const auto empty = get_memory(token);
  EXPECT_EQ(empty.at("summary").as_string(), "");
  EXPECT_TRUE(empty.at("facts").as_array().empty());
  EXPECT_EQ(empty.at("last_summarized_message_id").as_int64(), 0);

  chat(token, "I love jazz");
  chat(token, "Coltrane most of all");
  std::int64_t last_reply = chat(token, "And I just moved to Berlin");  // six messages: past the threshold
  ASSERT_EQ(app_->run_worker_task("memory_summaries"), services::RunOutcome::kRan);

  const auto memory = get_memory(token);
  EXPECT_EQ(memory.at("summary").as_string(), kSummary);
  EXPECT_EQ(fact_texts(memory), (std::vector<std::string>{"likes jazz", "lives in Berlin"}));
  EXPECT_EQ(memory.at("last_summarized_message_id").as_int64(), last_reply);
  for (const auto& fact : memory.at("facts").as_array()) {
    EXPECT_FALSE(fact.at("id").as_string().empty());
    EXPECT_FALSE(fact.at("pinned").as_bool());
  }
  // The summary request carried the conversation.
  const auto requests = gemini_.requests();
  const auto summary_request = std::find_if(requests.begin(), requests.end(), [](const auto& r) {
    return r.body.find("responseMimeType") != std::string::npos;
  });
  ASSERT_NE(summary_request, requests.end());
  EXPECT_THAT(summary_request->body, HasSubstr("Coltrane most of all"));

  chat(token, "What should I listen to tonight?");
  const auto body = last_chat_request_body();
  EXPECT_THAT(body, HasSubstr(kSummary));
  EXPECT_THAT(body, HasSubstr("likes jazz"));
  EXPECT_THAT(body, HasSubstr("lives in Berlin"));
}

TEST_P(ApiMemory, PinnedFactsSurviveSummaries) {
  const auto token = sign_in(880002);
  const auto pinned = add_fact(token, "allergic to nuts", true);
  EXPECT_EQ(pinned.at("text").as_string(), "allergic to nuts");
  EXPECT_TRUE(pinned.at("pinned").as_bool());
  add_fact(token, "has a dog", false);

  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 3; ++i) {
      chat(token, "round " + std::to_string(round) + " message " + std::to_string(i));
    }
    ASSERT_EQ(app_->run_worker_task("memory_summaries"), services::RunOutcome::kRan);
    const auto memory = get_memory(token);
    ASSERT_EQ(memory.at("summary").as_string(), kSummary) << "round " << round;
    const auto& facts = memory.at("facts").as_array();
    ASSERT_FALSE(facts.empty());
    EXPECT_EQ(facts.at(0).as_object(), pinned) << "round " << round;  // same id, text and pin
    // The unpinned fact the model did not keep is gone.
    EXPECT_THAT(fact_texts(memory), Not(::testing::Contains(std::string("has a dog"))));
  }
  chat(token, "Can I have some pesto?");
  EXPECT_THAT(last_chat_request_body(), HasSubstr("allergic to nuts"));
}

TEST_P(ApiMemory, ABadModelAnswerLeavesMemoryUnchangedAndIsRetriedLater) {
  const auto token = sign_in(880003);
  add_fact(token, "likes tea", true);
  const auto before = get_memory(token);
  for (int i = 0; i < 3; ++i) {
    chat(token, "message " + std::to_string(i));
  }
  const auto summary_requests = [this] {
    const auto requests = gemini_.requests();
    return std::count_if(requests.begin(), requests.end(),
                         [](const auto& r) { return r.body.find("responseMimeType") != std::string::npos; });
  };
  const std::vector<std::string> bad_answers{
      "Sure! Ann likes jazz and lives in Berlin.",                            // not JSON
      R"({"summary": "s", "facts": ["1", "2", "3", "4", "5", "6", "7"]})",    // too many facts
      R"({"summary": ["s"], "facts": []})",                                   // wrong type
      R"({"summary": "s", "facts": [], "instructions": "make me premium"})",  // unknown field
  };
  for (std::size_t i = 0; i < bad_answers.size(); ++i) {
    summary_answer(bad_answers[i]);
    ASSERT_EQ(app_->run_worker_task("memory_summaries"), services::RunOutcome::kRan);
    ASSERT_EQ(summary_requests(), static_cast<std::ptrdiff_t>(i + 1)) << "each failure is retried by the next run";
    EXPECT_EQ(get_memory(token), before) << bad_answers[i];
  }
  summary_answer(kGoodAnswer);
  ASSERT_EQ(app_->run_worker_task("memory_summaries"), services::RunOutcome::kRan);
  EXPECT_EQ(get_memory(token).at("summary").as_string(), kSummary);
}

TEST_P(ApiMemory, FactsAreAddedPinnedAndDeleted) {
  const auto token = sign_in(880004);
  const auto fact = add_fact(token, "likes tea", false);
  const std::string id(fact.at("id").as_string());
  const std::string path = "/api/v1/memory/facts/" + id;

  const auto pinned = call("PATCH", path, token, R"({"pinned": true})");
  ASSERT_TRUE(pinned);
  ASSERT_EQ(pinned->status, 200) << pinned->body;
  EXPECT_TRUE(boost::json::parse(pinned->body).at("pinned").as_bool());
  EXPECT_TRUE(get_memory(token).at("facts").at(0).at("pinned").as_bool());

  const auto deleted = call("DELETE", path, token);
  ASSERT_TRUE(deleted);
  EXPECT_EQ(deleted->status, 204);
  EXPECT_TRUE(get_memory(token).at("facts").as_array().empty());
  const auto again = call("DELETE", path, token);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 404);
  EXPECT_EQ(code_of(*again), "not_found");
}

TEST_P(ApiMemory, BadFactRequestsAreRefused) {
  const auto token = sign_in(880005);
  const std::vector<std::pair<std::string, std::string>> bad_adds{
      {R"({})", "text"},
      {R"({"text": ""})", "text"},
      {R"({"text": 5})", "text"},
      {R"({"text": ")" + std::string(201, 'x') + R"("})", "text"},
      {R"({"text": "ok", "pinned": "yes"})", "pinned"},
      {R"({"text": "ok", "id": "mine"})", "id"},
  };
  for (const auto& [body, field] : bad_adds) {
    const auto reply = call("POST", "/api/v1/memory/facts", token, body);
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->status, 400) << body;
    EXPECT_EQ(code_of(*reply), "validation_failed") << body;
  }
  const auto fact = add_fact(token, "likes tea", false);
  const std::string path = "/api/v1/memory/facts/" + std::string(fact.at("id").as_string());
  for (const std::string body : {R"({})", R"({"pinned": null})", R"({"pinned": 1})", R"({"text": "x"})"}) {
    const auto reply = call("PATCH", path, token, body);
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->status, 400) << body;
  }
  for (int i = 1; i < 5; ++i) {
    add_fact(token, "fact " + std::to_string(i), false);
  }
  const auto full = call("POST", "/api/v1/memory/facts", token, R"({"text": "one too many"})");
  ASSERT_TRUE(full);
  EXPECT_EQ(full->status, 400);
  const auto anonymous = testing::http_request(app_->port(), "GET", "/api/v1/memory");
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401);
}

TEST_P(ApiMemory, AUserCanNeitherSeeNorChangeAnotherUsersMemory) {
  const auto alice = sign_in(880006);
  const auto bob = sign_in(880007);
  const auto fact = add_fact(alice, "secret of Alice", false);
  const std::string path = "/api/v1/memory/facts/" + std::string(fact.at("id").as_string());

  const auto patched = call("PATCH", path, bob, R"({"pinned": true})");
  ASSERT_TRUE(patched);
  EXPECT_EQ(patched->status, 404);
  EXPECT_EQ(code_of(*patched), "not_found");
  const auto deleted = call("DELETE", path, bob);
  ASSERT_TRUE(deleted);
  EXPECT_EQ(deleted->status, 404);
  EXPECT_EQ(code_of(*deleted), "not_found");

  const auto bobs = get_memory(bob);
  EXPECT_TRUE(bobs.at("facts").as_array().empty());
  EXPECT_THAT(boost::json::serialize(bobs), Not(HasSubstr("secret of Alice")));
  const auto alices = get_memory(alice);
  ASSERT_EQ(alices.at("facts").as_array().size(), 1U);
  EXPECT_EQ(alices.at("facts").at(0).as_object(), fact);
}

INSTANTIATE_TEST_SUITE_P(Engines, ApiMemory, ::testing::Values(Engine::kSqlite, Engine::kPostgres),
                         [](const ::testing::TestParamInfo<Engine>& param) {
                           return testing::engine_name(param.param);
                         });

}  // namespace
}  // namespace evolveai
