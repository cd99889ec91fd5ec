#include "services/memory_service.hpp"

#include <boost/json.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <optional>
#include <utility>
#include <vector>

#include "core/errors.hpp"
#include "obs/logger.hpp"
#include "obs/metrics.hpp"
#include "storage/store.hpp"
#include "storage/store_error.hpp"

namespace evolveai::services {
namespace {

constexpr std::size_t kFactIdChars = 10;
constexpr std::string_view kIdAlphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
/// The retry delay doubles per attempt up to this many times.
constexpr std::int64_t kMaxBackoffDoublings = 6;

std::string job_payload(storage::UserId user_id) {
  return boost::json::serialize(boost::json::object{{"user_id", user_id}});
}

std::optional<storage::UserId> payload_user(std::string_view payload) {
  boost::system::error_code ec;
  const auto value = boost::json::parse(payload, ec);
  if (ec || !value.is_object()) {
    return std::nullopt;
  }
  const auto* user = value.as_object().if_contains("user_id");
  if (user == nullptr || !user->is_int64() || user->as_int64() <= 0) {
    return std::nullopt;
  }
  return user->as_int64();
}

std::string dedupe_key(storage::UserId user_id) {
  return fmt::format("{}:{}", MemoryService::kJobKind, user_id);
}

}  // namespace

const char* to_string(SummaryOutcome outcome) noexcept {
  switch (outcome) {
    case SummaryOutcome::kSummarized: return "summarized";
    case SummaryOutcome::kBelowThreshold: return "below_threshold";
    case SummaryOutcome::kNoModel: return "no_model";
    case SummaryOutcome::kSuperseded: return "superseded";
  }
  return "unknown";
}

MemoryService::MemoryService(storage::Store& store, ai::ChatModel* model, MemoryOptions options, obs::Logger& logger,
                             obs::MetricsRegistry& metrics, FactIdSource new_fact_id, MemoryClock clock)
    : store_(store),
      model_(model),
      options_(options),
      logger_(logger),
      new_fact_id_(std::move(new_fact_id)),
      clock_(std::move(clock)),
      random_(std::random_device{}()) {
  if (!new_fact_id_) {
    new_fact_id_ = [this] { return random_fact_id(); };
  }
  if (!clock_) {
    clock_ = [] { return std::chrono::system_clock::now(); };
  }
  auto& summaries = metrics.counter("evolveai_memory_summaries_total", "Memory summaries by outcome", {"outcome"});
  summarized_ = &summaries.with({"summarized"});
  rejected_ = &summaries.with({"rejected"});
  model_failed_ = &summaries.with({"model_failed"});
  jobs_queued_ =
      &metrics.counter("evolveai_memory_summary_jobs_queued_total", "Summarize jobs queued after chat turns").with();
  if (model_ == nullptr) {
    logger_.info("memory_summaries_off", {{"reason", "no model configured (llm.provider); facts can still be edited"}});
  }
}

std::string MemoryService::random_fact_id() {
  std::uniform_int_distribution<std::size_t> pick(0, kIdAlphabet.size() - 1);
  std::string id(kFactIdChars, '0');
  const std::lock_guard lock(random_mutex_);
  for (auto& c : id) {
    c = kIdAlphabet[pick(random_)];
  }
  return id;
}

Task<storage::Memory> MemoryService::get(storage::UserId user_id) {
  co_return co_await store_.get_memory(user_id);
}

Task<void> MemoryService::edit_facts(storage::UserId user_id, const FactEdit& edit) {
  for (int attempt = 0; attempt < options_.write_attempts; ++attempt) {
    const storage::Memory memory = co_await store_.get_memory(user_id);
    storage::MemoryWrite write{user_id, memory.version, memory.summary, memory.facts,
                               memory.last_summarized_message_id};
    if (!edit(write.facts)) {
      co_return;
    }
    if (co_await store_.write_memory(write)) {
      co_return;
    }
  }
  throw core::conflict("Memory is being changed right now; try again");
}

Task<storage::Fact> MemoryService::add_fact(storage::UserId user_id, std::string_view text, bool pinned) {
  const std::string checked = checked_fact_text(text, options_.limits);
  const std::size_t max_facts = options_.limits.max_facts;
  storage::Fact added;
  // Named, not a temporary inside co_await (GCC 12 coroutine bug).
  const FactEdit edit = [&](std::vector<storage::Fact>& facts) {
    const auto same = std::find_if(facts.begin(), facts.end(), [&](const auto& f) { return f.text == checked; });
    if (same != facts.end()) {
      const bool changed = pinned && !same->pinned;
      same->pinned = same->pinned || pinned;
      added = *same;
      return changed;
    }
    if (facts.size() >= max_facts) {
      throw core::validation_failed("text", fmt::format("At most {} facts can be kept; delete one first", max_facts));
    }
    std::string id = new_fact_id_();
    while (std::any_of(facts.begin(), facts.end(), [&](const auto& f) { return f.id == id; })) {
      id = new_fact_id_();
    }
    added = storage::Fact{std::move(id), checked, pinned};
    facts.push_back(added);
    return true;
  };
  co_await edit_facts(user_id, edit);
  co_return added;
}

Task<void> MemoryService::delete_fact(storage::UserId user_id, std::string_view fact_id) {
  // Named, not a temporary inside co_await (GCC 12 coroutine bug).
  const FactEdit edit = [&](std::vector<storage::Fact>& facts) {
    const auto found = std::find_if(facts.begin(), facts.end(), [&](const auto& f) { return f.id == fact_id; });
    if (found == facts.end()) {
      throw core::not_found("No such fact");
    }
    facts.erase(found);
    return true;
  };
  co_await edit_facts(user_id, edit);
}

Task<storage::Fact> MemoryService::set_pinned(storage::UserId user_id, std::string_view fact_id, bool pinned) {
  storage::Fact result;
  // Named, not a temporary inside co_await (GCC 12 coroutine bug).
  const FactEdit edit = [&](std::vector<storage::Fact>& facts) {
    const auto found = std::find_if(facts.begin(), facts.end(), [&](const auto& f) { return f.id == fact_id; });
    if (found == facts.end()) {
      throw core::not_found("No such fact");
    }
    const bool changed = found->pinned != pinned;
    found->pinned = pinned;
    result = *found;
    return changed;
  };
  co_await edit_facts(user_id, edit);
  co_return result;
}

Task<void> MemoryService::note_turn(storage::UserId user_id) {
  if (model_ == nullptr) {
    co_return;
  }
  const storage::Memory memory = co_await store_.get_memory(user_id);
  const std::int64_t pending = co_await store_.count_messages(user_id, memory.last_summarized_message_id);
  if (pending <= options_.summary_threshold) {
    co_return;
  }
  storage::NewJob job;
  job.kind = std::string(kJobKind);
  job.payload = job_payload(user_id);
  job.dedupe_key = dedupe_key(user_id);
  const auto queued = co_await store_.enqueue_job(job);
  if (queued) {
    jobs_queued_->inc();
    logger_.debug("memory_summary_queued", {{"user_id", user_id}, {"job_id", *queued}, {"messages", pending}});
  }
}

Task<SummaryOutcome> MemoryService::summarize(storage::UserId user_id) {
  if (model_ == nullptr) {
    co_return SummaryOutcome::kNoModel;
  }
  storage::Memory base = co_await store_.get_memory(user_id);
  const std::int64_t pending = co_await store_.count_messages(user_id, base.last_summarized_message_id);
  if (pending <= options_.summary_threshold) {
    co_return SummaryOutcome::kBelowThreshold;
  }
  if (base.version == 0) {
    // The summary is written over an existing row, so that "forget everything" (which
    // deletes the row) during the model call makes its write conflict instead of bringing
    // the forgotten conversation back as a new summary.
    const storage::MemoryWrite empty{user_id, 0, "", {}, 0};
    co_await store_.write_memory(empty);
    base = co_await store_.get_memory(user_id);
  }
  const auto batch =
      co_await store_.messages_after(user_id, base.last_summarized_message_id, options_.max_messages_per_summary);
  if (batch.empty()) {
    co_return SummaryOutcome::kBelowThreshold;
  }
  const storage::MessageId boundary = batch.back().id;
  // Failed turns' messages move the boundary but are not shown: they never had an answer.
  std::vector<storage::Message> shown;
  std::copy_if(batch.begin(), batch.end(), std::back_inserter(shown),
               [](const storage::Message& m) { return m.status != storage::MessageStatus::kFailed; });

  const ai::ChatRequest request = summary_request(base, shown, options_.limits);
  ai::ChatResult result;
  try {
    result = co_await model_->generate(request);
  } catch (const ai::ModelError&) {
    model_failed_->inc();
    throw;
  }
  if (result.blocked || result.finish_reason != ai::FinishReason::kStop) {
    rejected_->inc();
    throw SummaryRejected(fmt::format("the model did not finish cleanly ({})",
                                      result.blocked ? result.block_reason : result.raw_finish_reason));
  }
  SummaryCheck check = check_summary_answer(result.text, options_.limits);
  if (!check.answer) {
    rejected_->inc();
    throw SummaryRejected(check.problem);
  }
  const SummaryAnswer& answer = *check.answer;

  storage::Memory current = base;
  for (int attempt = 0; attempt < options_.write_attempts; ++attempt) {
    storage::MemoryWrite write{
        user_id, current.version, answer.summary,
        merge_facts(base.facts, current.facts, answer.facts, options_.limits.max_facts, new_fact_id_), boundary};
    const auto written = co_await store_.write_memory(write);
    if (written) {
      summarized_->inc();
      logger_.info("memory_summarized", {{"user_id", user_id},
                                         {"messages", batch.size()},
                                         {"facts", write.facts.size()},
                                         {"boundary", boundary},
                                         {"version", *written}});
      co_return SummaryOutcome::kSummarized;
    }
    // Someone wrote meanwhile. A fact edit is merged in on the next attempt; a moved
    // boundary (another summary) or forgotten memory means this summary is stale.
    current = co_await store_.get_memory(user_id);
    if (current.version == 0 || current.last_summarized_message_id != base.last_summarized_message_id) {
      co_return SummaryOutcome::kSuperseded;
    }
  }
  throw storage::StoreError(storage::StoreErrorKind::kTransient, "memory.write",
                            "memory kept changing during the summary");
}

Task<JobRun> MemoryService::run_next_job(std::string_view owner) {
  const std::vector<std::string> kinds{std::string(kJobKind)};
  const auto job = co_await store_.lease_job(kinds, owner, options_.job_lease);
  if (!job) {
    co_return JobRun::kNone;
  }
  const auto user_id = payload_user(job->payload);
  if (!user_id) {
    logger_.error("memory_job_bad_payload", {{"job_id", job->id}});
    co_await store_.fail_job(job->id, owner, "bad payload", std::nullopt);
    co_return JobRun::kFailed;
  }

  std::string error;
  bool retryable = true;
  try {
    const SummaryOutcome outcome = co_await summarize(*user_id);
    logger_.debug("memory_job_done", {{"job_id", job->id}, {"user_id", *user_id}, {"outcome", to_string(outcome)}});
  } catch (const SummaryRejected& e) {
    error = std::string("rejected answer: ") + e.what();
  } catch (const ai::ModelError& e) {
    error = "model failed: " + e.log_message();
    retryable = e.retryable() || e.failure() == ai::ModelFailure::kUnavailable;
  } catch (const storage::StoreError& e) {
    error = std::string("store failed: ") + e.what();
  }
  if (error.empty()) {
    if (!co_await store_.complete_job(job->id, owner)) {
      logger_.warn("memory_job_lease_lost", {{"job_id", job->id}, {"user_id", *user_id}});
    }
    co_return JobRun::kDone;
  }

  std::optional<storage::Time> retry_at;
  if (retryable && job->attempts < options_.max_attempts) {
    const std::int64_t doublings = std::min<std::int64_t>(job->attempts - 1, kMaxBackoffDoublings);
    retry_at = clock_() + options_.retry_delay * (std::int64_t{1} << std::max<std::int64_t>(doublings, 0));
  }
  logger_.warn("memory_job_failed", {{"job_id", job->id},
                                     {"user_id", *user_id},
                                     {"attempt", job->attempts},
                                     {"retry", retry_at.has_value()},
                                     {"error", std::string_view(error)}});
  co_await store_.fail_job(job->id, owner, error, retry_at);
  co_return JobRun::kFailed;
}

}  // namespace evolveai::services
