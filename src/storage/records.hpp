#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace evolveai::storage {

/// A moment as the store records it (microsecond precision, UTC).
using Time = std::chrono::system_clock::time_point;
/// Where the store reads the current time; tests inject a controllable one.
using Clock = std::function<Time()>;

using UserId = std::int64_t;
using MessageId = std::int64_t;
using PaymentId = std::int64_t;
using AdminId = std::int64_t;
using AuditId = std::int64_t;
using JobId = std::int64_t;

/// Who a person is on Telegram, as a verified sign-in or update hands it over.
struct TelegramIdentity {
  std::int64_t telegram_id = 0;
  std::string first_name;
  std::optional<std::string> last_name;
  std::optional<std::string> username;
  std::optional<std::string> language_code;
};

/// A person using the service.
struct User {
  UserId id = 0;
  std::int64_t telegram_id = 0;
  std::string first_name;
  std::optional<std::string> last_name;
  std::optional<std::string> username;
  std::optional<std::string> language_code;
  std::string settings_json = "{}";  ///< a JSON object; its keys are validated by the services
  bool banned = false;
  std::optional<Time> premium_until;
  std::optional<std::chrono::sys_days> usage_day;  ///< the UTC day `usage_count` belongs to
  std::int64_t usage_count = 0;
  Time created_at{};
  Time updated_at{};

  /// True while a premium period covers `now`.
  [[nodiscard]] bool premium_at(Time now) const { return premium_until && *premium_until > now; }
};

/// Filter of the admin's user list; newest first, paged by id.
struct UserListQuery {
  std::optional<std::string> text;  ///< part of a name or username, or a Telegram id
  std::optional<bool> premium;      ///< only premium (true) or only free (false) users
  std::optional<UserId> before_id;  ///< cursor: users with a smaller id
  std::size_t limit = 50;
  std::optional<bool> banned{};        ///< only banned (true) or only not banned (false) users
  std::optional<Time> active_since{};  ///< only users whose newest message is at least this recent
};

/// Who wrote a message.
enum class Role { kUser, kAssistant };

/// Where a message stands in its turn.
enum class MessageStatus { kPending, kComplete, kFailed };

/// One message of the chat history.
struct Message {
  MessageId id = 0;
  UserId user_id = 0;
  Role role = Role::kUser;
  std::string content;
  bool has_image = false;
  std::int64_t tokens = 0;
  MessageStatus status = MessageStatus::kComplete;
  std::optional<std::string> client_message_id;
  std::optional<MessageId> reply_to_id;  ///< an assistant reply names the user message it answers
  Time created_at{};
  /// Why an assistant reply ended ("stop", "length", "safety", "interrupted", …); null for user messages.
  std::optional<std::string> finish_reason;
};

/// A message to store.
struct NewMessage {
  UserId user_id = 0;
  Role role = Role::kUser;
  std::string content;
  bool has_image = false;
  std::int64_t tokens = 0;
  MessageStatus status = MessageStatus::kComplete;
  std::optional<std::string> client_message_id;  ///< at most 64 bytes; makes the insert idempotent
  std::optional<MessageId> reply_to_id;
  std::optional<std::string> finish_reason;  ///< at most 32 bytes
};

/// The outcome of an idempotent insert: the stored row and whether this call created it.
struct InsertedMessage {
  Message message;
  bool created = false;
};

/// One page of history, newest first.
struct HistoryPage {
  std::vector<Message> messages;
  std::optional<MessageId> next_before_id;  ///< cursor of the next (older) page, if any
};

/// A search result; `snippet_html` marks matches with <mark> and is otherwise HTML-escaped.
struct SearchHit {
  MessageId message_id = 0;
  Role role = Role::kUser;
  std::string snippet_html;
  Time created_at{};
  double rank = 0;  ///< higher is better; comparable only within one result list
};

/// One thing the companion knows about a user. `id` is short, unique within the user's
/// facts and stable across rewrites; a pinned fact is never dropped by a summary.
struct Fact {
  std::string id;
  std::string text;
  bool pinned = false;

  friend bool operator==(const Fact&, const Fact&) = default;
};

/// What the companion knows about a user: rolling summary, learned facts and the summary's boundary.
struct Memory {
  UserId user_id = 0;
  std::string summary;
  std::vector<Fact> facts;
  MessageId last_summarized_message_id = 0;
  std::int64_t version = 0;  ///< 0 while nothing was ever written
  std::optional<Time> updated_at;
};

