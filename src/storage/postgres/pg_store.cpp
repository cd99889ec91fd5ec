#include "storage/postgres/pg_store.hpp"

#include <algorithm>
#include <exception>
#include <limits>
#include <utility>

#include "storage/store_error.hpp"
#include "storage/store_support.hpp"

// Note for maintainers: GCC 12 mishandles temporaries with destructors inside co_await
// expressions, so every argument of a co_await call here is a named local.

namespace evolveai::storage::postgres {

namespace sup = evolveai::storage::support;

namespace {

constexpr std::int64_t kNoUpperId = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMigrationLockKey = 0x65766f6c7665;  // "evolve"
constexpr std::chrono::hours kMigrationCallTimeout{1};

std::int64_t as_int(std::size_t n) {
  return static_cast<std::int64_t>(std::min<std::size_t>(n, static_cast<std::size_t>(kNoUpperId)));
}

// users: id, telegram_id, first_name, last_name, username, language_code, settings,
//        is_banned, premium_until, usage_day, usage_count, created_at, updated_at
User read_user(const Result& r, int row, int c = 0) {
  User u;
  u.id = r.int64(row, c + 0);
  u.telegram_id = r.int64(row, c + 1);
  u.first_name = r.text(row, c + 2);
  u.last_name = r.optional_text(row, c + 3);
  u.username = r.optional_text(row, c + 4);
  u.language_code = r.optional_text(row, c + 5);
  u.settings_json = r.text(row, c + 6);
  u.banned = r.boolean(row, c + 7);
  u.premium_until = r.optional_time(row, c + 8);
  u.usage_day = r.optional_day(row, c + 9);
  u.usage_count = r.int64(row, c + 10);
  u.created_at = r.time(row, c + 11);
  u.updated_at = r.time(row, c + 12);
  return u;
}

// messages: id, user_id, role, content, has_image, tokens, status, client_message_id,
//           reply_to_id, created_at, finish_reason
Message read_message(const Result& r, int row) {
  Message m;
  m.id = r.int64(row, 0);
  m.user_id = r.int64(row, 1);
  m.role = role_from_string(r.view(row, 2));
  m.content = r.text(row, 3);
  m.has_image = r.boolean(row, 4);
  m.tokens = r.int64(row, 5);
  m.status = message_status_from_string(r.view(row, 6));
  m.client_message_id = r.optional_text(row, 7);
  m.reply_to_id = r.optional_int64(row, 8);
  m.created_at = r.time(row, 9);
  m.finish_reason = r.optional_text(row, 10);
  return m;
}

std::vector<Message> read_messages(const Result& r) {
  std::vector<Message> out;
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i)
    out.push_back(read_message(r, i));
  return out;
}

// payments: id, charge_id, provider_charge_id, user_id, currency, amount, plan, days,
//           status, created_at, refunded_at
Payment read_payment(const Result& r, int row) {
  Payment p;
  p.id = r.int64(row, 0);
  p.charge_id = r.text(row, 1);
  p.provider_charge_id = r.optional_text(row, 2);
  p.user_id = r.int64(row, 3);
  p.currency = r.text(row, 4);
  p.amount = r.int64(row, 5);
  p.plan = r.text(row, 6);
  p.days = r.int64(row, 7);
  p.status = payment_status_from_string(r.view(row, 8));
  p.created_at = r.time(row, 9);
  p.refunded_at = r.optional_time(row, 10);
  return p;
}

// jobs: id, kind, payload, dedupe_key, status, attempts, run_after, lease_owner,
//       lease_expires_at, last_error, created_at
Job read_job(const Result& r, int row) {
  Job j;
  j.id = r.int64(row, 0);
  j.kind = r.text(row, 1);
  j.payload = r.text(row, 2);
  j.dedupe_key = r.optional_text(row, 3);
  j.status = job_status_from_string(r.view(row, 4));
  j.attempts = r.int64(row, 5);
  j.run_after = r.time(row, 6);
  j.lease_owner = r.optional_text(row, 7);
  j.lease_expires_at = r.optional_time(row, 8);
  j.last_error = r.optional_text(row, 9);
  j.created_at = r.time(row, 10);
  return j;
}

Admin read_admin(const Result& r, int row) {
  return Admin{r.int64(row, 0), r.text(row, 1), r.text(row, 2), r.time(row, 3)};
}

AuditEntry read_audit(const Result& r, int row) {
  return AuditEntry{r.int64(row, 0), r.optional_int64(row, 1), r.text(row, 2),
                    r.text(row, 3),  r.text(row, 4),           r.time(row, 5)};
}

Memory read_memory(const Result& r, UserId user_id) {
  Memory m;
  m.user_id = user_id;
  if (r.rows() > 0) {
    m.summary = r.text(0, 0);
    m.facts = sup::facts_from_json(r.view(0, 1));
    m.last_summarized_message_id = r.int64(0, 2);
    m.version = r.int64(0, 3);
    m.updated_at = r.time(0, 4);
  }
  return m;
}

// --- statements ---------------------------------------------------------------------------------

constexpr Statement kUserUpsert{
    "users.upsert",
    "INSERT INTO users (telegram_id, first_name, last_name, username, language_code, created_at, updated_at) "
    "VALUES ($1::bigint, $2, $3, $4, $5, $6::timestamptz, $6::timestamptz) "
    "ON CONFLICT (telegram_id) DO UPDATE SET first_name = excluded.first_name, last_name = excluded.last_name, "
    "username = excluded.username, language_code = excluded.language_code, updated_at = excluded.updated_at "
    "RETURNING id, telegram_id, first_name, last_name, username, language_code, settings::text, is_banned, "
    "premium_until, usage_day, usage_count, created_at, updated_at"};
constexpr Statement kUserFind{
    "users.find",
    "SELECT id, telegram_id, first_name, last_name, username, language_code, settings::text, is_banned, "
    "premium_until, usage_day, usage_count, created_at, updated_at FROM users WHERE id = $1::bigint"};
constexpr Statement kUserFindByTelegram{
    "users.find_by_telegram_id",
    "SELECT id, telegram_id, first_name, last_name, username, language_code, settings::text, is_banned, "
    "premium_until, usage_day, usage_count, created_at, updated_at FROM users WHERE telegram_id = $1::bigint"};
constexpr Statement kUserSettings{
    "users.update_settings",
    "UPDATE users SET settings = $2::jsonb, updated_at = $3::timestamptz WHERE id = $1::bigint"};
constexpr Statement kUserBan{"users.set_banned",
                             "UPDATE users SET is_banned = $2::boolean, updated_at = $3::timestamptz "
                             "WHERE id = $1::bigint"};
constexpr Statement kUserPremiumSet{"users.set_premium",
                                    "UPDATE users SET premium_until = $2::timestamptz, updated_at = $3::timestamptz "
                                    "WHERE id = $1::bigint"};
constexpr Statement kUserPremiumExtend{
    "users.grant_premium",
    "UPDATE users SET premium_until = greatest(premium_until, $2::timestamptz) + $3::bigint * interval '1 day', "
    "updated_at = $2::timestamptz WHERE id = $1::bigint RETURNING premium_until"};
constexpr Statement kUserList{
    "users.list",
    "SELECT id, telegram_id, first_name, last_name, username, language_code, settings::text, is_banned, "
    "premium_until, usage_day, usage_count, created_at, updated_at FROM users "
    "WHERE id < $1::bigint AND ($2::boolean IS NULL OR $2::boolean = coalesce(premium_until > $3::timestamptz, false)) "
    "AND ($4::text IS NULL OR first_name ILIKE $4::text OR last_name ILIKE $4::text OR username ILIKE $4::text "
    "OR telegram_id::text = $5::text) AND ($7::boolean IS NULL OR is_banned = $7::boolean) "
    "AND ($8::timestamptz IS NULL OR (SELECT m.created_at FROM messages m WHERE m.user_id = users.id "
    "ORDER BY m.id DESC LIMIT 1) >= $8::timestamptz) ORDER BY id DESC LIMIT $6::bigint"};

constexpr Statement kQuotaTake{
    "quota.take",
    "UPDATE users SET usage_count = CASE WHEN usage_day IS NOT DISTINCT FROM $2::date THEN usage_count + 1 ELSE 1 "
    "END, usage_day = $2::date WHERE id = $1::bigint AND (coalesce(premium_until > $3::timestamptz, false) "
    "OR (CASE WHEN usage_day IS NOT DISTINCT FROM $2::date THEN usage_count ELSE 0 END) < $4::bigint) "
    "RETURNING usage_count, coalesce(premium_until > $3::timestamptz, false)"};
constexpr Statement kQuotaPeek{
    "quota.peek",
    "SELECT CASE WHEN usage_day IS NOT DISTINCT FROM $2::date THEN usage_count ELSE 0 END FROM users "
    "WHERE id = $1::bigint"};
constexpr Statement kQuotaGiveBack{"quota.give_back",
                                   "UPDATE users SET usage_count = usage_count - 1 WHERE id = $1::bigint "
                                   "AND usage_day = $2::date AND usage_count > 0"};

// $1 user, $2 counter, $3 day, $4 now, $5 free limit. ON CONFLICT re-checks the limit on the row's
// latest version under its row lock, so concurrent takers never pass the limit together.
constexpr Statement kDailyTake{
    "daily.take",
    "INSERT INTO daily_counters AS d (user_id, counter, day, used) "
    "SELECT id, $2::text, $3::date, 1 FROM users "
    "WHERE id = $1::bigint AND (coalesce(premium_until > $4::timestamptz, false) OR $5::bigint > 0) "
    "ON CONFLICT (user_id, counter, day) DO UPDATE SET used = d.used + 1 "
    "WHERE d.used < $5::bigint "
    "OR EXISTS (SELECT 1 FROM users WHERE id = $1::bigint AND premium_until > $4::timestamptz) "
    "RETURNING d.used, EXISTS (SELECT 1 FROM users WHERE id = $1::bigint AND premium_until > $4::timestamptz)"};
constexpr Statement kDailyPeek{
    "daily.peek",
    "SELECT used FROM daily_counters WHERE user_id = $1::bigint AND counter = $2::text AND day = $3::date"};
constexpr Statement kDailyGiveBack{"daily.give_back",
                                   "UPDATE daily_counters SET used = used - 1 WHERE user_id = $1::bigint "
                                   "AND counter = $2::text AND day = $3::date AND used > 0"};

constexpr Statement kMessageInsert{
    "messages.insert",
    "INSERT INTO messages (user_id, role, content, has_image, tokens, status, client_message_id, reply_to_id, "
    "created_at, finish_reason) VALUES ($1::bigint, $2, $3, $4::boolean, $5::bigint, $6, $7, $8::bigint, "
    "$9::timestamptz, $10) "
    "ON CONFLICT (user_id, client_message_id) DO NOTHING "
    "RETURNING id, user_id, role, content, has_image, tokens, status, client_message_id, reply_to_id, created_at, "
    "finish_reason"};
constexpr Statement kMessageByClientId{
    "messages.find_by_client_id",
    "SELECT id, user_id, role, content, has_image, tokens, status, client_message_id, reply_to_id, created_at, "
    "finish_reason "
    "FROM messages WHERE user_id = $1::bigint AND client_message_id = $2::text"};
constexpr Statement kMessageReply{
    "messages.find_reply",
    "SELECT id, user_id, role, content, has_image, tokens, status, client_message_id, reply_to_id, created_at, "
    "finish_reason "
    "FROM messages WHERE user_id = $1::bigint AND reply_to_id = $2::bigint ORDER BY id LIMIT 1"};
constexpr Statement kMessageStatus{
    "messages.set_status",
    "UPDATE messages SET status = $3, tokens = coalesce($4::bigint, tokens) WHERE id = $2::bigint "
    "AND user_id = $1::bigint"};
constexpr Statement kMessagesNewest{
    "messages.newest",
    "SELECT id, user_id, role, content, has_image, tokens, status, client_message_id, reply_to_id, created_at, "
    "finish_reason "
    "FROM messages WHERE user_id = $1::bigint AND id < $2::bigint ORDER BY id DESC LIMIT $3::bigint"};
constexpr Statement kMessagesAfter{
    "messages.after",
    "SELECT id, user_id, role, content, has_image, tokens, status, client_message_id, reply_to_id, created_at, "
    "finish_reason "
    "FROM messages WHERE user_id = $1::bigint AND id > $2::bigint ORDER BY id LIMIT $3::bigint"};
constexpr Statement kMessagesCount{"messages.count",
                                   "SELECT count(*) FROM messages WHERE user_id = $1::bigint AND id > $2::bigint"};
constexpr Statement kMessagesAll{
    "messages.all",
    "SELECT id, user_id, role, content, has_image, tokens, status, client_message_id, reply_to_id, created_at, "
    "finish_reason "
    "FROM messages WHERE user_id = $1::bigint ORDER BY id"};
constexpr Statement kUserDataDelete{"user_data.delete",
                                    "WITH m AS (DELETE FROM messages WHERE user_id = $1::bigint RETURNING 1), "
                                    "mem AS (DELETE FROM memories WHERE user_id = $1::bigint RETURNING 1) "
                                    "SELECT (SELECT count(*) FROM m), (SELECT count(*) FROM mem)"};
// Searches match `'@<user>' & (words)`: the owner lexeme (migration 0006) lets the GIN index find
// the user's matches itself; ranking and snippets use the words alone. The combined query is a
// FROM item, made once per execution: as an expression in WHERE, the generic plan of the
// prepared statement parsed it again for every candidate row.
constexpr Statement kMessagesSearch{
    "messages.search",
    "SELECT m.id, m.role, m.created_at, ts_headline('simple', m.content, q, $4::text), ts_rank_cd(m.search, q) "
    "FROM messages AS m, websearch_to_tsquery('simple', $2::text) AS q, "
    "tsquery_and(('''@' || $1::bigint || '''')::tsquery, q) AS own "
    "WHERE m.user_id = $1::bigint AND numnode(q) > 0 AND m.search @@ own "
    "ORDER BY ts_rank_cd(m.search, q) DESC, m.id DESC "
    "LIMIT $3::bigint"};
constexpr Statement kMessagesRelevant{
    "messages.relevant",
    "SELECT m.id, m.user_id, m.role, m.content, m.has_image, m.tokens, m.status, m.client_message_id, "
    "m.reply_to_id, m.created_at, m.finish_reason "
    "FROM messages AS m, websearch_to_tsquery('simple', $2::text) AS q, "
    "tsquery_and(('''@' || $1::bigint || '''')::tsquery, q) AS own "
    "WHERE m.user_id = $1::bigint AND numnode(q) > 0 AND m.search @@ own "
    "AND m.id < coalesce((SELECT min(r.id) FROM "
    "(SELECT id FROM messages WHERE user_id = $1::bigint ORDER BY id DESC LIMIT $3::bigint) AS r), "
    "9223372036854775807) ORDER BY ts_rank_cd(m.search, q) DESC, m.id DESC LIMIT $4::bigint"};
constexpr Statement kMessagesRetention{
    "messages.retention_batch",
    "DELETE FROM messages WHERE id IN (SELECT id FROM messages WHERE created_at < $1::timestamptz "
    "ORDER BY id LIMIT $2::bigint)"};

constexpr Statement kMemoryGet{"memory.get",
                               "SELECT summary, facts::text, last_summarized_message_id, version, updated_at "
                               "FROM memories WHERE user_id = $1::bigint"};
constexpr Statement kMemoryInsert{
    "memory.insert",
    "INSERT INTO memories (user_id, summary, facts, last_summarized_message_id, version, updated_at) "
    "VALUES ($1::bigint, $2, $3::jsonb, $4::bigint, 1, $5::timestamptz) ON CONFLICT (user_id) DO NOTHING "
    "RETURNING version"};
constexpr Statement kMemoryUpdate{
    "memory.update",
    "UPDATE memories SET summary = $2, facts = $3::jsonb, last_summarized_message_id = $4::bigint, "
    "version = version + 1, updated_at = $6::timestamptz WHERE user_id = $1::bigint AND version = $5::bigint "
    "RETURNING version"};

constexpr Statement kPaymentApply{
    "payments.apply",
    "WITH ins AS (INSERT INTO payments (charge_id, provider_charge_id, user_id, currency, amount, plan, days, "
    "status, created_at) VALUES ($1, $2, $3::bigint, $4, $5::bigint, $6, $7::bigint, 'paid', $8::timestamptz) "
    "ON CONFLICT (charge_id) DO NOTHING RETURNING *), "
    "upd AS (UPDATE users SET premium_until = greatest(users.premium_until, $8::timestamptz) + "
    "ins.days * interval '1 day', updated_at = $8::timestamptz FROM ins WHERE users.id = ins.user_id "
    "RETURNING users.premium_until) "
    "SELECT ins.id, ins.charge_id, ins.provider_charge_id, ins.user_id, ins.currency, ins.amount, ins.plan, "
    "ins.days, ins.status, ins.created_at, ins.refunded_at, (SELECT premium_until FROM upd) FROM ins"};
constexpr Statement kPaymentFind{
    "payments.find",
    "SELECT p.id, p.charge_id, p.provider_charge_id, p.user_id, p.currency, p.amount, p.plan, p.days, p.status, "
    "p.created_at, p.refunded_at, u.premium_until FROM payments AS p JOIN users AS u ON u.id = p.user_id "
    "WHERE p.charge_id = $1::text"};
constexpr Statement kPaymentRefund{
    "payments.refund",
    "WITH ref AS (UPDATE payments SET status = 'refunded', refunded_at = $2::timestamptz WHERE charge_id = $1::text "
    "AND status = 'paid' RETURNING *), "
    "upd AS (UPDATE users SET premium_until = CASE WHEN users.premium_until - ref.days * interval '1 day' > "
    "$2::timestamptz THEN users.premium_until - ref.days * interval '1 day' ELSE NULL END, "
    "updated_at = $2::timestamptz FROM ref WHERE users.id = ref.user_id RETURNING users.premium_until) "
    "SELECT ref.id, ref.charge_id, ref.provider_charge_id, ref.user_id, ref.currency, ref.amount, ref.plan, "
    "ref.days, ref.status, ref.created_at, ref.refunded_at, (SELECT premium_until FROM upd) FROM ref"};
constexpr Statement kPaymentList{
    "payments.list",
    "SELECT id, charge_id, provider_charge_id, user_id, currency, amount, plan, days, status, created_at, "
    "refunded_at FROM payments WHERE ($1::bigint IS NULL OR user_id = $1::bigint) AND id < $2::bigint "
    "ORDER BY id DESC LIMIT $3::bigint"};
constexpr Statement kPaymentsOfUser{
    "payments.of_user",
    "SELECT id, charge_id, provider_charge_id, user_id, currency, amount, plan, days, status, created_at, "
    "refunded_at FROM payments WHERE user_id = $1::bigint ORDER BY id"};

constexpr Statement kAdminCreate{"admins.create",
                                 "INSERT INTO admins (username, password_hash, created_at) "
                                 "VALUES ($1, $2, $3::timestamptz) ON CONFLICT (username) DO NOTHING "
                                 "RETURNING id, username, password_hash, created_at"};
constexpr Statement kAdminFind{"admins.find",
                               "SELECT id, username, password_hash, created_at FROM admins WHERE username = $1::text"};
constexpr Statement kAuditAppend{"audit.append",
                                 "INSERT INTO audit_log (admin_id, action, target, details, created_at) "
                                 "VALUES ($1::bigint, $2, $3, $4, $5::timestamptz) "
                                 "RETURNING id, admin_id, action, target, details, created_at"};
constexpr Statement kAuditList{"audit.list",
                               "SELECT id, admin_id, action, target, details, created_at FROM audit_log "
                               "WHERE id < $1::bigint ORDER BY id DESC LIMIT $2::bigint"};

constexpr Statement kJobEnqueue{
    "jobs.enqueue",
    "INSERT INTO jobs (kind, payload, dedupe_key, status, attempts, run_after, created_at, updated_at) "
    "VALUES ($1, $2, $3, 'pending', 0, $4::timestamptz, $5::timestamptz, $5::timestamptz) "
    "ON CONFLICT (dedupe_key) WHERE status IN ('pending', 'running') DO NOTHING RETURNING id"};
constexpr Statement kJobLease{
    "jobs.lease",
    "UPDATE jobs SET status = 'running', lease_owner = $2, lease_expires_at = $3::timestamptz, "
    "attempts = attempts + 1, updated_at = $1::timestamptz WHERE id = (SELECT id FROM jobs "
    "WHERE kind IN (SELECT jsonb_array_elements_text($4::jsonb)) AND ((status = 'pending' AND run_after <= "
    "$1::timestamptz) OR (status = 'running' AND lease_expires_at <= $1::timestamptz)) "
    "ORDER BY run_after, id LIMIT 1 FOR UPDATE SKIP LOCKED) "
    "RETURNING id, kind, payload, dedupe_key, status, attempts, run_after, lease_owner, lease_expires_at, "
    "last_error, created_at"};
constexpr Statement kJobComplete{
    "jobs.complete",
    "UPDATE jobs SET status = 'done', lease_owner = NULL, lease_expires_at = NULL, updated_at = $3::timestamptz "
    "WHERE id = $1::bigint AND lease_owner = $2::text AND status = 'running'"};
constexpr Statement kJobFail{
    "jobs.fail",
    "UPDATE jobs SET status = CASE WHEN $4::timestamptz IS NULL THEN 'failed' ELSE 'pending' END, "
    "run_after = coalesce($4::timestamptz, run_after), last_error = $3, lease_owner = NULL, "
    "lease_expires_at = NULL, updated_at = $5::timestamptz WHERE id = $1::bigint AND lease_owner = $2::text "
    "AND status = 'running'"};
constexpr Statement kJobFind{
    "jobs.find",
    "SELECT id, kind, payload, dedupe_key, status, attempts, run_after, lease_owner, lease_expires_at, "
    "last_error, created_at FROM jobs WHERE id = $1::bigint"};
constexpr Statement kLeaseAcquire{
    "leases.acquire",
    "INSERT INTO leases (name, owner, expires_at) VALUES ($1, $2, $3::timestamptz) "
    "ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at "
    "WHERE leases.owner = excluded.owner OR leases.expires_at <= $4::timestamptz RETURNING owner"};
constexpr Statement kLeaseRelease{"leases.release", "DELETE FROM leases WHERE name = $1::text AND owner = $2::text"};
constexpr Statement kKvGet{"kv.get", "SELECT value FROM kv WHERE key = $1::text"};
constexpr Statement kKvSet{"kv.set",
                           "INSERT INTO kv (key, value, updated_at) VALUES ($1, $2, $3::timestamptz) "
                           "ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at"};
constexpr Statement kUpdateMark{"updates.mark_processed",
                                "INSERT INTO telegram_updates (update_id, processed_at) "
                                "VALUES ($1::bigint, $2::timestamptz) ON CONFLICT (update_id) DO NOTHING"};
constexpr Statement kUpdatesRetention{"updates.retention",
                                      "DELETE FROM telegram_updates WHERE processed_at < $1::timestamptz"};
constexpr Statement kPing{"ping", "SELECT 1"};
constexpr Statement kBeginSnapshot{"tx.begin_snapshot", "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"};
constexpr Statement kCommit{"tx.commit", "COMMIT"};

constexpr Statement kMigrationsList{"migrations.list",
                                    "SELECT version, name, checksum, applied_at FROM schema_migrations"};
constexpr Statement kMigrationsRecord{"migrations.record",
                                      "INSERT INTO schema_migrations (version, name, checksum, applied_at) "
                                      "VALUES ($1::integer, $2, $3, $4::timestamptz) ON CONFLICT (version) DO NOTHING"};
constexpr const char* kMigrationsTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, "
    "checksum text NOT NULL, applied_at timestamptz NOT NULL)";

/// ts_headline options: the private-use highlight markers (escaped afterwards by
/// render_snippet) and a short snippet.
std::string headline_options() {
  return "StartSel=" + std::string(sup::kMarkStart) + ", StopSel=" + std::string(sup::kMarkEnd) +
         ", MaxWords=30, MinWords=12, ShortWord=2, MaxFragments=2, FragmentDelimiter=\" \xE2\x80\xA6 \"";
}

std::string json_array(const std::vector<std::string>& items) {
  return sup::string_array_json(items);
}

}  // namespace

