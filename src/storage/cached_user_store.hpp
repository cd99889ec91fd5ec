#pragma once

#include <atomic>
#include <chrono>
#include <memory>

#include "storage/store.hpp"

namespace evolveai::cache {
class Cache;
}  // namespace evolveai::cache

namespace evolveai::storage {

/// A Store that keeps users read by id in a cache (in process, or Redis shared by every node)
/// and erases a user's entry after every call that changes the user's row, so callers above it
/// cannot forget an invalidation. Everything else goes straight to the wrapped store.
/// A new Store method must be forwarded here too (and invalidate when it changes a user).
class CachedUserStore final : public Store {
 public:
  /// Wraps `inner`; entries live at most `ttl` (a bound on staleness should an erase be lost).
  CachedUserStore(std::unique_ptr<Store> inner, cache::Cache& cache, std::chrono::milliseconds ttl);
  /// Wraps a store owned elsewhere, which must outlive this one.
  CachedUserStore(Store& inner, cache::Cache& cache, std::chrono::milliseconds ttl);

  [[nodiscard]] std::string_view dialect() const noexcept override { return inner_.dialect(); }

  Task<std::optional<User>> find_user(UserId user_id) override;
  Task<User> upsert_user(const TelegramIdentity& identity) override;
  Task<bool> update_user_settings(UserId user_id, std::string settings_json) override;
  Task<bool> set_user_banned(UserId user_id, bool banned) override;
  Task<bool> set_premium_until(UserId user_id, std::optional<Time> until) override;
  Task<std::optional<Time>> grant_premium(UserId user_id, std::chrono::days days) override;
  Task<QuotaGrant> take_quota_unit(UserId user_id, std::int64_t free_limit) override;
  Task<void> give_back_quota_unit(UserId user_id, std::chrono::sys_days day) override;
  Task<DeletedUserData> delete_user_data(UserId user_id) override;
  Task<PaymentOutcome> apply_payment(const NewPayment& payment) override;
  Task<RefundOutcome> refund_payment(std::string_view charge_id) override;

