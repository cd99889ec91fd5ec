#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <mutex>
#include <vector>

#include "net/blocking_pool.hpp"
#include "storage/store.hpp"
#include "storage/store_observer.hpp"

namespace evolveai::storage::sqlite {

class Connection;

/// Settings of the embedded engine.
struct SqliteStoreOptions {
  std::filesystem::path path;  ///< the database file; created if missing
  std::size_t readers = 4;     ///< reader connections (one writer besides)
  std::chrono::milliseconds busy_timeout{5000};
  Clock clock;  ///< defaults to the system clock
  StoreObserver observer;
};

/// The embedded engine: one SQLite file in WAL mode, one writer connection and a pool of
/// readers; every call runs on the blocking pool, never on the caller's I/O thread.
class SqliteStore final : public Store {
 public:
  /// Opens (creating) the file; does not migrate (call migrate_up()).
  SqliteStore(SqliteStoreOptions options, net::BlockingPool& pool);
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  // The Store interface; see storage/store.hpp for what each call promises.
  [[nodiscard]] std::string_view dialect() const noexcept override { return "sqlite"; }
  Task<std::vector<MigrationStatus>> migrate_up() override;
  Task<std::vector<MigrationStatus>> migration_status() override;
  Task<void> ping() override;

  Task<User> upsert_user(const TelegramIdentity& identity) override;
  Task<std::optional<User>> find_user(UserId user_id) override;
  Task<std::optional<User>> find_user_by_telegram_id(std::int64_t telegram_id) override;
  Task<bool> update_user_settings(UserId user_id, std::string settings_json) override;
  Task<bool> set_user_banned(UserId user_id, bool banned) override;
  Task<bool> set_premium_until(UserId user_id, std::optional<Time> until) override;
  Task<std::optional<Time>> grant_premium(UserId user_id, std::chrono::days days) override;
  Task<std::vector<User>> list_users(const UserListQuery& query) override;

  Task<QuotaGrant> take_quota_unit(UserId user_id, std::int64_t free_limit) override;
  Task<void> give_back_quota_unit(UserId user_id, std::chrono::sys_days day) override;
  Task<QuotaGrant> take_daily_unit(UserId user_id, std::string_view counter, std::int64_t free_limit) override;
  Task<void> give_back_daily_unit(UserId user_id, std::string_view counter, std::chrono::sys_days day) override;

  Task<InsertedMessage> insert_message(const NewMessage& message) override;
  Task<bool> set_message_status(UserId user_id, MessageId message_id, MessageStatus status,
                                std::optional<std::int64_t> tokens) override;
  Task<std::vector<Message>> recent_messages(UserId user_id, std::size_t limit,
                                             std::optional<std::size_t> char_budget) override;
  Task<HistoryPage> history_page(UserId user_id, std::optional<MessageId> before_id, std::size_t limit) override;
  Task<std::optional<Message>> find_message_by_client_id(UserId user_id, std::string_view client_message_id) override;
  Task<std::optional<Message>> find_reply(UserId user_id, MessageId message_id) override;
  Task<std::vector<Message>> messages_after(UserId user_id, MessageId after_id, std::size_t limit) override;
  Task<std::int64_t> count_messages(UserId user_id, MessageId after_id) override;
  Task<DeletedUserData> delete_user_data(UserId user_id) override;
  Task<std::vector<SearchHit>> search_messages(UserId user_id, std::string_view text, std::size_t limit) override;

  Task<Memory> get_memory(UserId user_id) override;
  Task<std::optional<std::int64_t>> write_memory(const MemoryWrite& write) override;
  Task<TurnContext> load_turn_context(UserId user_id, std::size_t recent_limit, std::string_view search_text,
                                      std::size_t relevant_limit) override;

  Task<PaymentOutcome> apply_payment(const NewPayment& payment) override;
  Task<RefundOutcome> refund_payment(std::string_view charge_id) override;
  Task<std::optional<Payment>> find_payment(std::string_view charge_id) override;
  Task<std::vector<Payment>> list_payments(std::optional<UserId> user_id, std::optional<PaymentId> before_id,
                                           std::size_t limit) override;

  Task<std::optional<Admin>> create_admin(std::string_view username, std::string_view password_hash) override;
  Task<std::optional<Admin>> find_admin(std::string_view username) override;
  Task<AuditEntry> append_audit(const NewAuditEntry& entry) override;
  Task<std::vector<AuditEntry>> list_audit(std::optional<AuditId> before_id, std::size_t limit) override;

  Task<std::optional<JobId>> enqueue_job(const NewJob& job) override;
  Task<std::optional<Job>> lease_job(const std::vector<std::string>& kinds, std::string_view owner,
                                     std::chrono::milliseconds lease_for) override;
  Task<bool> complete_job(JobId job_id, std::string_view owner) override;
  Task<bool> fail_job(JobId job_id, std::string_view owner, std::string_view error,
                      std::optional<Time> retry_at) override;
  Task<std::optional<Job>> find_job(JobId job_id) override;
  Task<bool> acquire_lease(std::string_view name, std::string_view owner, std::chrono::milliseconds ttl) override;
  Task<void> release_lease(std::string_view name, std::string_view owner) override;
  Task<std::optional<std::string>> kv_get(std::string_view key) override;
  Task<void> kv_set(std::string_view key, std::string_view value) override;
  Task<bool> mark_update_processed(std::int64_t update_id) override;

  Task<std::int64_t> delete_messages_older_than(Time cutoff, std::size_t batch_size) override;
  Task<std::int64_t> delete_processed_updates_older_than(Time cutoff) override;
  Task<std::optional<UserExport>> export_user_data(UserId user_id) override;

  Task<void> record_model_call(const NewModelCall& call) override;
  Task<std::vector<DailyStats>> compute_daily_stats(std::chrono::sys_days from, std::chrono::sys_days to) override;
  Task<std::vector<DailyStats>> load_daily_stats(std::chrono::sys_days from, std::chrono::sys_days to) override;
  Task<void> save_daily_stats(const std::vector<DailyStats>& days) override;
  Task<UserActivity> user_activity(UserId user_id, Time since) override;

  /// Runs `PRAGMA integrity_check`; empty when the file is sound, else the problems found.
  Task<std::string> integrity_check();

 private:
  class MigrationDriverImpl;

  template <typename F>
  auto write(const char* name, F fn) -> Task<std::invoke_result_t<F&, Connection&>>;
  template <typename F>
  auto read(const char* name, F fn) -> Task<std::invoke_result_t<F&, Connection&>>;
  template <typename F>
  auto timed(const char* name, Connection& connection, F& fn) -> std::invoke_result_t<F&, Connection&>;
  [[nodiscard]] Time now() const;

  std::unique_ptr<Connection> acquire_reader();
  void release_reader(std::unique_ptr<Connection> reader);

  SqliteStoreOptions options_;
  net::BlockingPool& pool_;
  std::mutex writer_mutex_;
  std::unique_ptr<Connection> writer_;
  std::mutex readers_mutex_;
  std::condition_variable readers_cv_;
  std::vector<std::unique_ptr<Connection>> readers_;
};

}  // namespace evolveai::storage::sqlite