// --- plumbing -----------------------------------------------------------------------------------------

namespace {

bool transient(const std::exception& e) {
  const auto* error = dynamic_cast<const StoreError*>(&e);
  return error && (error->kind() == StoreErrorKind::kTransient || error->kind() == StoreErrorKind::kConnect);
}

bool transient_or_lost(const std::exception& e) {
  const auto* error = dynamic_cast<const StoreError*>(&e);
  return transient(e) || (error && error->kind() == StoreErrorKind::kConnectionLost);
}

}  // namespace

PgStore::PgStore(PgStoreOptions options, boost::asio::any_io_executor executor)
    : options_(std::move(options)),
      executor_(std::move(executor)),
      pool_(Pool::create(executor_,
                         ConnectSettings{options_.url, options_.connect_timeout, options_.statement_timeout,
                                         options_.session_settings},
                         options_.pool, options_.observer)),
      reads_(options_.retry, transient_or_lost),
      writes_(options_.retry, transient),
      sleeper_(net::timer_sleeper(executor_)) {
  if (!options_.clock)
    options_.clock = [] { return std::chrono::system_clock::now(); };
  auto listener = [observer = options_.observer](unsigned attempt, std::chrono::nanoseconds, const std::exception& e) {
    if (!observer.on_retry)
      return;
    const auto* error = dynamic_cast<const StoreError*>(&e);
    observer.on_retry(error ? std::string_view(error->statement()) : std::string_view("unknown"), attempt,
                      error ? to_string(error->kind()) : "unknown");
  };
  reads_.on_retry(listener);
  writes_.on_retry(listener);
}

