#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "ai/chat_model.hpp"
#include "core/task.hpp"
#include "services/memory_summary.hpp"
#include "storage/records.hpp"

namespace evolveai::obs {
class Counter;
class Logger;
class MetricsRegistry;
}  // namespace evolveai::obs

namespace evolveai::storage {
class Store;
}

namespace evolveai::services {

/// How memory grows and how its background job runs; from `[memory]`.
struct MemoryOptions {
  MemoryLimits limits;
  /// A summary is made once more than this many messages follow the summary's boundary.
  std::int64_t summary_threshold = 20;
  /// Most messages folded by one summary (older ones first; the rest wait for the next).
  std::size_t max_messages_per_summary = 100;
  /// How long a worker holds a summarize job; longer than one model call may take.
  std::chrono::milliseconds job_lease = std::chrono::minutes(5);
  /// Wait before a failed summarize job is tried again (doubled per attempt).
  std::chrono::milliseconds retry_delay = std::chrono::minutes(1);
  /// Attempts of one summarize job before it is given up (the next turn queues a new one).
  std::int64_t max_attempts = 5;
  /// Writes tried when another writer changed the memory meanwhile.
  int write_attempts = 5;
};

/// What one summarize call came to.
enum class SummaryOutcome {
  kSummarized,      ///< a new summary and facts were written
  kBelowThreshold,  ///< not enough new messages
  kNoModel,         ///< no model configured: nothing to do
  kSuperseded,      ///< another writer moved the boundary meanwhile; its summary stands
};

/// The stable name of an outcome ("summarized", "below_threshold", "no_model", "superseded").
[[nodiscard]] const char* to_string(SummaryOutcome outcome) noexcept;

/// What one MemoryService::run_next_job call did.
enum class JobRun {
  kNone,    ///< no job was due
  kDone,    ///< a job ran and is done
  kFailed,  ///< a job ran and failed; it is due again later (or given up)
};

/// The model's answer broke the rules (not JSON, wrong types, too long, too many facts, or
/// no clean finish): memory is left unchanged and the job is tried again later.
class SummaryRejected : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Where MemoryService reads the time.
using MemoryClock = std::function<storage::Time()>;

/// What the companion remembers about a user: the user's own fact edits (add, delete, pin)
/// and the rolling summary a leased background job ("summarize", one per user at a time)
/// asks the model for once enough new messages have piled up. Every write goes through
/// Store::write_memory with its version check and is retried on a conflict, so concurrent
/// edits and summaries never overwrite each other. Knows nothing of HTTP.
class MemoryService {
 public:
  /// The job kind this service queues and runs.
  static constexpr std::string_view kJobKind = "summarize";

  /// `model` may be null (no provider configured): summaries are then skipped. `new_fact_id`
  /// and `clock` default to random ids and the system clock; tests inject their own.
  MemoryService(storage::Store& store, ai::ChatModel* model, MemoryOptions options, obs::Logger& logger,
                obs::MetricsRegistry& metrics, FactIdSource new_fact_id = {}, MemoryClock clock = {});

  /// The user's memory (empty for a user with none yet).
  Task<storage::Memory> get(storage::UserId user_id);
  /// Adds a fact (validated, trimmed); an existing fact with the same text is returned instead
  /// (and pinned when asked). 400 `validation_failed` for bad text or when max_facts are held.
  Task<storage::Fact> add_fact(storage::UserId user_id, std::string_view text, bool pinned);
  /// Deletes one of the user's facts; 404 `not_found` when the user has no fact with this id.
  Task<void> delete_fact(storage::UserId user_id, std::string_view fact_id);
  /// Pins or unpins one of the user's facts; 404 `not_found` when there is no such fact.
  Task<storage::Fact> set_pinned(storage::UserId user_id, std::string_view fact_id, bool pinned);

  /// After a stored reply: queues a summarize job for the user (at most one pending or running
  /// per user) when more than summary_threshold messages follow the boundary. Throws
  /// StoreError when the store fails.
  Task<void> note_turn(storage::UserId user_id);
  /// Folds the unsummarised messages into the summary and updates the facts when there are
  /// more than summary_threshold of them; pinned facts are kept; summary, facts and boundary
  /// are written together with a version check. Throws SummaryRejected for a bad answer and
  /// ai::ModelError when the model fails; memory is then unchanged.
  Task<SummaryOutcome> summarize(storage::UserId user_id);
  /// Leases the next due summarize job as `owner` and runs it: done on success, back to
  /// pending with a growing delay on failure (failed for good after max_attempts).
  Task<JobRun> run_next_job(std::string_view owner);

  [[nodiscard]] const MemoryOptions& options() const noexcept { return options_; }

 private:
  /// Reads the memory, lets `edit` change its facts and writes it back, retrying on conflicts.
  /// `edit` returns false to leave the memory unwritten.
  using FactEdit = std::function<bool(std::vector<storage::Fact>&)>;
  Task<void> edit_facts(storage::UserId user_id, const FactEdit& edit);
  std::string random_fact_id();

  storage::Store& store_;
  ai::ChatModel* model_;
  MemoryOptions options_;
  obs::Logger& logger_;
  FactIdSource new_fact_id_;
  MemoryClock clock_;
  std::mutex random_mutex_;
  std::mt19937_64 random_;
  obs::Counter* summarized_;
  obs::Counter* rejected_;
  obs::Counter* model_failed_;
  obs::Counter* jobs_queued_;
};

}  // namespace evolveai::services
