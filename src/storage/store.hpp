#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/task.hpp"
#include "storage/migrations.hpp"
#include "storage/records.hpp"
#include "storage/stats_records.hpp"

namespace evolveai::storage {

/// The one interface to persistent state. Two engines implement it (SQLite embedded,
/// PostgreSQL for scale) and pass the same behavioural suite. Every call is a coroutine
/// that never blocks an I/O thread. Calls taking a `user_id` only ever touch that user's
/// rows. Failures of the database throw StoreError; bad arguments throw core::Error
/// (validation_failed).
/// A new method must also be forwarded by CachedUserStore (storage/cached_user_store.hpp).
class Store {
 public:
  virtual ~Store() = default;

  /// "sqlite" or "postgres".
  [[nodiscard]] virtual std::string_view dialect() const noexcept = 0;

  // --- schema -------------------------------------------------------------------------

  /// Applies pending migrations (serialised across nodes); throws MigrationError when an
  /// applied migration was changed. Returns the migrations applied by this call.
  virtual Task<std::vector<MigrationStatus>> migrate_up() = 0;
  /// Every known or recorded migration and its state.
  virtual Task<std::vector<MigrationStatus>> migration_status() = 0;
  /// One cheap round trip, for readiness checks.
  virtual Task<void> ping() = 0;

  // --- users --------------------------------------------------------------------------

  /// Creates the user on first sign-in, else refreshes the Telegram profile fields.
  virtual Task<User> upsert_user(const TelegramIdentity& identity) = 0;
  /// The user by id.
  virtual Task<std::optional<User>> find_user(UserId user_id) = 0;
  /// The user by Telegram id.
  virtual Task<std::optional<User>> find_user_by_telegram_id(std::int64_t telegram_id) = 0;
  /// Replaces the settings JSON object; false when there is no such user.
  virtual Task<bool> update_user_settings(UserId user_id, std::string settings_json) = 0;
  /// Bans or unbans; false when there is no such user.
  virtual Task<bool> set_user_banned(UserId user_id, bool banned) = 0;
  /// Sets (or clears) the end of premium; false when there is no such user.
  virtual Task<bool> set_premium_until(UserId user_id, std::optional<Time> until) = 0;
  /// Extends premium by `days` from its current end or from now, whichever is later.
  virtual Task<std::optional<Time>> grant_premium(UserId user_id, std::chrono::days days) = 0;
  /// A page of users for the admin, newest first.
  virtual Task<std::vector<User>> list_users(const UserListQuery& query) = 0;

  // --- daily quota ----------------------------------------------------------------------

  /// Checks and counts one message in one statement: free users up to `free_limit` per UTC
  /// day, premium users without limit. A missing user is never granted.
  virtual Task<QuotaGrant> take_quota_unit(UserId user_id, std::int64_t free_limit) = 0;
  /// Returns a unit taken on `day` (a turn that failed upstream); no effect on another day.
  virtual Task<void> give_back_quota_unit(UserId user_id, std::chrono::sys_days day) = 0;
  /// Checks and counts one unit of the named daily allowance `counter` (e.g. "tts") in one
  /// statement, exact under concurrency: free users up to `free_limit` per UTC day, premium users
  /// without limit (but counted). The grant's `used` is that counter's count. A missing user is
  /// never granted; a counter name must be 1..32 characters of [a-z0-9_] (else validation_failed).
  virtual Task<QuotaGrant> take_daily_unit(UserId user_id, std::string_view counter, std::int64_t free_limit) = 0;
  /// Returns a unit of `counter` taken on `day` (the work it paid for failed); no effect on another day.
  virtual Task<void> give_back_daily_unit(UserId user_id, std::string_view counter, std::chrono::sys_days day) = 0;

  // --- messages -----------------------------------------------------------------------

  /// Stores a message; with a client_message_id a repeat returns the existing row instead.
  virtual Task<InsertedMessage> insert_message(const NewMessage& message) = 0;
  /// Sets the status (and the token count when given); false when not the user's message.
  virtual Task<bool> set_message_status(UserId user_id, MessageId message_id, MessageStatus status,
                                        std::optional<std::int64_t> tokens) = 0;
  /// The newest `limit` messages, oldest first; with a budget, only the newest ones whose
  /// contents together fit in `char_budget` bytes.
  virtual Task<std::vector<Message>> recent_messages(UserId user_id, std::size_t limit,
                                                     std::optional<std::size_t> char_budget) = 0;
  /// A page of history, newest first, older than `before_id` when given.
  virtual Task<HistoryPage> history_page(UserId user_id, std::optional<MessageId> before_id, std::size_t limit) = 0;
  /// The message the client sent with this id.
  virtual Task<std::optional<Message>> find_message_by_client_id(UserId user_id,
                                                                 std::string_view client_message_id) = 0;
  /// The assistant reply to a user message.
  virtual Task<std::optional<Message>> find_reply(UserId user_id, MessageId message_id) = 0;
  /// Messages newer than `after_id`, oldest first (the unsummarised tail).
  virtual Task<std::vector<Message>> messages_after(UserId user_id, MessageId after_id, std::size_t limit) = 0;
  /// How many messages the user has newer than `after_id` (0 counts all).
  virtual Task<std::int64_t> count_messages(UserId user_id, MessageId after_id = 0) = 0;
  /// Forgets the user's messages, summary and facts.
  virtual Task<DeletedUserData> delete_user_data(UserId user_id) = 0;
  /// Full-text search in the user's own messages; any text is a valid query.
  virtual Task<std::vector<SearchHit>> search_messages(UserId user_id, std::string_view text, std::size_t limit) = 0;