PgStore::~PgStore() = default;

Time PgStore::now() const {
  return sup::store_precision(options_.clock());
}

template <typename F>
auto PgStore::op(const char* name, Retry retry, F fn) -> std::invoke_result_t<F&, Connection&> {
  using R = typename std::invoke_result_t<F&, Connection&>::value_type;
  const net::RetryPolicy& policy = retry == Retry::kIdempotent ? reads_ : writes_;
  auto attempt = [this, name, &fn]() -> Task<R> {
    auto lease = co_await pool_->acquire();
    const auto start = std::chrono::steady_clock::now();
    std::exception_ptr failure;
    try {
      if constexpr (std::is_void_v<R>) {
        co_await fn(*lease);
        options_.observer.report(name, std::chrono::steady_clock::now() - start, true);
        co_return;
      } else {
        R result = co_await fn(*lease);
        options_.observer.report(name, std::chrono::steady_clock::now() - start, true);
        co_return result;
      }
    } catch (...) {
      failure = std::current_exception();
    }
    options_.observer.report(name, std::chrono::steady_clock::now() - start, false);
    std::rethrow_exception(failure);
  };
  co_return co_await policy.run(sleeper_, attempt);
}

// --- schema -----------------------------------------------------------------------------------------

/// Migrations on PostgreSQL: one dedicated connection holds a session advisory lock while
/// migrations run, each in its own transaction; other nodes wait on the lock.
class PgStore::MigrationDriverImpl final : public MigrationDriver {
 public:
  explicit MigrationDriverImpl(PgStore& store) : store_(store) {}
  MigrationDriverImpl(const MigrationDriverImpl&) = delete;
  MigrationDriverImpl& operator=(const MigrationDriverImpl&) = delete;
  ~MigrationDriverImpl() override {
    // Still holding the connection means unlock() did not run: close it so that the
    // session lock goes with it.
    if (lease_)
      (*lease_)->mark_broken();
  }

