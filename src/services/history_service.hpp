#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/task.hpp"
#include "storage/records.hpp"

namespace evolveai::storage {
class Store;
}

namespace evolveai::services {

/// Limits of what a client may ask of its history.
struct HistoryLimits {
  std::size_t max_page = 100;           ///< messages per history page
  std::size_t max_search_results = 50;  ///< results per search
  std::size_t max_query_chars = 200;    ///< characters of a search query
};

/// A user's own chat history: pages, full-text search, forgetting and export. Every call is
/// scoped to the one user it is given; nothing here can reach another user's rows.
class HistoryService {
 public:
  explicit HistoryService(storage::Store& store, HistoryLimits limits = {});

  /// Messages newest first, older than `before_id` when given; `limit` 1..max_page.
  Task<storage::HistoryPage> page(storage::UserId user_id, std::optional<storage::MessageId> before_id,
                                  std::size_t limit);
  /// Full-text search; `text` 1..max_query_chars characters of valid UTF-8 (any such text is a
  /// valid query), `limit` 1..max_search_results; 400 `validation_failed` otherwise.
  Task<std::vector<storage::SearchHit>> search(storage::UserId user_id, std::string_view text, std::size_t limit);
  /// Forgets the user's messages, summary and facts.
  Task<storage::DeletedUserData> forget(storage::UserId user_id);
  /// All of the user's data; 404 `not_found` when the user no longer exists.
  Task<storage::UserExport> export_data(storage::UserId user_id);

  [[nodiscard]] const HistoryLimits& limits() const noexcept { return limits_; }

 private:
  storage::Store& store_;
  HistoryLimits limits_;
};

}  // namespace evolveai::services
