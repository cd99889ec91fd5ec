#include "services/admin_service.hpp"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <exception>
#include <utility>

#include "core/errors.hpp"
#include "core/time_format.hpp"
#include "core/utf8.hpp"
#include "net/blocking_pool.hpp"
#include "obs/logger.hpp"
#include "services/star_refunds.hpp"
#include "storage/store.hpp"

namespace evolveai::services {
namespace {

namespace json = boost::json;

constexpr std::int64_t kMaxDays = 3650;
constexpr std::size_t kMaxReasonChars = 500;
constexpr std::size_t kMaxPageSize = 100;
constexpr std::size_t kDetailPayments = 20;
constexpr std::chrono::days kActivityWindow{30};

json::value optional_time(const std::optional<storage::Time>& time) {
  return time ? json::value(core::format_rfc3339(*time)) : json::value(nullptr);
}

std::string premium_state(const storage::User& user) {
  return json::serialize(json::object{{"premium_until", optional_time(user.premium_until)}});
}

std::string ban_state(const storage::User& user) {
  return json::serialize(json::object{{"banned", user.banned}});
}

std::string flags_state(const FlagSet& flags) {
  json::object object;
  for (const auto& [name, state] : flags) {
    object[name] = json::object{{"enabled", state.enabled}, {"percentage", state.percentage}};
  }
  return json::serialize(object);
}

std::string user_target(storage::UserId user_id) {
  return "user:" + std::to_string(user_id);
}

void check_reason(const std::string& reason) {
  if (!core::is_valid_utf8(reason) || core::utf8_length(reason) > kMaxReasonChars) {
    throw core::validation_failed("reason", "'reason' must be valid UTF-8 of at most 500 characters");
  }
}

void check_days(std::int64_t days, std::string_view field) {
  if (days < 1 || days > kMaxDays) {
    throw core::validation_failed(std::string(field), "'" + std::string(field) + "' must be 1 to 3650");
  }
}

std::size_t page_size(std::size_t limit) {
  return std::clamp<std::size_t>(limit, 1, kMaxPageSize);
}

core::Error refunds_unavailable() {
  return {core::ErrorKind::kServiceUnavailable, "refunds_unavailable",
          "Refunds go through the Telegram bot, and no bot is configured on this server"};
}

}  // namespace

AdminService::AdminService(storage::Store& store, FeatureFlags& flags, StarRefunds* refunds, AdminOptions options,
                           net::BlockingPool* blocking, AdminClock clock, obs::Logger& logger)
    : store_(store),
      flags_(flags),
      refunds_(refunds),
      options_(std::move(options)),
      blocking_(blocking),
      clock_(std::move(clock)),
      logger_(logger) {}

Task<storage::User> AdminService::require_user(storage::UserId user_id) {
  auto user = co_await store_.find_user(user_id);
  if (!user) {
    throw core::not_found("No such user");
  }
  co_return std::move(*user);
}

Task<void> AdminService::audit(const Actor& actor, const AuditNote& note) {
  json::object details;
  details["via"] = actor.via;
  details["reason"] = note.reason;
  details["before"] = json::parse(note.before_json);
  details["after"] = json::parse(note.after_json);
  details["request_id"] = actor.request_id;
  storage::NewAuditEntry entry;
  entry.admin_id = actor.admin_id;
  entry.action = note.action;
  entry.target = note.target;
  entry.details_json = json::serialize(details);
  const auto stored = co_await store_.append_audit(entry);
  logger_.info("admin_action", {{"action", stored.action},
                                {"target", stored.target},
                                {"via", actor.via},
                                {"admin_id", actor.admin_id.value_or(0)},
                                {"audit_id", stored.id}});
}

Task<AdminUserPage> AdminService::list_users(storage::UserListQuery query) {
  const std::size_t limit = page_size(query.limit);
  query.limit = limit + 1;  // one more tells whether another page follows
  auto users = co_await store_.list_users(query);
  AdminUserPage page;
  if (users.size() > limit) {
    users.resize(limit);
    page.next_cursor = users.back().id;
  }
  page.users = std::move(users);
  co_return page;
}

Task<AdminUserDetail> AdminService::user_detail(storage::UserId user_id) {
  AdminUserDetail detail;
  detail.user = co_await require_user(user_id);
  const auto now = clock_();
  if (detail.user.usage_day && *detail.user.usage_day == std::chrono::floor<std::chrono::days>(now)) {
    detail.messages_today = detail.user.usage_count;
  }
  detail.activity = co_await store_.user_activity(user_id, now - kActivityWindow);
  const auto memory = co_await store_.get_memory(user_id);
  detail.memory_summary_chars = core::utf8_length(memory.summary);
  detail.memory_facts = memory.facts.size();
  const std::optional<storage::UserId> owner = user_id;
  detail.payments = co_await store_.list_payments(owner, std::nullopt, kDetailPayments);
  co_return detail;
}

Task<storage::User> AdminService::grant_premium(const Actor& actor, storage::UserId user_id, std::int64_t days,
                                                std::string reason) {
  check_days(days, "days");
  check_reason(reason);
  const auto before = co_await require_user(user_id);
  const auto until = co_await store_.grant_premium(user_id, std::chrono::days(days));
  if (!until) {
    throw core::not_found("No such user");
  }
  auto after = co_await require_user(user_id);
  const AuditNote note{"user.premium.grant", user_target(user_id), reason, premium_state(before), premium_state(after)};
  co_await audit(actor, note);
  co_return after;
}

Task<storage::User> AdminService::revoke_premium(const Actor& actor, storage::UserId user_id, std::string reason) {
  check_reason(reason);
  const auto before = co_await require_user(user_id);
  if (!before.premium_until) {
    co_return before;  // nothing to revoke
  }
  const std::optional<storage::Time> none;
  if (!co_await store_.set_premium_until(user_id, none)) {
    throw core::not_found("No such user");
  }
  auto after = co_await require_user(user_id);
  const AuditNote note{"user.premium.revoke", user_target(user_id), reason, premium_state(before),
                       premium_state(after)};
  co_await audit(actor, note);
  co_return after;
}

Task<storage::User> AdminService::set_banned(const Actor& actor, storage::UserId user_id, bool banned,
                                             std::string reason) {
  check_reason(reason);
  const auto before = co_await require_user(user_id);
  if (before.banned == banned) {
    co_return before;
  }
  if (!co_await store_.set_user_banned(user_id, banned)) {
    throw core::not_found("No such user");
  }
  auto after = co_await require_user(user_id);
  const AuditNote note{banned ? "user.ban" : "user.unban", user_target(user_id), reason, ban_state(before),
                       ban_state(after)};
  co_await audit(actor, note);
  co_return after;
}

Task<PaymentPage> AdminService::list_payments(std::optional<storage::UserId> user_id,
                                              std::optional<storage::PaymentId> before_id, std::size_t limit) {
  const std::size_t size = page_size(limit);
  auto payments = co_await store_.list_payments(user_id, before_id, size + 1);
  PaymentPage page;
  if (payments.size() > size) {
    payments.resize(size);
    page.next_cursor = payments.back().id;
  }
  page.payments = std::move(payments);
  co_return page;
}

Task<RefundResult> AdminService::refund(const Actor& actor, std::string charge_id, std::string reason) {
  check_reason(reason);
  auto payment = co_await store_.find_payment(charge_id);
  if (!payment) {
    throw core::not_found("No such payment");
  }
  RefundResult result;
  if (payment->status == storage::PaymentStatus::kRefunded) {
    const auto user = co_await store_.find_user(payment->user_id);
    result.payment = std::move(*payment);
    result.already_refunded = true;
    result.premium_until = user ? user->premium_until : std::nullopt;
    co_return result;
  }
  if (refunds_ == nullptr || !refunds_->available()) {
    throw refunds_unavailable();
  }
  const auto payer = co_await require_user(payment->user_id);
  co_await refunds_->refund(payer.telegram_id, charge_id, actor.trace);
  const auto outcome = co_await store_.refund_payment(charge_id);
  if (!outcome.refunded) {
    // Another refund of the same charge won the race: report the stored state.
    auto stored = co_await store_.find_payment(charge_id);
    result.payment = stored.value_or(*payment);
    result.already_refunded = true;
    result.premium_until = outcome.premium_until;
    co_return result;
  }
  result.payment = outcome.payment.value_or(*payment);
  result.premium_until = outcome.premium_until;
  const AuditNote note{
      "payment.refund", "payment:" + charge_id, reason,
      json::serialize(json::object{{"status", "paid"}, {"premium_until", optional_time(payer.premium_until)}}),
      json::serialize(json::object{{"status", "refunded"}, {"premium_until", optional_time(outcome.premium_until)}})};
  co_await audit(actor, note);
  co_return result;
}

Task<std::int64_t> AdminService::cleanup(const Actor& actor, std::int64_t older_than_days, std::string reason) {
  check_days(older_than_days, "older_than_days");
  check_reason(reason);
  const auto cutoff = clock_() - std::chrono::days(older_than_days);
  const auto deleted = co_await store_.delete_messages_older_than(cutoff, options_.cleanup_batch);
  const AuditNote note{"messages.cleanup", "messages", reason,
                       json::serialize(json::object{{"older_than", core::format_rfc3339(cutoff)}}),
                       json::serialize(json::object{{"deleted_messages", deleted}})};
  co_await audit(actor, note);
  co_return deleted;
}

Task<std::vector<storage::BackupInfo>> AdminService::list_backups() {
  if (!options_.backups || blocking_ == nullptr) {
    throw core::service_unavailable("Backups are not available on this node");
  }
  auto settings = *options_.backups;
  auto listing = [settings] { return storage::Backups(settings).list(); };
  co_return co_await blocking_->run(std::move(listing));
}

Task<storage::BackupInfo> AdminService::create_backup(const Actor& actor, std::string reason) {
  check_reason(reason);
  if (!options_.backups || blocking_ == nullptr) {
    throw core::service_unavailable("Backups are not available on this node");
  }
  if (backup_running_.exchange(true)) {
    throw core::conflict("A backup is already being taken; try again when it is done");
  }
  auto settings = *options_.backups;
  auto taking = [settings] { return storage::Backups(settings).create(); };
  storage::BackupInfo info;
  std::exception_ptr failure;
  try {
    info = co_await blocking_->run(std::move(taking));
  } catch (...) {
    failure = std::current_exception();
  }
  backup_running_ = false;
  if (failure) {
    std::rethrow_exception(failure);
  }
  const AuditNote note{"backup.create", "backup:" + info.name, reason, "null",
                       json::serialize(json::object{{"name", info.name}, {"bytes", info.bytes}})};
  co_await audit(actor, note);
  co_return info;
}

Task<AuditPage> AdminService::list_audit(std::optional<storage::AuditId> before_id, std::size_t limit) {
  const std::size_t size = page_size(limit);
  auto entries = co_await store_.list_audit(before_id, size + 1);
  AuditPage page;
  if (entries.size() > size) {
    entries.resize(size);
    page.next_cursor = entries.back().id;
  }
  page.entries = std::move(entries);
  co_return page;
}

Task<StatsReport> AdminService::stats(int days) {
  if (days != 7 && days != 30 && days != 90) {
    throw core::validation_failed("days", "'days' must be 7, 30 or 90");
  }
  const auto today = std::chrono::floor<std::chrono::days>(clock_());
  StatsReport report;
  report.to = today;
  report.from = today - std::chrono::days(days - 1);
  auto rolled = co_await store_.load_daily_stats(report.from, today);
  // Finished days never rolled up are computed once from the live tables and stored.
  auto first_missing = report.from;
  for (const auto& row : rolled) {
    if (row.day != first_missing) {
      break;
    }
    first_missing += std::chrono::days(1);
  }
  if (first_missing < today) {
    auto computed = co_await store_.compute_daily_stats(first_missing, today);
    std::vector<storage::DailyStats> missing;
    for (const auto& row : computed) {
      const bool stored =
          std::any_of(rolled.begin(), rolled.end(), [&](const storage::DailyStats& r) { return r.day == row.day; });
      if (!stored) {
        missing.push_back(row);
      }
    }
    co_await store_.save_daily_stats(missing);
    rolled.insert(rolled.end(), missing.begin(), missing.end());
    std::sort(rolled.begin(), rolled.end(),
              [](const storage::DailyStats& a, const storage::DailyStats& b) { return a.day < b.day; });
  }
  const auto tomorrow = today + std::chrono::days(1);
  auto live = co_await store_.compute_daily_stats(today, tomorrow);
  report.days = std::move(rolled);
  report.days.insert(report.days.end(), live.begin(), live.end());
  co_return report;
}

Task<FlagSet> AdminService::flags() {
  co_return co_await flags_.all();
}

Task<FlagSet> AdminService::set_flags(const Actor& actor, const FlagSet& changes, std::string reason) {
  check_reason(reason);
  const auto before = co_await flags_.all();
  auto after = co_await flags_.set(changes);
  if (after != before) {
    const AuditNote note{"flags.update", "flags", reason, flags_state(before), flags_state(after)};
    co_await audit(actor, note);
  }
  co_return after;
}

}  // namespace evolveai::services
