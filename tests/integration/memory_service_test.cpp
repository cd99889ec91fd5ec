#include "services/memory_service.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "core/errors.hpp"
#include "obs/logger.hpp"
#include "obs/metrics.hpp"
#include "storage/store.hpp"
#include "support/store_test_env.hpp"

namespace evolveai::services {
namespace {

using namespace std::chrono_literals;
using storage::Fact;
using storage::UserId;
using testing::Engine;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::StoreHarness;

/// A chat model playing back scripted answers; `during_call`, when set, runs inside the
/// call (while the caller holds its job lease and memory version).
class ScriptedModel final : public ai::ChatModel {
 public:
  void answer(std::string text, ai::FinishReason reason = ai::FinishReason::kStop) {
    const std::lock_guard lock(mutex_);
    script_.push_back(Scripted{std::move(text), reason, false});
  }
  void fail() {
    const std::lock_guard lock(mutex_);
    script_.push_back(Scripted{"", ai::FinishReason::kStop, true});
  }

  Task<ai::ChatResult> generate(const ai::ChatRequest& request) override {
    Scripted next;
    {
      const std::lock_guard lock(mutex_);
      requests_.push_back(request);
      if (script_.empty()) {
        throw std::logic_error("the scripted model has no answer left");
      }
      next = script_.front();
      script_.pop_front();
    }
    if (during_call) {
      auto hook = std::move(during_call);
      during_call = nullptr;
      co_await hook();
    }
    if (next.fail) {
      throw ai::ModelError(ai::ModelFailure::kServer, "scripted 503", 503);
    }
    ai::ChatResult result;
    result.text = next.text;
    result.finish_reason = next.reason;
    result.raw_finish_reason = next.reason == ai::FinishReason::kStop ? "STOP" : "MAX_TOKENS";
    co_return result;
  }
  Task<ai::ChatResult> stream(const ai::ChatRequest& request, ai::DeltaHandler) override {
    co_return co_await generate(request);
  }
  [[nodiscard]] std::string name() const override { return "scripted:model"; }

  [[nodiscard]] std::size_t calls() const {
    const std::lock_guard lock(mutex_);
    return requests_.size();
  }
  [[nodiscard]] std::string last_prompt() const {
    const std::lock_guard lock(mutex_);
    return requests_.back().messages.at(0).parts.at(0).text;
  }

  std::function<Task<void>()> during_call;

 private:
  struct Scripted {
    std::string text;
    ai::FinishReason reason = ai::FinishReason::kStop;
    bool fail = false;
  };
  mutable std::mutex mutex_;
  std::deque<Scripted> script_;
  std::vector<ai::ChatRequest> requests_;
};

class MemoryServiceTest : public ::testing::TestWithParam<Engine> {
 protected:
  void SetUp() override {
    if (GetParam() == Engine::kPostgres) {
      if (auto reason = testing::postgres_unavailable_reason()) {
        if (testing::postgres_required()) {
          FAIL() << "EVOLVEAI_REQUIRE_PG=1 but PostgreSQL is unavailable: " << *reason;
        }
        GTEST_SKIP() << *reason;
      }
    }
    h_ = std::make_unique<StoreHarness>(GetParam());
    options_.summary_threshold = 4;
    options_.limits.max_facts = 5;
    options_.job_lease = 1min;
    options_.retry_delay = 10s;
    options_.max_attempts = 3;
    service_ = make_service(h_->store(), &model_);
    user_ = make_user(7001);
  }
  void TearDown() override {
    service_.reset();
    h_.reset();
  }

  std::unique_ptr<MemoryService> make_service(storage::Store& store, ai::ChatModel* model) {
    auto next = std::make_shared<int>(0);
    return std::make_unique<MemoryService>(
        store, model, options_, logger_, metrics_, [next] { return "id" + std::to_string(++*next); },
        h_->clock().as_clock());
  }

  template <typename T>
  T run(Task<T> task) {
    return h_->run(std::move(task));
  }

  UserId make_user(std::int64_t telegram_id) {
    return run(h_->store().upsert_user(storage::TelegramIdentity{telegram_id, "Ann", std::nullopt, "ann", "en"})).id;
  }