  Task<void> lock() override {
    lease_.emplace(co_await store_.pool_->acquire());
    Connection& c = **lease_;
    c.set_call_timeout(kMigrationCallTimeout);
    const std::string no_timeout = "SET statement_timeout = 0";
    co_await c.exec_simple("migrations.lock", no_timeout);
    const std::string take = "SELECT pg_advisory_lock(" + std::to_string(kMigrationLockKey) + ")";
    co_await c.exec_simple("migrations.lock", take);
    const std::string create_table = kMigrationsTable;
    co_await c.exec_simple("migrations.create_table", create_table);
  }

  Task<void> unlock() override {
    if (!lease_)
      co_return;
    Connection& c = **lease_;
    const std::string release =
        "SELECT pg_advisory_unlock(" + std::to_string(kMigrationLockKey) + "); RESET statement_timeout";
    co_await c.exec_simple("migrations.unlock", release);
    c.set_call_timeout(store_.options_.pool.call_timeout);
    lease_.reset();
  }

  Task<std::vector<AppliedMigration>> applied() override {
    const Params none;
    const auto r = co_await (*lease_)->execute(kMigrationsList, none);
    std::vector<AppliedMigration> out;
    for (int i = 0; i < r.rows(); ++i) {
      out.push_back(AppliedMigration{static_cast<int>(r.int64(i, 0)), r.text(i, 1), r.text(i, 2), r.time(i, 3)});
    }
    co_return out;
  }

  Task<bool> apply(const Migration& migration, Time now) override {
    Connection& c = **lease_;
    const std::string begin = "BEGIN";
    co_await c.exec_simple("migrations.begin", begin);
    std::exception_ptr failure;
    try {
      co_await c.exec_simple("migrations.apply", migration.sql);
      Params p;
      p.add(static_cast<std::int64_t>(migration.version)).add(migration.name).add(migration.checksum).add(now);
      co_await c.execute(kMigrationsRecord, p);
      const std::string commit = "COMMIT";
      co_await c.exec_simple("migrations.commit", commit);
    } catch (...) {
      failure = std::current_exception();
    }
    if (failure) {
      if (!c.broken()) {
        const std::string rollback = "ROLLBACK";
        co_await c.exec_simple("migrations.rollback", rollback);
      }
      std::rethrow_exception(failure);
    }
    co_return true;  // the advisory lock guarantees nobody applied it meanwhile
  }

 private:
  PgStore& store_;
  std::optional<Pool::Lease> lease_;
};

Task<std::vector<MigrationStatus>> PgStore::migrate_up() {
  MigrationDriverImpl driver(*this);
  Migrator migrator(driver, "postgres", migrations_for("postgres"), options_.clock);
  co_return co_await migrator.up();
}

Task<std::vector<MigrationStatus>> PgStore::migration_status() {
  MigrationDriverImpl driver(*this);
  Migrator migrator(driver, "postgres", migrations_for("postgres"), options_.clock);
  co_return co_await migrator.status();
}

Task<void> PgStore::ping() {
  co_await op("ping", Retry::kIdempotent, [](Connection& c) -> Task<void> {
    const Params none;
    co_await c.execute(kPing, none);
  });
}

// --- users --------------------------------------------------------------------------------------------

Task<User> PgStore::upsert_user(const TelegramIdentity& identity) {
  sup::require_storable_text("first_name", identity.first_name);
  if (identity.last_name)
    sup::require_storable_text("last_name", *identity.last_name);
  if (identity.username)
    sup::require_storable_text("username", *identity.username);
  if (identity.language_code)
    sup::require_storable_text("language_code", *identity.language_code);
  Params p;
  p.add(identity.telegram_id)
      .add(identity.first_name)
      .add(identity.last_name)
      .add(identity.username)
      .add(identity.language_code)
      .add(now());
  co_return co_await op("users.upsert", Retry::kOnlyIfNotSent, [&](Connection& c) -> Task<User> {
    const auto r = co_await c.execute(kUserUpsert, p);
    co_return read_user(r, 0);
  });
}

Task<std::optional<User>> PgStore::find_user(UserId user_id) {
  Params p;
  p.add(user_id);
  co_return co_await op("users.find", Retry::kIdempotent, [&](Connection& c) -> Task<std::optional<User>> {
    const auto r = co_await c.execute(kUserFind, p);
    if (r.rows() == 0)
      co_return std::nullopt;
    co_return read_user(r, 0);
  });
}

Task<std::optional<User>> PgStore::find_user_by_telegram_id(std::int64_t telegram_id) {
  Params p;
  p.add(telegram_id);
  co_return co_await op("users.find_by_telegram_id", Retry::kIdempotent,
                        [&](Connection& c) -> Task<std::optional<User>> {
                          const auto r = co_await c.execute(kUserFindByTelegram, p);
                          if (r.rows() == 0)
                            co_return std::nullopt;
                          co_return read_user(r, 0);
                        });
}

Task<bool> PgStore::update_user_settings(UserId user_id, std::string settings_json) {
  sup::require_json_object("settings", settings_json);
  Params p;
  p.add(user_id).add(settings_json).add(now());
  co_return co_await op("users.update_settings", Retry::kIdempotent, [&](Connection& c) -> Task<bool> {
    const auto r = co_await c.execute(kUserSettings, p);
    co_return r.affected() > 0;
  });
}

Task<bool> PgStore::set_user_banned(UserId user_id, bool banned) {
  Params p;
  p.add(user_id).add(banned).add(now());
  co_return co_await op("users.set_banned", Retry::kIdempotent, [&](Connection& c) -> Task<bool> {
    const auto r = co_await c.execute(kUserBan, p);
    co_return r.affected() > 0;
  });
}

Task<bool> PgStore::set_premium_until(UserId user_id, std::optional<Time> until) {
  Params p;
  p.add(user_id).add(until).add(now());
  co_return co_await op("users.set_premium", Retry::kIdempotent, [&](Connection& c) -> Task<bool> {
    const auto r = co_await c.execute(kUserPremiumSet, p);
    co_return r.affected() > 0;
  });
}

Task<std::optional<Time>> PgStore::grant_premium(UserId user_id, std::chrono::days days) {
  Params p;
  p.add(user_id).add(now()).add(static_cast<std::int64_t>(days.count()));
  co_return co_await op("users.grant_premium", Retry::kOnlyIfNotSent, [&](Connection& c) -> Task<std::optional<Time>> {
    const auto r = co_await c.execute(kUserPremiumExtend, p);
    if (r.rows() == 0)
      co_return std::nullopt;
    co_return r.optional_time(0, 0);
  });
}

