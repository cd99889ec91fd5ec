#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ai/chat_model.hpp"
#include "storage/records.hpp"

namespace evolveai::services {

// The summarisation policy, free of I/O: what the model is asked, how strictly its answer
// is checked, and how its facts are merged with the user's own edits.

/// Bounds on what memory may hold; from `[memory]`.
struct MemoryLimits {
  std::size_t max_facts = 20;
  std::size_t max_fact_chars = 200;      ///< Unicode characters
  std::size_t max_summary_chars = 2000;  ///< Unicode characters
};

/// A model's answer that passed every check.
struct SummaryAnswer {
  std::string summary;
  std::vector<std::string> facts;
};

/// The outcome of checking a model's answer: the answer, or what was wrong with it.
struct SummaryCheck {
  std::optional<SummaryAnswer> answer;
  std::string problem;  ///< for logs and the job's last error; empty when `answer` is set
};

/// The JSON Schema handed to the model (an object with `summary` and `facts`).
[[nodiscard]] std::string summary_schema(const MemoryLimits& limits);

/// The request that asks the model to fold `messages` (oldest first) into the memory's
/// summary and to update its facts; pinned facts are shown as kept anyway.
[[nodiscard]] ai::ChatRequest summary_request(const storage::Memory& memory,
                                              const std::vector<storage::Message>& messages,
                                              const MemoryLimits& limits);

/// Checks a model's reply text strictly: one JSON object (a surrounding ```json fence is
/// tolerated) with exactly `summary` (a non-blank string of at most max_summary_chars) and
/// `facts` (at most max_facts strings of 1..max_fact_chars); text valid UTF-8 without NUL or
/// other control characters but newlines and tabs in the summary. Facts are trimmed and
/// exact repeats removed.
[[nodiscard]] SummaryCheck check_summary_answer(std::string_view text, const MemoryLimits& limits);

/// Checks a fact a user adds: trimmed, 1..max_fact_chars characters, valid UTF-8, no control
/// characters. Returns the trimmed text; throws core::validation_failed("text").
[[nodiscard]] std::string checked_fact_text(std::string_view text, const MemoryLimits& limits);

/// Makes a fresh fact id.
using FactIdSource = std::function<std::string()>;

/// The facts a summary leaves, given the facts it was computed from (`base`), the facts stored
/// now (`current`, which differs from `base` when the user edited them meanwhile) and the
/// model's list. Pinned facts of `current` are always kept, first; facts the user added since
/// `base` are kept; a model fact equal to a current fact keeps that fact's id and pin; a
/// model fact equal to one the user deleted since `base` stays deleted; other model facts get
/// a new id. At most `max_facts` facts, but pinned ones are never dropped.
[[nodiscard]] std::vector<storage::Fact> merge_facts(const std::vector<storage::Fact>& base,
                                                     const std::vector<storage::Fact>& current,
                                                     const std::vector<std::string>& model_facts, std::size_t max_facts,
                                                     const FactIdSource& new_id);

}  // namespace evolveai::services