/// A new summary, its facts and boundary, based on the memory version it was computed from.
struct MemoryWrite {
  UserId user_id = 0;
  std::int64_t base_version = 0;
  std::string summary;
  std::vector<Fact> facts;
  MessageId last_summarized_message_id = 0;
};

/// The result of taking one unit of the daily message quota.
struct QuotaGrant {
  bool granted = false;
  bool unlimited = false;       ///< premium: granted without a limit
  std::int64_t used = 0;        ///< messages counted today, this one included when granted
  std::chrono::sys_days day{};  ///< the UTC day the unit was counted on (give it back with this)
  Time resets_at{};             ///< next UTC midnight
};

/// Everything one chat turn reads, fetched together.
struct TurnContext {
  std::optional<User> user;
  Memory memory;
  std::vector<Message> recent;    ///< newest messages, oldest first
  std::vector<Message> relevant;  ///< older messages matching the new text, best first
};

/// Whether a payment is in force.
enum class PaymentStatus { kPaid, kRefunded };

/// A successful payment as the payment provider reported it.
struct NewPayment {
  std::string charge_id;  ///< 1..255 bytes, unique
  std::optional<std::string> provider_charge_id;
  UserId user_id = 0;
  std::string currency;
  std::int64_t amount = 0;
  std::string plan;
  std::int64_t days = 0;  ///< premium days the payment buys
};

/// A stored payment.
struct Payment {
  PaymentId id = 0;
  std::string charge_id;
  std::optional<std::string> provider_charge_id;
  UserId user_id = 0;
  std::string currency;
  std::int64_t amount = 0;
  std::string plan;
  std::int64_t days = 0;
  PaymentStatus status = PaymentStatus::kPaid;
  Time created_at{};
  std::optional<Time> refunded_at;
};

/// Outcome of applying a payment: `applied` is false when the charge was already recorded.
struct PaymentOutcome {
  bool applied = false;
  Payment payment;
  std::optional<Time> premium_until;  ///< the user's premium end after this call
};

/// Outcome of a refund: `refunded` is false when the charge is unknown or was refunded before.
struct RefundOutcome {
  bool refunded = false;
  std::optional<Payment> payment;
  std::optional<Time> premium_until;
};

/// An operator account; only the argon2id hash string of the password is kept.
struct Admin {
  AdminId id = 0;
  std::string username;
  std::string password_hash;
  Time created_at{};
};

/// An audit record to append.
struct NewAuditEntry {
  std::optional<AdminId> admin_id;
  std::string action;
  std::string target;
  std::string details_json = "{}";
};

/// A stored audit record.
struct AuditEntry {
  AuditId id = 0;
  std::optional<AdminId> admin_id;
  std::string action;
  std::string target;
  std::string details_json;
  Time created_at{};
};

/// Where a background job stands.
enum class JobStatus { kPending, kRunning, kDone, kFailed };

/// A background job to enqueue.
struct NewJob {
  std::string kind;
  std::string payload;                    ///< opaque to the store (JSON by convention)
  std::optional<Time> run_after;          ///< default: now
  std::optional<std::string> dedupe_key;  ///< at most one pending or running job per key
};

/// A stored background job.
struct Job {
  JobId id = 0;
  std::string kind;
  std::string payload;
  std::optional<std::string> dedupe_key;
  JobStatus status = JobStatus::kPending;
  std::int64_t attempts = 0;
  Time run_after{};
  std::optional<std::string> lease_owner;
  std::optional<Time> lease_expires_at;
  std::optional<std::string> last_error;
  Time created_at{};
};

/// What deleting a user's data removed.
struct DeletedUserData {
  std::int64_t messages = 0;
  bool memory = false;
};

/// All of one user's data, for export.
struct UserExport {
  User user;
  Memory memory;
  std::vector<Message> messages;  ///< oldest first
  std::vector<Payment> payments;
};

/// Stable text names of the enums, as stored in the database and shown in APIs.
[[nodiscard]] const char* to_string(Role role) noexcept;
[[nodiscard]] const char* to_string(MessageStatus status) noexcept;
[[nodiscard]] const char* to_string(PaymentStatus status) noexcept;
[[nodiscard]] const char* to_string(JobStatus status) noexcept;
/// Parses the stored names; throw std::invalid_argument on anything else.
[[nodiscard]] Role role_from_string(std::string_view text);
[[nodiscard]] MessageStatus message_status_from_string(std::string_view text);
[[nodiscard]] PaymentStatus payment_status_from_string(std::string_view text);
[[nodiscard]] JobStatus job_status_from_string(std::string_view text);

}  // namespace evolveai::storage