  // --- memory -------------------------------------------------------------------------

  /// The user's memory; version 0 and empty when nothing was written yet.
  virtual Task<Memory> get_memory(UserId user_id) = 0;
  /// Writes summary, facts and boundary together if the stored version is still
  /// `base_version`; returns the new version, or nullopt on a conflict.
  virtual Task<std::optional<std::int64_t>> write_memory(const MemoryWrite& write) = 0;

  /// The reads of one chat turn in one call (one round trip on PostgreSQL): the user, the
  /// memory, the newest `recent_limit` messages and up to `relevant_limit` older messages
  /// that share words with `search_text`.
  virtual Task<TurnContext> load_turn_context(UserId user_id, std::size_t recent_limit, std::string_view search_text,
                                              std::size_t relevant_limit) = 0;

  // --- payments -------------------------------------------------------------------------

  /// Records a payment once per charge_id and extends premium in the same transaction.
  virtual Task<PaymentOutcome> apply_payment(const NewPayment& payment) = 0;
  /// Marks a paid payment refunded and takes its days back from premium.
  virtual Task<RefundOutcome> refund_payment(std::string_view charge_id) = 0;
  /// The payment by charge id.
  virtual Task<std::optional<Payment>> find_payment(std::string_view charge_id) = 0;
  /// Payments newest first, of one user or of everyone.
  virtual Task<std::vector<Payment>> list_payments(std::optional<UserId> user_id, std::optional<PaymentId> before_id,
                                                   std::size_t limit) = 0;

  // --- admins and audit -------------------------------------------------------------------

  /// Creates an admin; nullopt when the username is taken.
  virtual Task<std::optional<Admin>> create_admin(std::string_view username, std::string_view password_hash) = 0;
  /// The admin by username.
  virtual Task<std::optional<Admin>> find_admin(std::string_view username) = 0;
  /// Appends to the audit log.
  virtual Task<AuditEntry> append_audit(const NewAuditEntry& entry) = 0;
  /// Audit entries newest first.
  virtual Task<std::vector<AuditEntry>> list_audit(std::optional<AuditId> before_id, std::size_t limit) = 0;

  // --- jobs, leases, small state ------------------------------------------------------------

  /// Queues a job; nullopt when a pending or running job has the same dedupe key.
  virtual Task<std::optional<JobId>> enqueue_job(const NewJob& job) = 0;
  /// Leases the oldest due job of the given kinds (or a running one whose lease expired)
  /// to `owner` until now + `lease_for`; at most one node holds a job at a time.
  virtual Task<std::optional<Job>> lease_job(const std::vector<std::string>& kinds, std::string_view owner,
                                             std::chrono::milliseconds lease_for) = 0;
  /// Marks a leased job done; false when the lease was lost.
  virtual Task<bool> complete_job(JobId job_id, std::string_view owner) = 0;
  /// Records a failure: back to pending at `retry_at`, or failed for good without it.
  virtual Task<bool> fail_job(JobId job_id, std::string_view owner, std::string_view error,
                              std::optional<Time> retry_at) = 0;
  /// The job by id.
  virtual Task<std::optional<Job>> find_job(JobId job_id) = 0;
  /// Takes or renews a named lease (e.g. the Telegram poller); true when `owner` holds it.
  virtual Task<bool> acquire_lease(std::string_view name, std::string_view owner, std::chrono::milliseconds ttl) = 0;
  /// Gives a lease up if `owner` holds it.
  virtual Task<void> release_lease(std::string_view name, std::string_view owner) = 0;
  /// A small persistent value (e.g. the Telegram update offset).
  virtual Task<std::optional<std::string>> kv_get(std::string_view key) = 0;
  /// Sets a small persistent value.
  virtual Task<void> kv_set(std::string_view key, std::string_view value) = 0;
  /// True the first time an update id is seen cluster-wide, false on every repeat.
  virtual Task<bool> mark_update_processed(std::int64_t update_id) = 0;

  // --- retention and export ---------------------------------------------------------------

  /// Deletes messages created before `cutoff`, `batch_size` rows per transaction so no lock
  /// is held long; returns how many were deleted.
  virtual Task<std::int64_t> delete_messages_older_than(Time cutoff, std::size_t batch_size) = 0;
  /// Forgets processed Telegram update ids recorded before `cutoff`.
  virtual Task<std::int64_t> delete_processed_updates_older_than(Time cutoff) = 0;
  /// All of the user's data; nullopt when there is no such user.
  virtual Task<std::optional<UserExport>> export_user_data(UserId user_id) = 0;

  // --- operators' statistics and user activity -----------------------------------------------

  /// Records one model call of a chat turn (tokens, latency, outcome) at the current time.
  virtual Task<void> record_model_call(const NewModelCall& call) = 0;
  /// Computes the statistics of the UTC days [from, to) from the live tables; every day of the
  /// range is returned (zeros when nothing happened), oldest first.
  virtual Task<std::vector<DailyStats>> compute_daily_stats(std::chrono::sys_days from, std::chrono::sys_days to) = 0;
  /// The stored daily rollup rows of [from, to), oldest first; days never rolled up are absent.
  virtual Task<std::vector<DailyStats>> load_daily_stats(std::chrono::sys_days from, std::chrono::sys_days to) = 0;
  /// Stores (or replaces) rollup rows of finished days.
  virtual Task<void> save_daily_stats(const std::vector<DailyStats>& days) = 0;
  /// The user's message counts and last activity; user messages are counted from `since`.
  virtual Task<UserActivity> user_activity(UserId user_id, Time since) = 0;
};

}  // namespace evolveai::storage