Task<std::vector<User>> PgStore::list_users(const UserListQuery& query) {
  std::optional<std::string> pattern;
  if (query.text && !query.text->empty())
    pattern = sup::like_pattern_contains(*query.text);
  Params p;
  p.add(query.before_id.value_or(kNoUpperId))
      .add(query.premium)
      .add(now())
      .add(pattern)
      .add(query.text.value_or(""))
      .add(as_int(sup::clamp_limit(query.limit)))
      .add(query.banned)
      .add(query.active_since);
  co_return co_await op("users.list", Retry::kIdempotent, [&](Connection& c) -> Task<std::vector<User>> {
    const auto r = co_await c.execute(kUserList, p);
    std::vector<User> out;
    for (int i = 0; i < r.rows(); ++i)
      out.push_back(read_user(r, i));
    co_return out;
  });
}

// --- quota --------------------------------------------------------------------------------------------

Task<QuotaGrant> PgStore::take_quota_unit(UserId user_id, std::int64_t free_limit) {
  const Time t = now();
  QuotaGrant grant;
  grant.day = sup::utc_day(t);
  grant.resets_at = Time(grant.day + std::chrono::days(1));
  Params take;
  take.add(user_id).add(grant.day).add(t).add(free_limit);
  Params peek;
  peek.add(user_id).add(grant.day);
  co_return co_await op("quota.take", Retry::kOnlyIfNotSent, [&](Connection& c) -> Task<QuotaGrant> {
    QuotaGrant g = grant;
    const auto r = co_await c.execute(kQuotaTake, take);
    if (r.rows() > 0) {
      g.granted = true;
      g.used = r.int64(0, 0);
      g.unlimited = r.boolean(0, 1);
      co_return g;
    }
    const auto current = co_await c.execute(kQuotaPeek, peek);
    if (current.rows() > 0)
      g.used = current.int64(0, 0);
    co_return g;
  });
}

Task<void> PgStore::give_back_quota_unit(UserId user_id, std::chrono::sys_days day) {
  Params p;
  p.add(user_id).add(day);
  co_await op("quota.give_back", Retry::kOnlyIfNotSent,
              [&](Connection& c) -> Task<void> { co_await c.execute(kQuotaGiveBack, p); });
}

Task<QuotaGrant> PgStore::take_daily_unit(UserId user_id, std::string_view counter, std::int64_t free_limit) {
  sup::validate_counter_name(counter);
  const Time t = now();
  QuotaGrant grant;
  grant.day = sup::utc_day(t);
  grant.resets_at = Time(grant.day + std::chrono::days(1));
  Params take;
  take.add(user_id).add(counter).add(grant.day).add(t).add(free_limit);
  Params peek;
  peek.add(user_id).add(counter).add(grant.day);
  co_return co_await op("daily.take", Retry::kOnlyIfNotSent, [&](Connection& c) -> Task<QuotaGrant> {
    QuotaGrant g = grant;
    const auto r = co_await c.execute(kDailyTake, take);
    if (r.rows() > 0) {
      g.granted = true;
      g.used = r.int64(0, 0);
      g.unlimited = r.boolean(0, 1);
      co_return g;
    }
    const auto current = co_await c.execute(kDailyPeek, peek);
    if (current.rows() > 0)
      g.used = current.int64(0, 0);
    co_return g;
  });
}

Task<void> PgStore::give_back_daily_unit(UserId user_id, std::string_view counter, std::chrono::sys_days day) {
  sup::validate_counter_name(counter);
  Params p;
  p.add(user_id).add(counter).add(day);
  co_await op("daily.give_back", Retry::kOnlyIfNotSent,
              [&](Connection& c) -> Task<void> { co_await c.execute(kDailyGiveBack, p); });
}

// --- messages -----------------------------------------------------------------------------------------

Task<InsertedMessage> PgStore::insert_message(const NewMessage& message) {
  sup::validate_new_message(message);
  Params p;
  p.add(message.user_id)
      .add(to_string(message.role))
      .add(message.content)
      .add(message.has_image)
      .add(message.tokens)
      .add(to_string(message.status))
      .add(message.client_message_id)
      .add(message.reply_to_id)
      .add(now())
      .add(message.finish_reason);
  Params find;
  find.add(message.user_id).add(message.client_message_id);
  // A repeat with a client_message_id is harmless, so a lost connection may be retried then.
  const Retry retry = message.client_message_id ? Retry::kIdempotent : Retry::kOnlyIfNotSent;
  co_return co_await op("messages.insert", retry, [&](Connection& c) -> Task<InsertedMessage> {
    const auto r = co_await c.execute(kMessageInsert, p);
    if (r.rows() > 0)
      co_return InsertedMessage{read_message(r, 0), true};
    const auto existing = co_await c.execute(kMessageByClientId, find);
    if (existing.rows() == 0)
      throw StoreError(StoreErrorKind::kOther, "messages.insert", "conflicting row vanished");
    co_return InsertedMessage{read_message(existing, 0), false};
  });
}

Task<bool> PgStore::set_message_status(UserId user_id, MessageId message_id, MessageStatus status,
                                       std::optional<std::int64_t> tokens) {
  Params p;
  p.add(user_id).add(message_id).add(to_string(status)).add(tokens);
  co_return co_await op("messages.set_status", Retry::kIdempotent, [&](Connection& c) -> Task<bool> {
    const auto r = co_await c.execute(kMessageStatus, p);
    co_return r.affected() > 0;
  });
}

Task<std::vector<Message>> PgStore::recent_messages(UserId user_id, std::size_t limit,
                                                    std::optional<std::size_t> char_budget) {
  Params p;
  p.add(user_id).add(kNoUpperId).add(as_int(sup::clamp_limit(limit)));
  auto newest = co_await op("messages.recent", Retry::kIdempotent, [&](Connection& c) -> Task<std::vector<Message>> {
    const auto r = co_await c.execute(kMessagesNewest, p);
    co_return read_messages(r);
  });
  if (char_budget) {
    std::size_t used = 0;
    std::size_t keep = 0;
    for (const auto& m : newest) {
      if (used + m.content.size() > *char_budget)
        break;
      used += m.content.size();
      ++keep;
    }
    newest.resize(keep);
  }
  std::reverse(newest.begin(), newest.end());
  co_return newest;
}

Task<HistoryPage> PgStore::history_page(UserId user_id, std::optional<MessageId> before_id, std::size_t limit) {
  const std::size_t n = sup::clamp_limit(limit);
  Params p;
  p.add(user_id).add(before_id.value_or(kNoUpperId)).add(as_int(n + 1));
  HistoryPage page;
  page.messages = co_await op("messages.history", Retry::kIdempotent, [&](Connection& c) -> Task<std::vector<Message>> {
    const auto r = co_await c.execute(kMessagesNewest, p);
    co_return read_messages(r);
  });
  if (page.messages.size() > n) {
    page.messages.resize(n);
    page.next_before_id = page.messages.back().id;
  }
  co_return page;
}

Task<std::optional<Message>> PgStore::find_message_by_client_id(UserId user_id, std::string_view client_message_id) {
  Params p;
  p.add(user_id).add(sup::normalize_search_text(client_message_id));
  co_return co_await op("messages.find_by_client_id", Retry::kIdempotent,
                        [&](Connection& c) -> Task<std::optional<Message>> {
                          const auto r = co_await c.execute(kMessageByClientId, p);
                          if (r.rows() == 0)
                            co_return std::nullopt;
                          co_return read_message(r, 0);
                        });
}

Task<std::optional<Message>> PgStore::find_reply(UserId user_id, MessageId message_id) {
  Params p;
  p.add(user_id).add(message_id);
  co_return co_await op("messages.find_reply", Retry::kIdempotent, [&](Connection& c) -> Task<std::optional<Message>> {
    const auto r = co_await c.execute(kMessageReply, p);
    if (r.rows() == 0)
      co_return std::nullopt;
    co_return read_message(r, 0);
  });
}

Task<std::vector<Message>> PgStore::messages_after(UserId user_id, MessageId after_id, std::size_t limit) {
  Params p;
  p.add(user_id).add(after_id).add(as_int(sup::clamp_limit(limit)));
  co_return co_await op("messages.after", Retry::kIdempotent, [&](Connection& c) -> Task<std::vector<Message>> {
    const auto r = co_await c.execute(kMessagesAfter, p);
    co_return read_messages(r);
  });
}

Task<std::int64_t> PgStore::count_messages(UserId user_id, MessageId after_id) {
  Params p;
  p.add(user_id).add(after_id);
  co_return co_await op("messages.count", Retry::kIdempotent, [&](Connection& c) -> Task<std::int64_t> {
    const auto r = co_await c.execute(kMessagesCount, p);
    co_return r.int64(0, 0);
  });
}

