#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/task.hpp"
#include "obs/trace_context.hpp"
#include "services/feature_flags.hpp"
#include "storage/backup.hpp"
#include "storage/records.hpp"
#include "storage/stats_records.hpp"

namespace evolveai::net {
class BlockingPool;
}

namespace evolveai::obs {
class Logger;
}

namespace evolveai::storage {
class Store;
}

namespace evolveai::services {

class StarRefunds;

/// Who performs an admin action, as the audit log records it.
struct Actor {
  std::optional<storage::AdminId> admin_id;  ///< the admin account; none on the command line
  std::string via = "api";                   ///< "api" or "cli"
  std::string request_id;                    ///< the HTTP request's id; empty on the command line
  obs::TraceContext trace;                   ///< the HTTP request's trace; none on the command line
};

/// One page of the admin's user list, newest first.
struct AdminUserPage {
  std::vector<storage::User> users;
  std::optional<storage::UserId> next_cursor;  ///< pass as `before_id` for the next page; none at the end
};

/// Everything the admin's user detail shows.
struct AdminUserDetail {
  storage::User user;
  std::int64_t messages_today = 0;  ///< counted against today's free allowance
  storage::UserActivity activity;   ///< user messages counted over the last 30 days
  std::size_t memory_summary_chars = 0;
  std::size_t memory_facts = 0;
  std::vector<storage::Payment> payments;  ///< newest first, at most 20
};

/// A page of payments, newest first.
struct PaymentPage {
  std::vector<storage::Payment> payments;
  std::optional<storage::PaymentId> next_cursor;
};

/// A page of the audit log, newest first.
struct AuditPage {
  std::vector<storage::AuditEntry> entries;
  std::optional<storage::AuditId> next_cursor;
};

/// The outcome of a refund request.
struct RefundResult {
  storage::Payment payment;
  bool already_refunded = false;  ///< true: nothing was done now (Telegram was not called)
  std::optional<storage::Time> premium_until;
};

/// Daily statistics of a range of UTC days, oldest first; the last day is today (so far).
struct StatsReport {
  std::chrono::sys_days from{};
  std::chrono::sys_days to{};  ///< today, included
  std::vector<storage::DailyStats> days;
};

/// Settings of the operators' service.
struct AdminOptions {
  std::size_t cleanup_batch = 1000;                ///< messages deleted per transaction by a cleanup
  std::optional<storage::BackupSettings> backups;  ///< none: backup routes answer 503
};

/// Where the operators' service reads the time; tests inject a fixed one.
using AdminClock = std::function<storage::Time()>;

/// The operators' actions: users, premium, bans, payments and refunds, statistics, cleanup,
/// backups, feature flags and the audit log. Every action that changes something writes one
/// audit entry (who, what, target, reason, before/after, request id); a repeat that changes
/// nothing (a ban of a banned user, a refund of a refunded payment) writes none. Shared by the
/// HTTP routes and the command line. Knows nothing of HTTP.
class AdminService {
 public:
  /// `refunds` may be null (no bot): refunds then answer 503 `refunds_unavailable`.
  /// `blocking` runs backups; it may be null when `options.backups` is empty.
  AdminService(storage::Store& store, FeatureFlags& flags, StarRefunds* refunds, AdminOptions options,
               net::BlockingPool* blocking, AdminClock clock, obs::Logger& logger);

  /// Users matching `query` (text, premium, banned, active since; `before_id` is the cursor).
  Task<AdminUserPage> list_users(storage::UserListQuery query);
  /// One user with usage, activity, memory size and payments; 404 when unknown.
  Task<AdminUserDetail> user_detail(storage::UserId user_id);
  /// Extends premium by `days` (1..3650) from its end or from now; returns the user afterwards.
  Task<storage::User> grant_premium(const Actor& actor, storage::UserId user_id, std::int64_t days, std::string reason);
  /// Ends premium now; returns the user afterwards.
  Task<storage::User> revoke_premium(const Actor& actor, storage::UserId user_id, std::string reason);
  /// Bans or unbans: a banned user's tokens stop working at once and sign-in is refused.
  Task<storage::User> set_banned(const Actor& actor, storage::UserId user_id, bool banned, std::string reason);
  /// Payments newest first, of one user or of everyone; `before_id` is the cursor.
  Task<PaymentPage> list_payments(std::optional<storage::UserId> user_id, std::optional<storage::PaymentId> before_id,
                                  std::size_t limit);
  /// Gives the Stars back through Telegram, then marks the payment refunded and takes its
  /// premium days back. Idempotent: a refunded payment is returned as it is, without calling
  /// Telegram again. 404 for an unknown charge, 503 `refunds_unavailable` without a bot.
  Task<RefundResult> refund(const Actor& actor, std::string charge_id, std::string reason);
  /// Deletes messages older than `older_than_days` (1..3650) in small batches (chat goes on
  /// meanwhile); summaries and facts stay. Returns how many were deleted.
  Task<std::int64_t> cleanup(const Actor& actor, std::int64_t older_than_days, std::string reason);
  /// Backups in the configured directory, newest first.
  Task<std::vector<storage::BackupInfo>> list_backups();
  /// Takes a backup now (one at a time: 409 `conflict` while one runs).
  Task<storage::BackupInfo> create_backup(const Actor& actor, std::string reason);
  /// The audit log newest first; `before_id` is the cursor.
  Task<AuditPage> list_audit(std::optional<storage::AuditId> before_id, std::size_t limit);
  /// Daily statistics of the last `days` (7, 30 or 90) UTC days, today included. Finished days
  /// come from the daily rollup, which is filled from the live tables the first time a day is asked for.
  Task<StatsReport> stats(int days);
  /// Every feature flag.
  Task<FlagSet> flags();
  /// Changes some feature flags; returns all of them afterwards.
  Task<FlagSet> set_flags(const Actor& actor, const FlagSet& changes, std::string reason);

 private:
  Task<storage::User> require_user(storage::UserId user_id);
  /// What one audit entry says besides who did it.
  struct AuditNote {
    std::string action;
    std::string target;
    std::string reason;
    std::string before_json;
    std::string after_json;
  };
  Task<void> audit(const Actor& actor, const AuditNote& note);

  storage::Store& store_;
  FeatureFlags& flags_;
  StarRefunds* refunds_;
  AdminOptions options_;
  net::BlockingPool* blocking_;
  AdminClock clock_;
  obs::Logger& logger_;
  std::atomic<bool> backup_running_{false};
};

}  // namespace evolveai::services