  // clang-format off
  Task<std::vector<MigrationStatus>> migrate_up() override { return inner_.migrate_up(); }
  Task<std::vector<MigrationStatus>> migration_status() override { return inner_.migration_status(); }
  Task<void> ping() override { return inner_.ping(); }
  Task<QuotaGrant> take_daily_unit(UserId user_id, std::string_view counter, std::int64_t free_limit) override { return inner_.take_daily_unit(user_id, counter, free_limit); }
  Task<void> give_back_daily_unit(UserId user_id, std::string_view counter, std::chrono::sys_days day) override { return inner_.give_back_daily_unit(user_id, counter, day); }
  Task<std::optional<User>> find_user_by_telegram_id(std::int64_t telegram_id) override { return inner_.find_user_by_telegram_id(telegram_id); }
  Task<std::vector<User>> list_users(const UserListQuery& query) override { return inner_.list_users(query); }
  Task<InsertedMessage> insert_message(const NewMessage& message) override { return inner_.insert_message(message); }
  Task<bool> set_message_status(UserId user_id, MessageId message_id, MessageStatus status, std::optional<std::int64_t> tokens) override { return inner_.set_message_status(user_id, message_id, status, tokens); }
  Task<std::vector<Message>> recent_messages(UserId user_id, std::size_t limit, std::optional<std::size_t> char_budget) override { return inner_.recent_messages(user_id, limit, char_budget); }
  Task<HistoryPage> history_page(UserId user_id, std::optional<MessageId> before_id, std::size_t limit) override { return inner_.history_page(user_id, before_id, limit); }
  Task<std::optional<Message>> find_message_by_client_id(UserId user_id, std::string_view client_message_id) override { return inner_.find_message_by_client_id(user_id, client_message_id); }
  Task<std::optional<Message>> find_reply(UserId user_id, MessageId message_id) override { return inner_.find_reply(user_id, message_id); }
  Task<std::vector<Message>> messages_after(UserId user_id, MessageId after_id, std::size_t limit) override { return inner_.messages_after(user_id, after_id, limit); }
  Task<std::int64_t> count_messages(UserId user_id, MessageId after_id) override { return inner_.count_messages(user_id, after_id); }
  Task<std::vector<SearchHit>> search_messages(UserId user_id, std::string_view text, std::size_t limit) override { return inner_.search_messages(user_id, text, limit); }
  Task<Memory> get_memory(UserId user_id) override { return inner_.get_memory(user_id); }
  Task<std::optional<std::int64_t>> write_memory(const MemoryWrite& write) override { return inner_.write_memory(write); }
  Task<TurnContext> load_turn_context(UserId user_id, std::size_t recent_limit, std::string_view search_text, std::size_t relevant_limit) override { return inner_.load_turn_context(user_id, recent_limit, search_text, relevant_limit); }
  Task<std::optional<Payment>> find_payment(std::string_view charge_id) override { return inner_.find_payment(charge_id); }
  Task<std::vector<Payment>> list_payments(std::optional<UserId> user_id, std::optional<PaymentId> before_id, std::size_t limit) override { return inner_.list_payments(user_id, before_id, limit); }
  Task<std::optional<Admin>> create_admin(std::string_view username, std::string_view password_hash) override { return inner_.create_admin(username, password_hash); }
  Task<std::optional<Admin>> find_admin(std::string_view username) override { return inner_.find_admin(username); }
  Task<AuditEntry> append_audit(const NewAuditEntry& entry) override { return inner_.append_audit(entry); }
  Task<std::vector<AuditEntry>> list_audit(std::optional<AuditId> before_id, std::size_t limit) override { return inner_.list_audit(before_id, limit); }
  Task<std::optional<JobId>> enqueue_job(const NewJob& job) override { return inner_.enqueue_job(job); }
  Task<std::optional<Job>> lease_job(const std::vector<std::string>& kinds, std::string_view owner, std::chrono::milliseconds lease_for) override { return inner_.lease_job(kinds, owner, lease_for); }
  Task<bool> complete_job(JobId job_id, std::string_view owner) override { return inner_.complete_job(job_id, owner); }
  Task<bool> fail_job(JobId job_id, std::string_view owner, std::string_view error, std::optional<Time> retry_at) override { return inner_.fail_job(job_id, owner, error, retry_at); }
  Task<std::optional<Job>> find_job(JobId job_id) override { return inner_.find_job(job_id); }
  Task<bool> acquire_lease(std::string_view name, std::string_view owner, std::chrono::milliseconds ttl) override { return inner_.acquire_lease(name, owner, ttl); }
  Task<void> release_lease(std::string_view name, std::string_view owner) override { return inner_.release_lease(name, owner); }
  Task<std::optional<std::string>> kv_get(std::string_view key) override { return inner_.kv_get(key); }
  Task<void> kv_set(std::string_view key, std::string_view value) override { return inner_.kv_set(key, value); }
  Task<bool> mark_update_processed(std::int64_t update_id) override { return inner_.mark_update_processed(update_id); }
  Task<std::int64_t> delete_messages_older_than(Time cutoff, std::size_t batch_size) override { return inner_.delete_messages_older_than(cutoff, batch_size); }
  Task<std::int64_t> delete_processed_updates_older_than(Time cutoff) override { return inner_.delete_processed_updates_older_than(cutoff); }
  Task<std::optional<UserExport>> export_user_data(UserId user_id) override { return inner_.export_user_data(user_id); }
  Task<void> record_model_call(const NewModelCall& call) override { return inner_.record_model_call(call); }
  Task<std::vector<DailyStats>> compute_daily_stats(std::chrono::sys_days from, std::chrono::sys_days to) override { return inner_.compute_daily_stats(from, to); }
  Task<std::vector<DailyStats>> load_daily_stats(std::chrono::sys_days from, std::chrono::sys_days to) override { return inner_.load_daily_stats(from, to); }
  Task<void> save_daily_stats(const std::vector<DailyStats>& days) override { return inner_.save_daily_stats(days); }
  Task<UserActivity> user_activity(UserId user_id, Time since) override { return inner_.user_activity(user_id, since); }
  // clang-format on

 private:
  Task<void> forget(UserId user_id);
  /// Runs a call that changes a user's row: bumps the write epoch before and after it (so a
  /// read that overlapped it does not cache what it read), then erases the entry.
  template <typename T>
  Task<T> changing(UserId user_id, Task<T> call);

  std::unique_ptr<Store> owned_;
  Store& inner_;
  cache::Cache& cache_;
  std::chrono::milliseconds ttl_;
  /// Counts user-row changes made through this node; a read caches its result only when no
  /// change began or ended while it ran.
  std::atomic<std::uint64_t> epoch_{0};
};

/// A user as the cache holds it (JSON), and back; nullopt for anything undecodable.
[[nodiscard]] std::string encode_cached_user(const User& user);
[[nodiscard]] std::optional<User> decode_cached_user(std::string_view text);

}  // namespace evolveai::storage