Task<DeletedUserData> PgStore::delete_user_data(UserId user_id) {
  Params p;
  p.add(user_id);
  co_return co_await op("user_data.delete", Retry::kIdempotent, [&](Connection& c) -> Task<DeletedUserData> {
    const auto r = co_await c.execute(kUserDataDelete, p);
    co_return DeletedUserData{r.int64(0, 0), r.int64(0, 1) > 0};
  });
}

Task<std::vector<SearchHit>> PgStore::search_messages(UserId user_id, std::string_view text, std::size_t limit) {
  const std::string normalized = sup::normalize_search_text(text);
  if (sup::fts5_all_terms_query(normalized).empty())
    co_return std::vector<SearchHit>{};  // nothing to look for
  Params p;
  p.add(user_id).add(normalized).add(as_int(sup::clamp_limit(limit))).add(headline_options());
  co_return co_await op("messages.search", Retry::kIdempotent, [&](Connection& c) -> Task<std::vector<SearchHit>> {
    const auto r = co_await c.execute(kMessagesSearch, p);
    std::vector<SearchHit> out;
    for (int i = 0; i < r.rows(); ++i) {
      out.push_back(SearchHit{r.int64(i, 0), role_from_string(r.view(i, 1)), sup::render_snippet(r.view(i, 3)),
                              r.time(i, 2), r.real(i, 4)});
    }
    co_return out;
  });
}

// --- memory -------------------------------------------------------------------------------------------

Task<Memory> PgStore::get_memory(UserId user_id) {
  Params p;
  p.add(user_id);
  co_return co_await op("memory.get", Retry::kIdempotent, [&](Connection& c) -> Task<Memory> {
    const auto r = co_await c.execute(kMemoryGet, p);
    co_return read_memory(r, user_id);
  });
}

Task<std::optional<std::int64_t>> PgStore::write_memory(const MemoryWrite& w) {
  sup::require_storable_text("summary", w.summary);
  sup::validate_facts(w.facts);
  const std::string facts = sup::facts_to_json(w.facts);
  Params p;
  const Statement* statement = &kMemoryInsert;
  if (w.base_version == 0) {
    p.add(w.user_id).add(w.summary).add(facts).add(w.last_summarized_message_id).add(now());
  } else {
    statement = &kMemoryUpdate;
    p.add(w.user_id).add(w.summary).add(facts).add(w.last_summarized_message_id).add(w.base_version).add(now());
  }
  co_return co_await op("memory.write", Retry::kOnlyIfNotSent, [&](Connection& c) -> Task<std::optional<std::int64_t>> {
    const auto r = co_await c.execute(*statement, p);
    if (r.rows() == 0)
      co_return std::nullopt;
    co_return r.int64(0, 0);
  });
}

Task<TurnContext> PgStore::load_turn_context(UserId user_id, std::size_t recent_limit, std::string_view search_text,
                                             std::size_t relevant_limit) {
  const auto words = sup::relevant_words(search_text);
  const std::int64_t recent = as_int(sup::clamp_limit(recent_limit));
  std::vector<Query> queries;
  queries.push_back(Query{&kUserFind, Params{}});
  queries.back().params.add(user_id);
  queries.push_back(Query{&kMemoryGet, Params{}});
  queries.back().params.add(user_id);
  queries.push_back(Query{&kMessagesNewest, Params{}});
  queries.back().params.add(user_id).add(kNoUpperId).add(recent);
  const bool with_relevant = relevant_limit > 0 && !words.empty();
  if (with_relevant) {
    queries.push_back(Query{&kMessagesRelevant, Params{}});
    queries.back()
        .params.add(user_id)
        .add(sup::websearch_any_word_query(words))
        .add(recent)
        .add(as_int(sup::clamp_limit(relevant_limit)));
  }
  // All reads of a turn go out together and come back together: one round trip.
  co_return co_await op("turn_context.load", Retry::kIdempotent, [&](Connection& c) -> Task<TurnContext> {
    const std::span<const Query> batch(queries);
    const auto results = co_await c.pipeline("turn_context.load", batch);
    TurnContext ctx;
    if (results[0].rows() > 0)
      ctx.user = read_user(results[0], 0);
    ctx.memory = read_memory(results[1], user_id);
    ctx.recent = read_messages(results[2]);
    std::reverse(ctx.recent.begin(), ctx.recent.end());
    if (with_relevant)
      ctx.relevant = read_messages(results[3]);
    co_return ctx;
  });
}

// --- payments -----------------------------------------------------------------------------------------

Task<PaymentOutcome> PgStore::apply_payment(const NewPayment& payment) {
  sup::validate_new_payment(payment);
  Params p;
  p.add(payment.charge_id)
      .add(payment.provider_charge_id)
      .add(payment.user_id)
      .add(payment.currency)
      .add(payment.amount)
      .add(payment.plan)
      .add(payment.days)
      .add(now());
  Params find;
  find.add(payment.charge_id);
  // Insert and premium extension are one statement, hence one transaction; a repeat of the
  // charge_id is a no-op, so even a lost connection may be retried.
  co_return co_await op("payments.apply", Retry::kIdempotent, [&](Connection& c) -> Task<PaymentOutcome> {
    PaymentOutcome out;
    const auto r = co_await c.execute(kPaymentApply, p);
    if (r.rows() > 0) {
      out.applied = true;
      out.payment = read_payment(r, 0);
      out.premium_until = r.optional_time(0, 11);
      co_return out;
    }
    const auto existing = co_await c.execute(kPaymentFind, find);
    if (existing.rows() == 0)
      throw StoreError(StoreErrorKind::kOther, "payments.apply", "conflicting row vanished");
    out.payment = read_payment(existing, 0);
    out.premium_until = existing.optional_time(0, 11);
    co_return out;
  });
}

Task<RefundOutcome> PgStore::refund_payment(std::string_view charge_id) {
  const std::string charge = sup::normalize_search_text(charge_id);
  Params p;
  p.add(charge).add(now());
  Params find;
  find.add(charge);
  co_return co_await op("payments.refund", Retry::kIdempotent, [&](Connection& c) -> Task<RefundOutcome> {
    RefundOutcome out;
    const auto r = co_await c.execute(kPaymentRefund, p);
    if (r.rows() > 0) {
      out.refunded = true;
      out.payment = read_payment(r, 0);
      out.premium_until = r.optional_time(0, 11);
      co_return out;
    }
    const auto existing = co_await c.execute(kPaymentFind, find);
    if (existing.rows() > 0) {
      out.payment = read_payment(existing, 0);
      out.premium_until = existing.optional_time(0, 11);
    }
    co_return out;
  });
}

Task<std::optional<Payment>> PgStore::find_payment(std::string_view charge_id) {
  Params p;
  p.add(sup::normalize_search_text(charge_id));
  co_return co_await op("payments.find", Retry::kIdempotent, [&](Connection& c) -> Task<std::optional<Payment>> {
    const auto r = co_await c.execute(kPaymentFind, p);
    if (r.rows() == 0)
      co_return std::nullopt;
    co_return read_payment(r, 0);
  });
}

Task<std::vector<Payment>> PgStore::list_payments(std::optional<UserId> user_id, std::optional<PaymentId> before_id,
                                                  std::size_t limit) {
  Params p;
  p.add(user_id).add(before_id.value_or(kNoUpperId)).add(as_int(sup::clamp_limit(limit)));
  co_return co_await op("payments.list", Retry::kIdempotent, [&](Connection& c) -> Task<std::vector<Payment>> {
    const auto r = co_await c.execute(kPaymentList, p);
    std::vector<Payment> out;
    for (int i = 0; i < r.rows(); ++i)
      out.push_back(read_payment(r, i));
    co_return out;
  });
}

// --- admins and audit ---------------------------------------------------------------------------------

Task<std::optional<Admin>> PgStore::create_admin(std::string_view username, std::string_view password_hash) {
  sup::require_storable_text("username", username);
  sup::require_storable_text("password_hash", password_hash);
  Params p;
  p.add(username).add(password_hash).add(now());
  co_return co_await op("admins.create", Retry::kOnlyIfNotSent, [&](Connection& c) -> Task<std::optional<Admin>> {
    const auto r = co_await c.execute(kAdminCreate, p);
    if (r.rows() == 0)
      co_return std::nullopt;
    co_return read_admin(r, 0);
  });
}

Task<std::optional<Admin>> PgStore::find_admin(std::string_view username) {
  Params p;
  p.add(sup::normalize_search_text(username));
  co_return co_await op("admins.find", Retry::kIdempotent, [&](Connection& c) -> Task<std::optional<Admin>> {
    const auto r = co_await c.execute(kAdminFind, p);
    if (r.rows() == 0)
      co_return std::nullopt;
    co_return read_admin(r, 0);
  });
}