  void add_turns(UserId user, int turns) {
    for (int i = 0; i < turns; ++i) {
      storage::NewMessage said;
      said.user_id = user;
      said.content = "message " + std::to_string(++said_);
      const auto stored = run(h_->store().insert_message(said)).message;
      storage::NewMessage reply;
      reply.user_id = user;
      reply.role = storage::Role::kAssistant;
      reply.content = "reply " + std::to_string(said_);
      reply.reply_to_id = stored.id;
      run(h_->store().insert_message(reply));
    }
  }

  storage::Memory memory(UserId user) { return run(h_->store().get_memory(user)); }

  std::optional<storage::Job> job_of(UserId user) {
    // Jobs are numbered from 1 in each fresh database; find the user's by payload.
    for (storage::JobId id = 1; id < 50; ++id) {
      auto job = run(h_->store().find_job(id));
      if (job && job->payload.find("\"user_id\":" + std::to_string(user)) != std::string::npos) {
        return job;
      }
    }
    return std::nullopt;
  }

  std::unique_ptr<StoreHarness> h_;
  std::ostringstream log_;
  obs::Logger logger_{obs::LogLevel::kDebug, obs::Logger::Format::kJson, log_};
  obs::MetricsRegistry metrics_;
  MemoryOptions options_;
  ScriptedModel model_;
  std::unique_ptr<MemoryService> service_;
  UserId user_ = 0;
  int said_ = 0;
};

constexpr const char* kGoodAnswer =
    R"({"summary": "Ann talked about jazz.", "facts": ["likes jazz", "lives in Berlin"]})";

// --- summaries ---------------------------------------------------------------------------------

TEST_P(MemoryServiceTest, NothingHappensUntilMessagesPassTheThreshold) {
  add_turns(user_, 2);  // four messages: not more than the threshold
  EXPECT_EQ(run(service_->summarize(user_)), SummaryOutcome::kBelowThreshold);
  run(service_->note_turn(user_));
  EXPECT_EQ(run(service_->run_next_job("worker")), JobRun::kNone);
  EXPECT_EQ(model_.calls(), 0U);
  EXPECT_EQ(memory(user_).version, 0);
}

TEST_P(MemoryServiceTest, ASummaryWritesSummaryFactsAndBoundaryTogether) {
  add_turns(user_, 3);
  model_.answer(kGoodAnswer);
  EXPECT_EQ(run(service_->summarize(user_)), SummaryOutcome::kSummarized);

  const auto m = memory(user_);
  EXPECT_EQ(m.summary, "Ann talked about jazz.");
  EXPECT_EQ(m.facts, (std::vector<Fact>{{"id1", "likes jazz", false}, {"id2", "lives in Berlin", false}}));
  const auto newest = run(h_->store().recent_messages(user_, 1, std::nullopt));
  EXPECT_EQ(m.last_summarized_message_id, newest.at(0).id);
  EXPECT_THAT(model_.last_prompt(), HasSubstr("User: message 1\nAssistant: reply 1\n"));
  EXPECT_THAT(model_.last_prompt(), HasSubstr("User: message 3\nAssistant: reply 3\n"));
  // The boundary moved: the same messages are not summarised again.
  EXPECT_EQ(run(service_->summarize(user_)), SummaryOutcome::kBelowThreshold);
}

TEST_P(MemoryServiceTest, TheNextSummaryStartsFromTheOldOneAndKeepsFactIds) {
  add_turns(user_, 3);
  model_.answer(kGoodAnswer);
  ASSERT_EQ(run(service_->summarize(user_)), SummaryOutcome::kSummarized);
  add_turns(user_, 3);
  model_.answer(R"({"summary": "Ann moved.", "facts": ["lives in Berlin", "has a cat"]})");
  ASSERT_EQ(run(service_->summarize(user_)), SummaryOutcome::kSummarized);

  EXPECT_THAT(model_.last_prompt(), HasSubstr("Current summary:\nAnn talked about jazz."));
  EXPECT_THAT(model_.last_prompt(), Not(HasSubstr("message 3\n")));
  EXPECT_THAT(model_.last_prompt(), HasSubstr("User: message 4\n"));
  EXPECT_EQ(memory(user_).facts, (std::vector<Fact>{{"id2", "lives in Berlin", false}, {"id3", "has a cat", false}}));
}

TEST_P(MemoryServiceTest, PinnedFactsSurviveASummaryThatDropsThem) {
  const auto pinned = run(service_->add_fact(user_, "allergic to nuts", true));
  add_turns(user_, 3);
  model_.answer(kGoodAnswer);  // says nothing of nuts
  ASSERT_EQ(run(service_->summarize(user_)), SummaryOutcome::kSummarized);

  const auto m = memory(user_);
  ASSERT_FALSE(m.facts.empty());
  EXPECT_EQ(m.facts.front(), pinned);
  EXPECT_EQ(m.facts.size(), 3U);
  EXPECT_THAT(model_.last_prompt(), HasSubstr("Pinned facts (kept anyway):\n- allergic to nuts\n"));
}

TEST_P(MemoryServiceTest, AnUnpinnedFactTheModelDropsIsGone) {
  run(service_->add_fact(user_, "has a dog", false));
  add_turns(user_, 3);
  model_.answer(kGoodAnswer);
  ASSERT_EQ(run(service_->summarize(user_)), SummaryOutcome::kSummarized);
  for (const auto& fact : memory(user_).facts) {
    EXPECT_NE(fact.text, "has a dog");
  }
}

TEST_P(MemoryServiceTest, ABadAnswerLeavesMemoryUnchanged) {
  run(service_->add_fact(user_, "likes tea", true));
  const auto before = memory(user_);
  add_turns(user_, 3);
  for (const char* bad : {"Sure! Ann likes jazz.", R"({"summary": 5, "facts": []})",
                          R"({"summary": "s", "facts": ["1", "2", "3", "4", "5", "6"]})"}) {
    model_.answer(bad);
    EXPECT_THROW(run(service_->summarize(user_)), SummaryRejected) << bad;
  }
  model_.answer(kGoodAnswer, ai::FinishReason::kLength);  // cut off: not trusted either
  EXPECT_THROW(run(service_->summarize(user_)), SummaryRejected);
  model_.fail();
  EXPECT_THROW(run(service_->summarize(user_)), ai::ModelError);

  const auto after = memory(user_);
  EXPECT_EQ(after.version, before.version);
  EXPECT_EQ(after.summary, before.summary);
  EXPECT_EQ(after.facts, before.facts);
  EXPECT_EQ(after.last_summarized_message_id, before.last_summarized_message_id);
}

TEST_P(MemoryServiceTest, AFactEditDuringASummaryIsMergedNotLost) {
  run(service_->add_fact(user_, "has a dog", false));
  add_turns(user_, 3);
  model_.answer(R"({"summary": "s", "facts": ["has a dog", "likes jazz"]})");
  model_.during_call = [this]() -> Task<void> {
    // The user edits while the model is thinking: the summary's version is now stale.
    const auto dog = (co_await service_->get(user_)).facts.at(0);
    co_await service_->delete_fact(user_, dog.id);
    co_await service_->add_fact(user_, "plays chess", true);
  };
  ASSERT_EQ(run(service_->summarize(user_)), SummaryOutcome::kSummarized);
  const auto m = memory(user_);
  EXPECT_EQ(m.summary, "s");
  std::vector<std::string> texts;
  for (const auto& f : m.facts) {
    texts.push_back(f.text);
  }
  EXPECT_EQ(texts, (std::vector<std::string>{"plays chess", "likes jazz"}));
}

TEST_P(MemoryServiceTest, ForgettingEverythingDuringASummaryWins) {
  for (const bool had_memory : {true, false}) {
    const UserId user = make_user(had_memory ? 7101 : 7102);
    add_turns(user, 3);
    if (had_memory) {
      run(service_->add_fact(user, "likes tea", false));
    }
    model_.answer(kGoodAnswer);
    model_.during_call = [this, user]() -> Task<void> { co_await h_->store().delete_user_data(user); };
    EXPECT_EQ(run(service_->summarize(user)), SummaryOutcome::kSuperseded) << had_memory;
    const auto after = memory(user);
    EXPECT_EQ(after.version, 0) << had_memory;
    EXPECT_EQ(after.summary, "") << had_memory;
  }
}

TEST_P(MemoryServiceTest, WithoutAModelNothingIsQueuedOrSummarised) {
  const auto no_model = make_service(h_->store(), nullptr);
  add_turns(user_, 5);
  run(no_model->note_turn(user_));
  EXPECT_EQ(run(no_model->run_next_job("worker")), JobRun::kNone);
  EXPECT_EQ(run(no_model->summarize(user_)), SummaryOutcome::kNoModel);
  // Facts can still be edited.
  EXPECT_EQ(run(no_model->add_fact(user_, "likes tea", false)).text, "likes tea");
}

// --- the job ---------------------------------------------------------------------------------

TEST_P(MemoryServiceTest, TurnsQueueOneJobPerUserAndAWorkerRunsIt) {
  add_turns(user_, 3);
  run(service_->note_turn(user_));
  run(service_->note_turn(user_));  // deduplicated while the first is pending
  model_.answer(kGoodAnswer);
  EXPECT_EQ(run(service_->run_next_job("worker")), JobRun::kDone);
  EXPECT_EQ(run(service_->run_next_job("worker")), JobRun::kNone);
  EXPECT_EQ(model_.calls(), 1U);
  EXPECT_EQ(memory(user_).summary, "Ann talked about jazz.");
  const auto job = job_of(user_);
  ASSERT_TRUE(job.has_value());
  EXPECT_EQ(job->status, storage::JobStatus::kDone);
}

TEST_P(MemoryServiceTest, ARejectedAnswerFailsTheJobForALaterRetry) {
  add_turns(user_, 3);
  run(service_->note_turn(user_));
  model_.answer("not json at all");
  EXPECT_EQ(run(service_->run_next_job("worker")), JobRun::kFailed);
  const auto unchanged = memory(user_);
  EXPECT_EQ(unchanged.summary, "");
  EXPECT_TRUE(unchanged.facts.empty());
  EXPECT_EQ(unchanged.last_summarized_message_id, 0);
  auto job = job_of(user_);
  ASSERT_TRUE(job.has_value());
  EXPECT_EQ(job->status, storage::JobStatus::kPending);
  EXPECT_EQ(job->attempts, 1);
  EXPECT_THAT(job->last_error.value_or(""), HasSubstr("not JSON"));
  EXPECT_EQ(job->run_after, h_->clock().now() + options_.retry_delay);
  // Not due yet; after the delay a worker tries again and succeeds.
  EXPECT_EQ(run(service_->run_next_job("worker")), JobRun::kNone);
  h_->clock().advance(options_.retry_delay);
  model_.answer(kGoodAnswer);
  EXPECT_EQ(run(service_->run_next_job("worker")), JobRun::kDone);
  EXPECT_EQ(memory(user_).summary, "Ann talked about jazz.");
  EXPECT_EQ(job_of(user_)->status, storage::JobStatus::kDone);
}

TEST_P(MemoryServiceTest, AJobThatKeepsFailingIsGivenUpAndTheNextTurnQueuesAnother) {
  add_turns(user_, 3);
  run(service_->note_turn(user_));
  for (int attempt = 0; attempt < options_.max_attempts; ++attempt) {
    model_.fail();
    ASSERT_EQ(run(service_->run_next_job("worker")), JobRun::kFailed);
    h_->clock().advance(1h);
  }
  const auto job = job_of(user_);
  ASSERT_TRUE(job.has_value());
  EXPECT_EQ(job->status, storage::JobStatus::kFailed);
  EXPECT_EQ(run(service_->run_next_job("worker")), JobRun::kNone);
  run(service_->note_turn(user_));
  model_.answer(kGoodAnswer);
  EXPECT_EQ(run(service_->run_next_job("worker")), JobRun::kDone);
  EXPECT_EQ(memory(user_).summary, "Ann talked about jazz.");
}

TEST_P(MemoryServiceTest, TwoWorkersNeverSummariseOneUserAtOnce) {
  auto other_node_store = h_->open_another();
  ScriptedModel other_model;
  const auto other_node = make_service(*other_node_store, &other_model);
  add_turns(user_, 3);
  run(service_->note_turn(user_));
  run(other_node->note_turn(user_));  // the other node's turn finds the job already queued

  JobRun other_found_work = JobRun::kDone;
  model_.answer(kGoodAnswer);
  model_.during_call = [&]() -> Task<void> {
    // While this worker is inside the model call, the other node's worker looks for work.
    other_found_work = co_await other_node->run_next_job("worker-b");
  };
  EXPECT_EQ(run(service_->run_next_job("worker-a")), JobRun::kDone);
  EXPECT_EQ(other_found_work, JobRun::kNone);
  EXPECT_EQ(other_model.calls(), 0U);
  EXPECT_EQ(model_.calls(), 1U);
  EXPECT_EQ(memory(user_).summary, "Ann talked about jazz.");
}

TEST_P(MemoryServiceTest, AWorkerWhoseLeaseRanOutCannotOverwriteTheNextOnesSummary) {
  auto other_node_store = h_->open_another();
  ScriptedModel other_model;
  const auto other_node = make_service(*other_node_store, &other_model);
  add_turns(user_, 3);
  run(service_->note_turn(user_));

  model_.answer(R"({"summary": "slow", "facts": []})");
  other_model.answer(R"({"summary": "fast", "facts": []})");
  JobRun other_ran = JobRun::kNone;
  model_.during_call = [&]() -> Task<void> {
    // This worker stalls past its lease; the other node takes the job over and finishes it.
    h_->clock().advance(options_.job_lease + 1s);
    other_ran = co_await other_node->run_next_job("worker-b");
  };
  EXPECT_EQ(run(service_->run_next_job("worker-a")), JobRun::kDone);
  EXPECT_EQ(other_ran, JobRun::kDone);
  const auto m = memory(user_);
  EXPECT_EQ(m.summary, "fast");
  EXPECT_EQ(m.last_summarized_message_id, run(h_->store().recent_messages(user_, 1, std::nullopt)).at(0).id);
  EXPECT_EQ(job_of(user_)->status, storage::JobStatus::kDone);
}

// --- fact editing ------------------------------------------------------------------------------

TEST_P(MemoryServiceTest, FactsAreAddedPinnedAndDeletedById) {
  const auto tea = run(service_->add_fact(user_, "  likes tea ", false));
  EXPECT_EQ(tea, (Fact{"id1", "likes tea", false}));
  EXPECT_EQ(run(service_->set_pinned(user_, tea.id, true)), (Fact{"id1", "likes tea", true}));
  const auto again = run(service_->add_fact(user_, "likes tea", false));  // the same text: the same fact
  EXPECT_EQ(again, (Fact{"id1", "likes tea", true}));
  run(service_->add_fact(user_, "has a cat", false));
  run(service_->delete_fact(user_, tea.id));
  EXPECT_EQ(memory(user_).facts, (std::vector<Fact>{{"id2", "has a cat", false}}));
}

TEST_P(MemoryServiceTest, AnotherUsersFactIdIsNotFound) {
  const auto fact = run(service_->add_fact(user_, "likes tea", false));
  const UserId mallory = make_user(7002);
  const auto expect_not_found = [&](auto task) {
    try {
      run(std::move(task));
      ADD_FAILURE() << "expected not_found";
    } catch (const core::Error& e) {
      EXPECT_EQ(e.code(), "not_found");
    }
  };
  expect_not_found(service_->delete_fact(mallory, fact.id));
  expect_not_found(service_->set_pinned(mallory, fact.id, true));
  expect_not_found(service_->delete_fact(user_, "unknown"));
  EXPECT_EQ(memory(user_).facts, (std::vector<Fact>{fact}));
  EXPECT_TRUE(memory(mallory).facts.empty());
}

TEST_P(MemoryServiceTest, FactLimitsAreEnforced) {
  EXPECT_THROW(run(service_->add_fact(user_, std::string(options_.limits.max_fact_chars + 1, 'x'), false)),
               core::Error);
  for (std::size_t i = 0; i < options_.limits.max_facts; ++i) {
    run(service_->add_fact(user_, "fact " + std::to_string(i), false));
  }
  try {
    run(service_->add_fact(user_, "one too many", false));
    ADD_FAILURE() << "expected validation_failed";
  } catch (const core::Error& e) {
    EXPECT_EQ(e.code(), "validation_failed");
  }
  EXPECT_EQ(memory(user_).facts.size(), options_.limits.max_facts);
}

TEST_P(MemoryServiceTest, ConcurrentFactEditsAreAllKept) {
  const std::vector<std::string> texts{"fact 0", "fact 1", "fact 2", "fact 3"};  // outlive the adds
  std::vector<std::future<Fact>> adds;
  for (const auto& text : texts) {
    adds.push_back(boost::asio::co_spawn(h_->io(), service_->add_fact(user_, text, false), boost::asio::use_future));
  }
  for (auto& f : adds) {
    f.get();
  }
  EXPECT_EQ(memory(user_).facts.size(), 4U);
}

INSTANTIATE_TEST_SUITE_P(Engines, MemoryServiceTest, ::testing::Values(Engine::kSqlite, Engine::kPostgres),
                         [](const ::testing::TestParamInfo<Engine>& param) {
                           return testing::engine_name(param.param);
                         });

}  // namespace
}  // namespace evolveai::services
