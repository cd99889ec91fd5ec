#include "services/history_service.hpp"

#include <fmt/format.h>

#include "core/errors.hpp"
#include "core/utf8.hpp"
#include "storage/store.hpp"

namespace evolveai::services {

HistoryService::HistoryService(storage::Store& store, HistoryLimits limits) : store_(store), limits_(limits) {}

Task<storage::HistoryPage> HistoryService::page(storage::UserId user_id, std::optional<storage::MessageId> before_id,
                                                std::size_t limit) {
  if (limit < 1 || limit > limits_.max_page) {
    throw core::validation_failed("limit", fmt::format("'limit' must be between 1 and {}", limits_.max_page));
  }
  if (before_id && *before_id < 1) {
    throw core::validation_failed("before_id", "'before_id' must be a positive message id");
  }
  co_return co_await store_.history_page(user_id, before_id, limit);
}

Task<std::vector<storage::SearchHit>> HistoryService::search(storage::UserId user_id, std::string_view text,
                                                             std::size_t limit) {
  if (!core::is_valid_utf8(text)) {
    throw core::validation_failed("q", "'q' must be valid UTF-8");
  }
  const std::size_t length = core::utf8_length(text);
  if (length < 1 || length > limits_.max_query_chars) {
    throw core::validation_failed("q", fmt::format("'q' must be 1 to {} characters long", limits_.max_query_chars));
  }
  if (limit < 1 || limit > limits_.max_search_results) {
    throw core::validation_failed("limit", fmt::format("'limit' must be between 1 and {}", limits_.max_search_results));
  }
  co_return co_await store_.search_messages(user_id, text, limit);
}

Task<storage::DeletedUserData> HistoryService::forget(storage::UserId user_id) {
  co_return co_await store_.delete_user_data(user_id);
}

Task<storage::UserExport> HistoryService::export_data(storage::UserId user_id) {
  auto data = co_await store_.export_user_data(user_id);
  if (!data) {
    throw core::not_found("No such user");
  }
  co_return std::move(*data);
}

}  // namespace evolveai::services