Task<AuditEntry> PgStore::append_audit(const NewAuditEntry& entry) {
  sup::require_storable_text("action", entry.action);
  sup::require_storable_text("target", entry.target);
  sup::require_storable_text("details", entry.details_json);
  Params p;
  p.add(entry.admin_id).add(entry.action).add(entry.target).add(entry.details_json).add(now());
  co_return co_await op("audit.append", Retry::kOnlyIfNotSent, [&](Connection& c) -> Task<AuditEntry> {
    const auto r = co_await c.execute(kAuditAppend, p);
    co_return read_audit(r, 0);
  });
}

Task<std::vector<AuditEntry>> PgStore::list_audit(std::optional<AuditId> before_id, std::size_t limit) {
  Params p;
  p.add(before_id.value_or(kNoUpperId)).add(as_int(sup::clamp_limit(limit)));
  co_return co_await op("audit.list", Retry::kIdempotent, [&](Connection& c) -> Task<std::vector<AuditEntry>> {
    const auto r = co_await c.execute(kAuditList, p);
    std::vector<AuditEntry> out;
    for (int i = 0; i < r.rows(); ++i)
      out.push_back(read_audit(r, i));
    co_return out;
  });
}

// --- jobs, leases, small state ------------------------------------------------------------------------

Task<std::optional<JobId>> PgStore::enqueue_job(const NewJob& job) {
  sup::require_storable_text("kind", job.kind);
  sup::require_storable_text("payload", job.payload);
  if (job.dedupe_key)
    sup::require_storable_text("dedupe_key", *job.dedupe_key);
  const Time t = now();
  Params p;
  p.add(job.kind).add(job.payload).add(job.dedupe_key).add(job.run_after.value_or(t)).add(t);
  co_return co_await op("jobs.enqueue", Retry::kOnlyIfNotSent, [&](Connection& c) -> Task<std::optional<JobId>> {
    const auto r = co_await c.execute(kJobEnqueue, p);
    if (r.rows() == 0)
      co_return std::nullopt;
    co_return r.int64(0, 0);
  });
}

Task<std::optional<Job>> PgStore::lease_job(const std::vector<std::string>& kinds, std::string_view owner,
                                            std::chrono::milliseconds lease_for) {
  const Time t = now();
  Params p;
  p.add(t).add(owner).add(t + lease_for).add(json_array(kinds));
  co_return co_await op("jobs.lease", Retry::kOnlyIfNotSent, [&](Connection& c) -> Task<std::optional<Job>> {
    const auto r = co_await c.execute(kJobLease, p);
    if (r.rows() == 0)
      co_return std::nullopt;
    co_return read_job(r, 0);
  });
}

Task<bool> PgStore::complete_job(JobId job_id, std::string_view owner) {
  Params p;
  p.add(job_id).add(owner).add(now());
  co_return co_await op("jobs.complete", Retry::kOnlyIfNotSent, [&](Connection& c) -> Task<bool> {
    const auto r = co_await c.execute(kJobComplete, p);
    co_return r.affected() > 0;
  });
}

Task<bool> PgStore::fail_job(JobId job_id, std::string_view owner, std::string_view error,
                             std::optional<Time> retry_at) {
  Params p;
  p.add(job_id).add(owner).add(sup::normalize_search_text(error)).add(retry_at).add(now());
  co_return co_await op("jobs.fail", Retry::kOnlyIfNotSent, [&](Connection& c) -> Task<bool> {
    const auto r = co_await c.execute(kJobFail, p);
    co_return r.affected() > 0;
  });
}

Task<std::optional<Job>> PgStore::find_job(JobId job_id) {
  Params p;
  p.add(job_id);
  co_return co_await op("jobs.find", Retry::kIdempotent, [&](Connection& c) -> Task<std::optional<Job>> {
    const auto r = co_await c.execute(kJobFind, p);
    if (r.rows() == 0)
      co_return std::nullopt;
    co_return read_job(r, 0);
  });
}

Task<bool> PgStore::acquire_lease(std::string_view name, std::string_view owner, std::chrono::milliseconds ttl) {
  const Time t = now();
  Params p;
  p.add(name).add(owner).add(t + ttl).add(t);
  co_return co_await op("leases.acquire", Retry::kOnlyIfNotSent, [&](Connection& c) -> Task<bool> {
    const auto r = co_await c.execute(kLeaseAcquire, p);
    co_return r.rows() > 0;
  });
}

Task<void> PgStore::release_lease(std::string_view name, std::string_view owner) {
  Params p;
  p.add(name).add(owner);
  co_await op("leases.release", Retry::kIdempotent,
              [&](Connection& c) -> Task<void> { co_await c.execute(kLeaseRelease, p); });
}

Task<std::optional<std::string>> PgStore::kv_get(std::string_view key) {
  Params p;
  p.add(sup::normalize_search_text(key));
  co_return co_await op("kv.get", Retry::kIdempotent, [&](Connection& c) -> Task<std::optional<std::string>> {
    const auto r = co_await c.execute(kKvGet, p);
    if (r.rows() == 0)
      co_return std::nullopt;
    co_return r.text(0, 0);
  });
}

Task<void> PgStore::kv_set(std::string_view key, std::string_view value) {
  sup::require_storable_text("key", key);
  sup::require_storable_text("value", value);
  Params p;
  p.add(key).add(value).add(now());
  co_await op("kv.set", Retry::kIdempotent, [&](Connection& c) -> Task<void> { co_await c.execute(kKvSet, p); });
}

Task<bool> PgStore::mark_update_processed(std::int64_t update_id) {
  Params p;
  p.add(update_id).add(now());
  co_return co_await op("updates.mark_processed", Retry::kOnlyIfNotSent, [&](Connection& c) -> Task<bool> {
    const auto r = co_await c.execute(kUpdateMark, p);
    co_return r.affected() > 0;
  });
}

// --- retention and export -----------------------------------------------------------------------------

Task<std::int64_t> PgStore::delete_messages_older_than(Time cutoff, std::size_t batch_size) {
  const std::int64_t batch = as_int(std::max<std::size_t>(batch_size, 1));
  Params p;
  p.add(cutoff).add(batch);
  std::int64_t total = 0;
  for (;;) {
    // Each batch is its own short statement, so no lock is held for long.
    const std::int64_t deleted =
        co_await op("messages.retention_batch", Retry::kIdempotent, [&](Connection& c) -> Task<std::int64_t> {
          const auto r = co_await c.execute(kMessagesRetention, p);
          co_return r.affected();
        });
    total += deleted;
    if (deleted < batch)
      break;
  }
  co_return total;
}

Task<std::int64_t> PgStore::delete_processed_updates_older_than(Time cutoff) {
  Params p;
  p.add(cutoff);
  co_return co_await op("updates.retention", Retry::kIdempotent, [&](Connection& c) -> Task<std::int64_t> {
    const auto r = co_await c.execute(kUpdatesRetention, p);
    co_return r.affected();
  });
}

Task<std::optional<UserExport>> PgStore::export_user_data(UserId user_id) {
  std::vector<Query> queries;
  queries.push_back(Query{&kBeginSnapshot, Params{}});
  for (const Statement* s : {&kUserFind, &kMemoryGet, &kMessagesAll, &kPaymentsOfUser}) {
    queries.push_back(Query{s, Params{}});
    queries.back().params.add(user_id);
  }
  queries.push_back(Query{&kCommit, Params{}});
  co_return co_await op("user_data.export", Retry::kIdempotent, [&](Connection& c) -> Task<std::optional<UserExport>> {
    const std::span<const Query> batch(queries);
    const auto results = co_await c.pipeline("user_data.export", batch);
    if (results[1].rows() == 0)
      co_return std::nullopt;
    UserExport out;
    out.user = read_user(results[1], 0);
    out.memory = read_memory(results[2], user_id);
    out.messages = read_messages(results[3]);
    for (int i = 0; i < results[4].rows(); ++i)
      out.payments.push_back(read_payment(results[4], i));
    co_return out;
  });
}

// --- operators' statistics and user activity ----------------------------------------------------

namespace {

constexpr Statement kModelCallRecord{
    "model_calls.record",
    "INSERT INTO model_calls (user_id, ok, input_tokens, output_tokens, latency_ms, created_at) "
    "VALUES ($1::bigint, $2::boolean, $3::bigint, $4::bigint, $5::bigint, $6::timestamptz)"};
// Days are UTC dates; every query covers [$1, $2).
constexpr Statement kStatsMessages{"stats.messages",
                                   "SELECT (created_at AT TIME ZONE 'UTC')::date, count(*), "
                                   "count(DISTINCT CASE WHEN role = 'user' THEN user_id END) FROM messages "
                                   "WHERE created_at >= $1::timestamptz AND created_at < $2::timestamptz GROUP BY 1"};
constexpr Statement kStatsNewUsers{"stats.new_users",
                                   "SELECT (created_at AT TIME ZONE 'UTC')::date, count(*) FROM users "
                                   "WHERE created_at >= $1::timestamptz AND created_at < $2::timestamptz GROUP BY 1"};
constexpr Statement kStatsRevenue{
    "stats.revenue",
    "SELECT (created_at AT TIME ZONE 'UTC')::date, sum(amount) FROM payments "
    "WHERE currency = 'XTR' AND created_at >= $1::timestamptz AND created_at < $2::timestamptz GROUP BY 1"};
constexpr Statement kStatsModelCalls{
    "stats.model_calls",
    "SELECT (created_at AT TIME ZONE 'UTC')::date, sum(input_tokens), sum(output_tokens), "
    "sum(CASE WHEN ok THEN 0 ELSE 1 END) FROM model_calls "
    "WHERE created_at >= $1::timestamptz AND created_at < $2::timestamptz GROUP BY 1"};
// Nearest rank: the ceil(0.95 n)-th smallest latency of the day's successful calls.
constexpr Statement kStatsLatency{
    "stats.latency",
    "SELECT day, latency_ms FROM (SELECT day, latency_ms, "
    "row_number() OVER (PARTITION BY day ORDER BY latency_ms) AS pos, count(*) OVER (PARTITION BY day) AS n "
    "FROM (SELECT (created_at AT TIME ZONE 'UTC')::date AS day, latency_ms FROM model_calls "
    "WHERE ok AND created_at >= $1::timestamptz AND created_at < $2::timestamptz) AS calls) AS ranked "
    "WHERE pos = (95 * n + 99) / 100"};
constexpr Statement kStatsLoad{
    "stats.load",
    "SELECT day, messages, active_users, new_users, stars_revenue, tokens_in, tokens_out, model_errors, "
    "p95_latency_ms FROM daily_stats WHERE day >= $1::date AND day < $2::date ORDER BY day"};
constexpr Statement kStatsSave{
    "stats.save",
    "INSERT INTO daily_stats (day, messages, active_users, new_users, stars_revenue, tokens_in, tokens_out, "
    "model_errors, p95_latency_ms, computed_at) VALUES ($1::date, $2::bigint, $3::bigint, $4::bigint, $5::bigint, "
    "$6::bigint, $7::bigint, $8::bigint, $9::bigint, $10::timestamptz) "
    "ON CONFLICT (day) DO UPDATE SET messages = excluded.messages, active_users = excluded.active_users, "
    "new_users = excluded.new_users, stars_revenue = excluded.stars_revenue, tokens_in = excluded.tokens_in, "
    "tokens_out = excluded.tokens_out, model_errors = excluded.model_errors, "
    "p95_latency_ms = excluded.p95_latency_ms, computed_at = excluded.computed_at"};
constexpr Statement kUserActivity{
    "users.activity",
    "SELECT count(*), count(*) FILTER (WHERE role = 'user' AND created_at >= $2::timestamptz), "
    "(SELECT created_at FROM messages WHERE user_id = $1::bigint ORDER BY id DESC LIMIT 1) "
    "FROM messages WHERE user_id = $1::bigint"};

/// The row of the day in column 0 of `row` in a range that starts at `from`.
DailyStats& stats_row(std::vector<DailyStats>& rows, std::chrono::sys_days from, const Result& r, int row) {
  const auto day = r.optional_day(row, 0);
  if (!day)
    throw StoreError(StoreErrorKind::kOther, "stats.compute", "a statistics row without a day");
  return rows.at(static_cast<std::size_t>((*day - from).count()));
}

}  // namespace

Task<void> PgStore::record_model_call(const NewModelCall& call) {
  Params p;
  p.add(call.user_id).add(call.ok).add(call.input_tokens).add(call.output_tokens).add(call.latency_ms).add(now());
  co_await op("model_calls.record", Retry::kOnlyIfNotSent,
              [&](Connection& c) -> Task<void> { co_await c.execute(kModelCallRecord, p); });
}

Task<std::vector<DailyStats>> PgStore::compute_daily_stats(std::chrono::sys_days from, std::chrono::sys_days to) {
  std::vector<DailyStats> rows;
  for (auto day = from; day < to; day += std::chrono::days(1)) {
    DailyStats row;
    row.day = day;
    rows.push_back(row);
  }
  if (rows.empty())
    co_return rows;
  std::vector<Query> queries;
  queries.push_back(Query{&kBeginSnapshot, Params{}});
  for (const Statement* s : {&kStatsMessages, &kStatsNewUsers, &kStatsRevenue, &kStatsModelCalls, &kStatsLatency}) {
    queries.push_back(Query{s, Params{}});
    queries.back().params.add(Time(from)).add(Time(to));
  }
  queries.push_back(Query{&kCommit, Params{}});
  co_return co_await op("stats.compute", Retry::kIdempotent, [&](Connection& c) -> Task<std::vector<DailyStats>> {
    std::vector<DailyStats> out = rows;
    const std::span<const Query> batch(queries);
    const auto results = co_await c.pipeline("stats.compute", batch);
    for (int i = 0; i < results[1].rows(); ++i) {
      auto& row = stats_row(out, from, results[1], i);
      row.messages = results[1].int64(i, 1);
      row.active_users = results[1].int64(i, 2);
    }
    for (int i = 0; i < results[2].rows(); ++i)
      stats_row(out, from, results[2], i).new_users = results[2].int64(i, 1);
    for (int i = 0; i < results[3].rows(); ++i)
      stats_row(out, from, results[3], i).stars_revenue = results[3].int64(i, 1);
    for (int i = 0; i < results[4].rows(); ++i) {
      auto& row = stats_row(out, from, results[4], i);
      row.tokens_in = results[4].int64(i, 1);
      row.tokens_out = results[4].int64(i, 2);
      row.model_errors = results[4].int64(i, 3);
    }
    for (int i = 0; i < results[5].rows(); ++i)
      stats_row(out, from, results[5], i).p95_latency_ms = results[5].int64(i, 1);
    co_return out;
  });
}

Task<std::vector<DailyStats>> PgStore::load_daily_stats(std::chrono::sys_days from, std::chrono::sys_days to) {
  Params p;
  p.add(from).add(to);
  co_return co_await op("stats.load", Retry::kIdempotent, [&](Connection& c) -> Task<std::vector<DailyStats>> {
    const auto r = co_await c.execute(kStatsLoad, p);
    std::vector<DailyStats> out;
    for (int i = 0; i < r.rows(); ++i) {
      DailyStats row;
      row.day = r.optional_day(i, 0).value_or(std::chrono::sys_days{});
      row.messages = r.int64(i, 1);
      row.active_users = r.int64(i, 2);
      row.new_users = r.int64(i, 3);
      row.stars_revenue = r.int64(i, 4);
      row.tokens_in = r.int64(i, 5);
      row.tokens_out = r.int64(i, 6);
      row.model_errors = r.int64(i, 7);
      row.p95_latency_ms = r.optional_int64(i, 8);
      out.push_back(row);
    }
    co_return out;
  });
}

Task<void> PgStore::save_daily_stats(const std::vector<DailyStats>& days) {
  if (days.empty())
    co_return;
  const Time t = now();
  std::vector<Query> queries;
  for (const auto& row : days) {
    queries.push_back(Query{&kStatsSave, Params{}});
    queries.back()
        .params.add(row.day)
        .add(row.messages)
        .add(row.active_users)
        .add(row.new_users)
        .add(row.stars_revenue)
        .add(row.tokens_in)
        .add(row.tokens_out)
        .add(row.model_errors)
        .add(row.p95_latency_ms)
        .add(t);
  }
  co_await op("stats.save", Retry::kIdempotent, [&](Connection& c) -> Task<void> {
    const std::span<const Query> batch(queries);
    co_await c.pipeline("stats.save", batch);
  });
}

Task<UserActivity> PgStore::user_activity(UserId user_id, Time since) {
  Params p;
  p.add(user_id).add(since);
  co_return co_await op("users.activity", Retry::kIdempotent, [&](Connection& c) -> Task<UserActivity> {
    const auto r = co_await c.execute(kUserActivity, p);
    UserActivity out;
    out.messages = r.int64(0, 0);
    out.user_messages_since = r.int64(0, 1);
    out.last_active_at = r.optional_time(0, 2);
    co_return out;
  });
}

}  // namespace evolveai::storage::postgres
