#include "storage/sqlite/sqlite_store.hpp"

#include <algorithm>
#include <exception>
#include <limits>
#include <utility>

#include "storage/sqlite/sqlite_db.hpp"
#include "storage/store_error.hpp"
#include "storage/store_support.hpp"

namespace evolveai::storage::sqlite {

namespace sup = evolveai::storage::support;

namespace {

constexpr std::int64_t kNoUpperId = std::numeric_limits<std::int64_t>::max();

// Column lists are spelled out in every statement; these readers follow their order.
// users: id, telegram_id, first_name, last_name, username, language_code, settings,
//        is_banned, premium_until, usage_day, usage_count, created_at, updated_at
User read_user(const Statement& s, int c = 0) {
  User u;
  u.id = s.int64(c + 0);
  u.telegram_id = s.int64(c + 1);
  u.first_name = s.text(c + 2);
  u.last_name = s.optional_text(c + 3);
  u.username = s.optional_text(c + 4);
  u.language_code = s.optional_text(c + 5);
  u.settings_json = s.text(c + 6);
  u.banned = s.int64(c + 7) != 0;
  if (auto p = s.optional_int64(c + 8))
    u.premium_until = sup::from_micros(*p);
  if (auto d = s.optional_text(c + 9))
    u.usage_day = sup::parse_day(*d);
  u.usage_count = s.int64(c + 10);
  u.created_at = sup::from_micros(s.int64(c + 11));
  u.updated_at = sup::from_micros(s.int64(c + 12));
  return u;
}

// messages: id, user_id, role, content, has_image, tokens, status, client_message_id,
//           reply_to_id, created_at, finish_reason
Message read_message(const Statement& s, int c = 0) {
  Message m;
  m.id = s.int64(c + 0);
  m.user_id = s.int64(c + 1);
  m.role = role_from_string(s.text(c + 2));
  m.content = s.text(c + 3);
  m.has_image = s.int64(c + 4) != 0;
  m.tokens = s.int64(c + 5);
  m.status = message_status_from_string(s.text(c + 6));
  m.client_message_id = s.optional_text(c + 7);
  m.reply_to_id = s.optional_int64(c + 8);
  m.created_at = sup::from_micros(s.int64(c + 9));
  m.finish_reason = s.optional_text(c + 10);
  return m;
}

// payments: id, charge_id, provider_charge_id, user_id, currency, amount, plan, days,
//           status, created_at, refunded_at
Payment read_payment(const Statement& s) {
  Payment p;
  p.id = s.int64(0);
  p.charge_id = s.text(1);
  p.provider_charge_id = s.optional_text(2);
  p.user_id = s.int64(3);
  p.currency = s.text(4);
  p.amount = s.int64(5);
  p.plan = s.text(6);
  p.days = s.int64(7);
  p.status = payment_status_from_string(s.text(8));
  p.created_at = sup::from_micros(s.int64(9));
  if (auto r = s.optional_int64(10))
    p.refunded_at = sup::from_micros(*r);
  return p;
}

// jobs: id, kind, payload, dedupe_key, status, attempts, run_after, lease_owner,
//       lease_expires_at, last_error, created_at
Job read_job(const Statement& s) {
  Job j;
  j.id = s.int64(0);
  j.kind = s.text(1);
  j.payload = s.text(2);
  j.dedupe_key = s.optional_text(3);
  j.status = job_status_from_string(s.text(4));
  j.attempts = s.int64(5);
  j.run_after = sup::from_micros(s.int64(6));
  j.lease_owner = s.optional_text(7);
  if (auto e = s.optional_int64(8))
    j.lease_expires_at = sup::from_micros(*e);
  j.last_error = s.optional_text(9);
  j.created_at = sup::from_micros(s.int64(10));
  return j;
}

// admins: id, username, password_hash, created_at
Admin read_admin(const Statement& s) {
  return Admin{s.int64(0), s.text(1), s.text(2), sup::from_micros(s.int64(3))};
}

// audit_log: id, admin_id, action, target, details, created_at
AuditEntry read_audit(const Statement& s) {
  return AuditEntry{s.int64(0), s.optional_int64(1), s.text(2), s.text(3), s.text(4), sup::from_micros(s.int64(5))};
}

std::optional<std::int64_t> micros(const std::optional<Time>& t) {
  if (!t)
    return std::nullopt;
  return sup::to_micros(*t);
}

std::int64_t as_int(std::size_t n) {
  return static_cast<std::int64_t>(std::min<std::size_t>(n, static_cast<std::size_t>(kNoUpperId)));
}

std::string kinds_json(const std::vector<std::string>& kinds) {
  return sup::string_array_json(kinds);
}

// --- statements ---------------------------------------------------------------------------

constexpr const char* kUserUpsert =
    "INSERT INTO users (telegram_id, first_name, last_name, username, language_code, created_at, updated_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6) "
    "ON CONFLICT (telegram_id) DO UPDATE SET first_name = excluded.first_name, last_name = excluded.last_name, "
    "username = excluded.username, language_code = excluded.language_code, updated_at = excluded.updated_at "
    "RETURNING id, telegram_id, first_name, last_name, username, language_code, settings, is_banned, "
    "premium_until, usage_day, usage_count, created_at, updated_at";
constexpr const char* kUserFind =
    "SELECT id, telegram_id, first_name, last_name, username, language_code, settings, is_banned, "
    "premium_until, usage_day, usage_count, created_at, updated_at FROM users WHERE id = ?1";
constexpr const char* kUserFindByTelegram =
    "SELECT id, telegram_id, first_name, last_name, username, language_code, settings, is_banned, "
    "premium_until, usage_day, usage_count, created_at, updated_at FROM users WHERE telegram_id = ?1";
constexpr const char* kUserSettings = "UPDATE users SET settings = ?2, updated_at = ?3 WHERE id = ?1";
constexpr const char* kUserBan = "UPDATE users SET is_banned = ?2, updated_at = ?3 WHERE id = ?1";
constexpr const char* kUserPremiumSet = "UPDATE users SET premium_until = ?2, updated_at = ?3 WHERE id = ?1";
constexpr const char* kUserPremiumExtend =
    "UPDATE users SET premium_until = max(coalesce(premium_until, ?2), ?2) + ?3, updated_at = ?2 "
    "WHERE id = ?1 RETURNING premium_until";
constexpr const char* kUserList =
    "SELECT id, telegram_id, first_name, last_name, username, language_code, settings, is_banned, "
    "premium_until, usage_day, usage_count, created_at, updated_at FROM users "
    "WHERE id < ?1 AND (?2 IS NULL OR ?2 = (coalesce(premium_until, 0) > ?3)) "
    "AND (?4 IS NULL OR first_name LIKE ?4 ESCAPE '\\' OR last_name LIKE ?4 ESCAPE '\\' "
    "OR username LIKE ?4 ESCAPE '\\' OR CAST(telegram_id AS TEXT) = ?5) "
    "AND (?7 IS NULL OR is_banned = ?7) AND (?8 IS NULL OR (SELECT m.created_at FROM messages m "
    "WHERE m.user_id = users.id ORDER BY m.id DESC LIMIT 1) >= ?8) "
    "ORDER BY id DESC LIMIT ?6";

constexpr const char* kQuotaTake =
    "UPDATE users SET usage_count = CASE WHEN usage_day IS ?2 THEN usage_count + 1 ELSE 1 END, usage_day = ?2 "
    "WHERE id = ?1 AND (coalesce(premium_until, 0) > ?3 "
    "OR (CASE WHEN usage_day IS ?2 THEN usage_count ELSE 0 END) < ?4) "
    "RETURNING usage_count, coalesce(premium_until, 0) > ?3";
constexpr const char* kQuotaPeek =
    "SELECT CASE WHEN usage_day IS ?2 THEN usage_count ELSE 0 END FROM users WHERE id = ?1";
constexpr const char* kQuotaGiveBack =
    "UPDATE users SET usage_count = usage_count - 1 WHERE id = ?1 AND usage_day = ?2 AND usage_count > 0";

// ?1 user, ?2 counter, ?3 day, ?4 now, ?5 free limit. The row is created or counted up only while
// the user is premium or under the limit; no row comes back when the unit is refused.
constexpr const char* kDailyTake =
    "INSERT INTO daily_counters (user_id, counter, day, used) "
    "SELECT id, ?2, ?3, 1 FROM users WHERE id = ?1 AND (coalesce(premium_until, 0) > ?4 OR ?5 > 0) "
    "ON CONFLICT (user_id, counter, day) DO UPDATE SET used = used + 1 "
    "WHERE coalesce((SELECT premium_until FROM users WHERE id = ?1), 0) > ?4 OR used < ?5 "
    "RETURNING used, coalesce((SELECT premium_until FROM users WHERE id = ?1), 0) > ?4";
constexpr const char* kDailyPeek = "SELECT used FROM daily_counters WHERE user_id = ?1 AND counter = ?2 AND day = ?3";
constexpr const char* kDailyGiveBack =
    "UPDATE daily_counters SET used = used - 1 WHERE user_id = ?1 AND counter = ?2 AND day = ?3 AND used > 0";

constexpr const char* kMessageInsert =
    "INSERT INTO messages (user_id, role, content, has_image, tokens, status, client_message_id, reply_to_id, "
    "created_at, finish_reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
    "ON CONFLICT (user_id, client_message_id) DO NOTHING "
    "RETURNING id, user_id, role, content, has_image, tokens, status, client_message_id, reply_to_id, created_at, "
    "finish_reason";
constexpr const char* kMessageByClientId =
    "SELECT id, user_id, role, content, has_image, tokens, status, client_message_id, reply_to_id, created_at, "
    "finish_reason "
    "FROM messages WHERE user_id = ?1 AND client_message_id = ?2";
constexpr const char* kMessageReply =
    "SELECT id, user_id, role, content, has_image, tokens, status, client_message_id, reply_to_id, created_at, "
    "finish_reason "
    "FROM messages WHERE user_id = ?1 AND reply_to_id = ?2 ORDER BY id LIMIT 1";
constexpr const char* kMessageStatus =
    "UPDATE messages SET status = ?3, tokens = coalesce(?4, tokens) WHERE id = ?2 AND user_id = ?1";
constexpr const char* kMessagesNewest =
    "SELECT id, user_id, role, content, has_image, tokens, status, client_message_id, reply_to_id, created_at, "
    "finish_reason "
    "FROM messages WHERE user_id = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3";
constexpr const char* kMessagesAfter =
    "SELECT id, user_id, role, content, has_image, tokens, status, client_message_id, reply_to_id, created_at, "
    "finish_reason "
    "FROM messages WHERE user_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3";
constexpr const char* kMessagesCount = "SELECT count(*) FROM messages WHERE user_id = ?1 AND id > ?2";
constexpr const char* kMessagesAll =
    "SELECT id, user_id, role, content, has_image, tokens, status, client_message_id, reply_to_id, created_at, "
    "finish_reason "
    "FROM messages WHERE user_id = ?1 ORDER BY id";
constexpr const char* kMessagesDeleteUser = "DELETE FROM messages WHERE user_id = ?1";
constexpr const char* kMemoryDeleteUser = "DELETE FROM memories WHERE user_id = ?1";
// Searches MATCH the FTS expression ?2 within the messages of user ?1 only: the index holds the
// owner as a token of a column of its own (migration 0006), so FTS5 intersects the user's posting
// list with the words' lists; the owner column weighs nothing in bm25.
constexpr const char* kMessagesSearch =
    "SELECT m.id, m.role, m.created_at, "
    "snippet(messages_fts, 0, char(57344), char(57345), '\xE2\x80\xA6', 24), bm25(messages_fts, 1.0, 0.0) "
    "FROM messages_fts JOIN messages AS m ON m.id = messages_fts.rowid "
    "WHERE messages_fts MATCH ('owner : \"u' || ?1 || '\" AND content : (' || ?2 || ')') AND m.user_id = ?1 ORDER BY "
    "bm25(messages_fts, 1.0, 0.0), m.id DESC "
    "LIMIT ?3";
constexpr const char* kMessagesRelevant =
    "SELECT m.id, m.user_id, m.role, m.content, m.has_image, m.tokens, m.status, m.client_message_id, "
    "m.reply_to_id, m.created_at, m.finish_reason "
    "FROM messages_fts JOIN messages AS m ON m.id = messages_fts.rowid "
    "WHERE messages_fts MATCH ('owner : \"u' || ?1 || '\" AND content : (' || ?2 || ')') AND m.user_id = ?1 AND m.id < "
    "?3 "
    "ORDER BY bm25(messages_fts, 1.0, 0.0), m.id DESC LIMIT ?4";
constexpr const char* kMessagesRetention =
    "DELETE FROM messages WHERE id IN (SELECT id FROM messages WHERE created_at < ?1 ORDER BY id LIMIT ?2)";

constexpr const char* kMemoryGet =
    "SELECT summary, facts, last_summarized_message_id, version, updated_at FROM memories WHERE user_id = ?1";
constexpr const char* kMemoryInsert =
    "INSERT INTO memories (user_id, summary, facts, last_summarized_message_id, version, updated_at) "
    "VALUES (?1, ?2, ?3, ?4, 1, ?5) ON CONFLICT (user_id) DO NOTHING RETURNING version";
constexpr const char* kMemoryUpdate =
    "UPDATE memories SET summary = ?2, facts = ?3, last_summarized_message_id = ?4, version = version + 1, "
    "updated_at = ?6 WHERE user_id = ?1 AND version = ?5 RETURNING version";

constexpr const char* kPaymentInsert =
    "INSERT INTO payments (charge_id, provider_charge_id, user_id, currency, amount, plan, days, status, "
    "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'paid', ?8) ON CONFLICT (charge_id) DO NOTHING "
    "RETURNING id, charge_id, provider_charge_id, user_id, currency, amount, plan, days, status, created_at, "
    "refunded_at";
constexpr const char* kPaymentFind =
    "SELECT id, charge_id, provider_charge_id, user_id, currency, amount, plan, days, status, created_at, "
    "refunded_at FROM payments WHERE charge_id = ?1";
constexpr const char* kPaymentRefund =
    "UPDATE payments SET status = 'refunded', refunded_at = ?2 WHERE charge_id = ?1 AND status = 'paid' "
    "RETURNING id, charge_id, provider_charge_id, user_id, currency, amount, plan, days, status, created_at, "
    "refunded_at";
constexpr const char* kUserPremiumRevoke =
    "UPDATE users SET premium_until = CASE WHEN premium_until - ?3 > ?2 THEN premium_until - ?3 ELSE NULL END, "
    "updated_at = ?2 WHERE id = ?1 RETURNING premium_until";
constexpr const char* kUserPremiumGet = "SELECT premium_until FROM users WHERE id = ?1";
constexpr const char* kPaymentList =
    "SELECT id, charge_id, provider_charge_id, user_id, currency, amount, plan, days, status, created_at, "
    "refunded_at FROM payments WHERE (?1 IS NULL OR user_id = ?1) AND id < ?2 ORDER BY id DESC LIMIT ?3";

constexpr const char* kAdminCreate =
    "INSERT INTO admins (username, password_hash, created_at) VALUES (?1, ?2, ?3) "
    "ON CONFLICT (username) DO NOTHING RETURNING id, username, password_hash, created_at";
constexpr const char* kAdminFind = "SELECT id, username, password_hash, created_at FROM admins WHERE username = ?1";
constexpr const char* kAuditAppend =
    "INSERT INTO audit_log (admin_id, action, target, details, created_at) VALUES (?1, ?2, ?3, ?4, ?5) "
    "RETURNING id, admin_id, action, target, details, created_at";
constexpr const char* kAuditList =
    "SELECT id, admin_id, action, target, details, created_at FROM audit_log WHERE id < ?1 "
    "ORDER BY id DESC LIMIT ?2";

constexpr const char* kJobEnqueue =
    "INSERT INTO jobs (kind, payload, dedupe_key, status, attempts, run_after, created_at, updated_at) "
    "VALUES (?1, ?2, ?3, 'pending', 0, ?4, ?5, ?5) "
    "ON CONFLICT (dedupe_key) WHERE status IN ('pending', 'running') DO NOTHING RETURNING id";
constexpr const char* kJobLease =
    "UPDATE jobs SET status = 'running', lease_owner = ?2, lease_expires_at = ?3, attempts = attempts + 1, "
    "updated_at = ?1 WHERE id = (SELECT id FROM jobs WHERE kind IN (SELECT value FROM json_each(?4)) "
    "AND ((status = 'pending' AND run_after <= ?1) OR (status = 'running' AND lease_expires_at <= ?1)) "
    "ORDER BY run_after, id LIMIT 1) "
    "RETURNING id, kind, payload, dedupe_key, status, attempts, run_after, lease_owner, lease_expires_at, "
    "last_error, created_at";
constexpr const char* kJobComplete =
    "UPDATE jobs SET status = 'done', lease_owner = NULL, lease_expires_at = NULL, updated_at = ?3 "
    "WHERE id = ?1 AND lease_owner = ?2 AND status = 'running'";
constexpr const char* kJobFail =
    "UPDATE jobs SET status = CASE WHEN ?4 IS NULL THEN 'failed' ELSE 'pending' END, "
    "run_after = coalesce(?4, run_after), last_error = ?3, lease_owner = NULL, lease_expires_at = NULL, "
    "updated_at = ?5 WHERE id = ?1 AND lease_owner = ?2 AND status = 'running'";
constexpr const char* kJobFind =
    "SELECT id, kind, payload, dedupe_key, status, attempts, run_after, lease_owner, lease_expires_at, "
    "last_error, created_at FROM jobs WHERE id = ?1";
constexpr const char* kLeaseAcquire =
    "INSERT INTO leases (name, owner, expires_at) VALUES (?1, ?2, ?3) "
    "ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at "
    "WHERE leases.owner = excluded.owner OR leases.expires_at <= ?4 RETURNING owner";
constexpr const char* kLeaseRelease = "DELETE FROM leases WHERE name = ?1 AND owner = ?2";
constexpr const char* kKvGet = "SELECT value FROM kv WHERE key = ?1";
constexpr const char* kKvSet =
    "INSERT INTO kv (key, value, updated_at) VALUES (?1, ?2, ?3) "
    "ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at";
constexpr const char* kUpdateMark =
    "INSERT INTO telegram_updates (update_id, processed_at) VALUES (?1, ?2) ON CONFLICT (update_id) DO NOTHING";
constexpr const char* kUpdatesRetention = "DELETE FROM telegram_updates WHERE processed_at < ?1";
constexpr const char* kPing = "SELECT 1";
constexpr const char* kIntegrityCheck = "PRAGMA integrity_check";

constexpr const char* kMigrationsTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
    "checksum TEXT NOT NULL, applied_at INTEGER NOT NULL)";
constexpr const char* kMigrationsList = "SELECT version, name, checksum, applied_at FROM schema_migrations";
constexpr const char* kMigrationsHas = "SELECT 1 FROM schema_migrations WHERE version = ?1";
constexpr const char* kMigrationsRecord =
    "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?1, ?2, ?3, ?4)";

// --- shared query pieces ---------------------------------------------------------------------

std::optional<User> query_user(Connection& c, const char* sql, std::string_view name, std::int64_t key) {
  auto s = c.prepare(name, sql);
  s.bind(1, key);
  if (!s.step())
    return std::nullopt;
  return read_user(s);
}

Memory query_memory(Connection& c, UserId user_id) {
  Memory m;
  m.user_id = user_id;
  auto s = c.prepare("memory.get", kMemoryGet);
  s.bind(1, user_id);
  if (s.step()) {
    m.summary = s.text(0);
    m.facts = sup::facts_from_json(s.text(1));
    m.last_summarized_message_id = s.int64(2);
    m.version = s.int64(3);
    m.updated_at = sup::from_micros(s.int64(4));
  }
  return m;
}

std::vector<Message> query_messages(Statement& s) {
  std::vector<Message> out;
  while (s.step())
    out.push_back(read_message(s));
  return out;
}

std::vector<Message> query_newest(Connection& c, UserId user_id, std::optional<MessageId> before_id,
                                  std::size_t limit) {
  auto s = c.prepare("messages.newest", kMessagesNewest);
  s.bind(1, user_id).bind(2, before_id.value_or(kNoUpperId)).bind(3, as_int(limit));
  return query_messages(s);
}

std::optional<Message> query_message(Connection& c, const char* sql, std::string_view name, UserId user_id, auto key) {
  auto s = c.prepare(name, sql);
  s.bind(1, user_id).bind(2, key);
  if (!s.step())
    return std::nullopt;
  return read_message(s);
}

std::optional<Payment> query_payment(Connection& c, std::string_view charge_id) {
  auto s = c.prepare("payments.find", kPaymentFind);
  s.bind(1, charge_id);
  if (!s.step())
    return std::nullopt;
  return read_payment(s);
}

std::optional<Time> query_premium_until(Connection& c, UserId user_id) {
  auto s = c.prepare("users.premium_get", kUserPremiumGet);
  s.bind(1, user_id);
  if (!s.step() || s.is_null(0))
    return std::nullopt;
  return sup::from_micros(s.int64(0));
}

/// Runs a read transaction so that several statements see one snapshot.
class ReadSnapshot {
 public:
  explicit ReadSnapshot(Connection& c) : c_(c) { c_.exec("sqlite.begin_read", "BEGIN"); }
  ReadSnapshot(const ReadSnapshot&) = delete;
  ReadSnapshot& operator=(const ReadSnapshot&) = delete;
  ~ReadSnapshot() {
    try {
      c_.exec("sqlite.end_read", "COMMIT");
    } catch (const StoreError&) {  // nothing was written: ending a read cannot lose data
    }
  }

 private:
  Connection& c_;
};

}  // namespace

// --- plumbing -------------------------------------------------------------------------------

SqliteStore::SqliteStore(SqliteStoreOptions options, net::BlockingPool& pool)
    : options_(std::move(options)), pool_(pool) {
  if (!options_.clock)
    options_.clock = [] { return std::chrono::system_clock::now(); };
  options_.readers = std::max<std::size_t>(options_.readers, 1);
  if (options_.path.has_parent_path())
    std::filesystem::create_directories(options_.path.parent_path());
  writer_ = std::make_unique<Connection>(options_.path, true, options_.busy_timeout);
  for (std::size_t i = 0; i < options_.readers; ++i) {
    auto reader = std::make_unique<Connection>(options_.path, false, options_.busy_timeout);
    reader->exec("sqlite.pragmas", "PRAGMA query_only = ON");
    readers_.push_back(std::move(reader));
  }
}

SqliteStore::~SqliteStore() = default;

Time SqliteStore::now() const {
  return sup::store_precision(options_.clock());
}

std::unique_ptr<Connection> SqliteStore::acquire_reader() {
  std::unique_lock lock(readers_mutex_);
  readers_cv_.wait(lock, [&] { return !readers_.empty(); });
  auto reader = std::move(readers_.back());
  readers_.pop_back();
  return reader;
}

void SqliteStore::release_reader(std::unique_ptr<Connection> reader) {
  {
    std::lock_guard lock(readers_mutex_);
    readers_.push_back(std::move(reader));
  }
  readers_cv_.notify_one();
}

template <typename F>
auto SqliteStore::timed(const char* name, Connection& connection, F& fn) -> std::invoke_result_t<F&, Connection&> {
  const auto start = sup::started();
  try {
    if constexpr (std::is_void_v<std::invoke_result_t<F&, Connection&>>) {
      fn(connection);
      options_.observer.report(name, std::chrono::steady_clock::now() - start, true);
    } else {
      auto result = fn(connection);
      options_.observer.report(name, std::chrono::steady_clock::now() - start, true);
      return result;
    }
  } catch (...) {
    options_.observer.report(name, std::chrono::steady_clock::now() - start, false);
    throw;
  }
}

template <typename F>
auto SqliteStore::write(const char* name, F fn) -> Task<std::invoke_result_t<F&, Connection&>> {
  co_return co_await pool_.run([this, name, &fn] {
    std::lock_guard lock(writer_mutex_);
    return timed(name, *writer_, fn);
  });
}

template <typename F>
auto SqliteStore::read(const char* name, F fn) -> Task<std::invoke_result_t<F&, Connection&>> {
  co_return co_await pool_.run([this, name, &fn] {
    struct Lease {
      SqliteStore& store;
      std::unique_ptr<Connection> connection;
      ~Lease() { store.release_reader(std::move(connection)); }
    } lease{*this, acquire_reader()};
    return timed(name, *lease.connection, fn);
  });
}

// --- schema -----------------------------------------------------------------------------------

/// Migrations on SQLite: each one runs in an exclusive transaction that first checks it
/// was not applied meanwhile, which serialises processes sharing the file.
class SqliteStore::MigrationDriverImpl final : public MigrationDriver {
 public:
  explicit MigrationDriverImpl(SqliteStore& store) : store_(store) {}

  Task<void> lock() override {
    co_await store_.write("migrations.create_table",
                          [](Connection& c) { c.exec("migrations.create_table", kMigrationsTable); });
  }
  Task<void> unlock() override { co_return; }
  Task<std::vector<AppliedMigration>> applied() override {
    co_return co_await store_.write("migrations.list", [](Connection& c) {
      std::vector<AppliedMigration> out;
      auto s = c.prepare("migrations.list", kMigrationsList);
      while (s.step()) {
        out.push_back(
            AppliedMigration{static_cast<int>(s.int64(0)), s.text(1), s.text(2), sup::from_micros(s.int64(3))});
      }
      return out;
    });
  }
  Task<bool> apply(const Migration& migration, Time now) override {
    co_return co_await store_.write("migrations.apply", [&](Connection& c) {
      Transaction tx(c, true);
      {
        auto has = c.prepare("migrations.has", kMigrationsHas);
        has.bind(1, static_cast<std::int64_t>(migration.version));
        if (has.step())
          return false;  // another process applied it meanwhile
      }
      c.exec("migrations.apply", migration.sql);
      auto record = c.prepare("migrations.record", kMigrationsRecord);
      record.bind(1, static_cast<std::int64_t>(migration.version))
          .bind(2, migration.name)
          .bind(3, migration.checksum)
          .bind(4, sup::to_micros(now));
      record.run();
      tx.commit();
      return true;
    });
  }

 private:
  SqliteStore& store_;
};

Task<std::vector<MigrationStatus>> SqliteStore::migrate_up() {
  MigrationDriverImpl driver(*this);
  Migrator migrator(driver, "sqlite", migrations_for("sqlite"), options_.clock);
  co_return co_await migrator.up();
}

Task<std::vector<MigrationStatus>> SqliteStore::migration_status() {
  MigrationDriverImpl driver(*this);
  Migrator migrator(driver, "sqlite", migrations_for("sqlite"), options_.clock);
  co_return co_await migrator.status();
}

Task<void> SqliteStore::ping() {
  co_await read("ping", [](Connection& c) { c.prepare("ping", kPing).run(); });
}

Task<std::string> SqliteStore::integrity_check() {
  co_return co_await read("integrity_check", [](Connection& c) {
    std::string problems;
    auto s = c.prepare("integrity_check", kIntegrityCheck);
    while (s.step()) {
      const auto line = s.text(0);
      if (line != "ok")
        problems += line + "\n";
    }
    return problems;
  });
}

// --- users ------------------------------------------------------------------------------------

Task<User> SqliteStore::upsert_user(const TelegramIdentity& identity) {
  sup::require_storable_text("first_name", identity.first_name);
  if (identity.last_name)
    sup::require_storable_text("last_name", *identity.last_name);
  if (identity.username)
    sup::require_storable_text("username", *identity.username);
  if (identity.language_code)
    sup::require_storable_text("language_code", *identity.language_code);
  const auto t = sup::to_micros(now());
  co_return co_await write("users.upsert", [&](Connection& c) {
    auto s = c.prepare("users.upsert", kUserUpsert);
    s.bind(1, identity.telegram_id)
        .bind(2, identity.first_name)
        .bind(3, identity.last_name)
        .bind(4, identity.username)
        .bind(5, identity.language_code)
        .bind(6, t);
    s.step();
    return read_user(s);
  });
}

Task<std::optional<User>> SqliteStore::find_user(UserId user_id) {
  co_return co_await read("users.find", [&](Connection& c) { return query_user(c, kUserFind, "users.find", user_id); });
}

Task<std::optional<User>> SqliteStore::find_user_by_telegram_id(std::int64_t telegram_id) {
  co_return co_await read("users.find_by_telegram_id", [&](Connection& c) {
    return query_user(c, kUserFindByTelegram, "users.find_by_telegram_id", telegram_id);
  });
}

Task<bool> SqliteStore::update_user_settings(UserId user_id, std::string settings_json) {
  sup::require_json_object("settings", settings_json);
  const auto t = sup::to_micros(now());
  co_return co_await write("users.update_settings", [&](Connection& c) {
    c.prepare("users.update_settings", kUserSettings).bind(1, user_id).bind(2, settings_json).bind(3, t).run();
    return c.changes() > 0;
  });
}

Task<bool> SqliteStore::set_user_banned(UserId user_id, bool banned) {
  const auto t = sup::to_micros(now());
  co_return co_await write("users.set_banned", [&](Connection& c) {
    c.prepare("users.set_banned", kUserBan).bind(1, user_id).bind(2, banned).bind(3, t).run();
    return c.changes() > 0;
  });
}

Task<bool> SqliteStore::set_premium_until(UserId user_id, std::optional<Time> until) {
  const auto t = sup::to_micros(now());
  co_return co_await write("users.set_premium", [&](Connection& c) {
    c.prepare("users.set_premium", kUserPremiumSet).bind(1, user_id).bind(2, micros(until)).bind(3, t).run();
    return c.changes() > 0;
  });
}

Task<std::optional<Time>> SqliteStore::grant_premium(UserId user_id, std::chrono::days days) {
  const auto t = sup::to_micros(now());
  const auto span = std::chrono::duration_cast<std::chrono::microseconds>(days).count();
  co_return co_await write("users.grant_premium", [&](Connection& c) -> std::optional<Time> {
    auto s = c.prepare("users.grant_premium", kUserPremiumExtend);
    s.bind(1, user_id).bind(2, t).bind(3, span);
    if (!s.step())
      return std::nullopt;
    return sup::from_micros(s.int64(0));
  });
}

Task<std::vector<User>> SqliteStore::list_users(const UserListQuery& query) {
  std::optional<std::string> pattern;
  if (query.text && !query.text->empty())
    pattern = sup::like_pattern_contains(*query.text);
  std::optional<std::int64_t> premium;
  if (query.premium)
    premium = *query.premium ? 1 : 0;
  std::optional<std::int64_t> banned;
  if (query.banned)
    banned = *query.banned ? 1 : 0;
  const auto t = sup::to_micros(now());
  co_return co_await read("users.list", [&](Connection& c) {
    auto s = c.prepare("users.list", kUserList);
    s.bind(1, query.before_id.value_or(kNoUpperId))
        .bind(2, premium)
        .bind(3, t)
        .bind(4, pattern)
        .bind(5, query.text.value_or(""))
        .bind(6, as_int(sup::clamp_limit(query.limit)))
        .bind(7, banned)
        .bind(8, micros(query.active_since));
    std::vector<User> out;
    while (s.step())
      out.push_back(read_user(s));
    return out;
  });
}

// --- quota ------------------------------------------------------------------------------------

Task<QuotaGrant> SqliteStore::take_quota_unit(UserId user_id, std::int64_t free_limit) {
  const Time t = now();
  QuotaGrant grant;
  grant.day = sup::utc_day(t);
  grant.resets_at = Time(grant.day + std::chrono::days(1));
  const std::string day = sup::format_day(grant.day);
  co_return co_await write("quota.take", [&](Connection& c) {
    {
      auto s = c.prepare("quota.take", kQuotaTake);
      s.bind(1, user_id).bind(2, day).bind(3, sup::to_micros(t)).bind(4, free_limit);
      if (s.step()) {
        grant.granted = true;
        grant.used = s.int64(0);
        grant.unlimited = s.int64(1) != 0;
        return grant;
      }
    }
    auto peek = c.prepare("quota.peek", kQuotaPeek);
    peek.bind(1, user_id).bind(2, day);
    if (peek.step())
      grant.used = peek.int64(0);
    return grant;
  });
}

Task<void> SqliteStore::give_back_quota_unit(UserId user_id, std::chrono::sys_days day) {
  const std::string text = sup::format_day(day);
  co_await write("quota.give_back", [&](Connection& c) {
    c.prepare("quota.give_back", kQuotaGiveBack).bind(1, user_id).bind(2, text).run();
  });
}

Task<QuotaGrant> SqliteStore::take_daily_unit(UserId user_id, std::string_view counter, std::int64_t free_limit) {
  sup::validate_counter_name(counter);
  const Time t = now();
  QuotaGrant grant;
  grant.day = sup::utc_day(t);
  grant.resets_at = Time(grant.day + std::chrono::days(1));
  const std::string day = sup::format_day(grant.day);
  const std::string name(counter);
  co_return co_await write("daily.take", [&](Connection& c) {
    {
      auto s = c.prepare("daily.take", kDailyTake);
      s.bind(1, user_id).bind(2, name).bind(3, day).bind(4, sup::to_micros(t)).bind(5, free_limit);
      if (s.step()) {
        grant.granted = true;
        grant.used = s.int64(0);
        grant.unlimited = s.int64(1) != 0;
        return grant;
      }
    }
    auto peek = c.prepare("daily.peek", kDailyPeek);
    peek.bind(1, user_id).bind(2, name).bind(3, day);
    if (peek.step())
      grant.used = peek.int64(0);
    return grant;
  });
}

Task<void> SqliteStore::give_back_daily_unit(UserId user_id, std::string_view counter, std::chrono::sys_days day) {
  sup::validate_counter_name(counter);
  const std::string text = sup::format_day(day);
  const std::string name(counter);
  co_await write("daily.give_back", [&](Connection& c) {
    c.prepare("daily.give_back", kDailyGiveBack).bind(1, user_id).bind(2, name).bind(3, text).run();
  });
}

// --- messages ---------------------------------------------------------------------------------

Task<InsertedMessage> SqliteStore::insert_message(const NewMessage& message) {
  sup::validate_new_message(message);
  const auto t = sup::to_micros(now());
  co_return co_await write("messages.insert", [&](Connection& c) {
    {
      auto s = c.prepare("messages.insert", kMessageInsert);
      s.bind(1, message.user_id)
          .bind(2, to_string(message.role))
          .bind(3, message.content)
          .bind(4, message.has_image)
          .bind(5, message.tokens)
          .bind(6, to_string(message.status))
          .bind(7, message.client_message_id)
          .bind(8, message.reply_to_id)
          .bind(9, t)
          .bind(10, message.finish_reason);
      if (s.step())
        return InsertedMessage{read_message(s), true};
    }
    auto existing = query_message(c, kMessageByClientId, "messages.find_by_client_id", message.user_id,
                                  std::string_view(*message.client_message_id));
    if (!existing) {
      throw StoreError(StoreErrorKind::kOther, "messages.insert", "conflicting row vanished");
    }
    return InsertedMessage{std::move(*existing), false};
  });
}

Task<bool> SqliteStore::set_message_status(UserId user_id, MessageId message_id, MessageStatus status,
                                           std::optional<std::int64_t> tokens) {
  co_return co_await write("messages.set_status", [&](Connection& c) {
    c.prepare("messages.set_status", kMessageStatus)
        .bind(1, user_id)
        .bind(2, message_id)
        .bind(3, to_string(status))
        .bind(4, tokens)
        .run();
    return c.changes() > 0;
  });
}

Task<std::vector<Message>> SqliteStore::recent_messages(UserId user_id, std::size_t limit,
                                                        std::optional<std::size_t> char_budget) {
  auto newest = co_await read("messages.recent", [&](Connection& c) {
    return query_newest(c, user_id, std::nullopt, sup::clamp_limit(limit));
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

Task<HistoryPage> SqliteStore::history_page(UserId user_id, std::optional<MessageId> before_id, std::size_t limit) {
  const std::size_t n = sup::clamp_limit(limit);
  HistoryPage page;
  page.messages =
      co_await read("messages.history", [&](Connection& c) { return query_newest(c, user_id, before_id, n + 1); });
  if (page.messages.size() > n) {
    page.messages.resize(n);
    page.next_before_id = page.messages.back().id;
  }
  co_return page;
}

Task<std::optional<Message>> SqliteStore::find_message_by_client_id(UserId user_id,
                                                                    std::string_view client_message_id) {
  co_return co_await read("messages.find_by_client_id", [&](Connection& c) {
    return query_message(c, kMessageByClientId, "messages.find_by_client_id", user_id, client_message_id);
  });
}

Task<std::optional<Message>> SqliteStore::find_reply(UserId user_id, MessageId message_id) {
  co_return co_await read("messages.find_reply", [&](Connection& c) {
    return query_message(c, kMessageReply, "messages.find_reply", user_id, message_id);
  });
}

Task<std::vector<Message>> SqliteStore::messages_after(UserId user_id, MessageId after_id, std::size_t limit) {
  co_return co_await read("messages.after", [&](Connection& c) {
    auto s = c.prepare("messages.after", kMessagesAfter);
    s.bind(1, user_id).bind(2, after_id).bind(3, as_int(sup::clamp_limit(limit)));
    return query_messages(s);
  });
}

Task<std::int64_t> SqliteStore::count_messages(UserId user_id, MessageId after_id) {
  co_return co_await read("messages.count", [&](Connection& c) {
    auto s = c.prepare("messages.count", kMessagesCount);
    s.bind(1, user_id).bind(2, after_id);
    s.step();
    return s.int64(0);
  });
}

Task<DeletedUserData> SqliteStore::delete_user_data(UserId user_id) {
  co_return co_await write("user_data.delete", [&](Connection& c) {
    Transaction tx(c);
    DeletedUserData out;
    c.prepare("messages.delete_user", kMessagesDeleteUser).bind(1, user_id).run();
    out.messages = c.changes();
    c.prepare("memory.delete_user", kMemoryDeleteUser).bind(1, user_id).run();
    out.memory = c.changes() > 0;
    tx.commit();
    return out;
  });
}

Task<std::vector<SearchHit>> SqliteStore::search_messages(UserId user_id, std::string_view text, std::size_t limit) {
  const std::string query = sup::fts5_all_terms_query(sup::normalize_search_text(text));
  if (query.empty())
    co_return std::vector<SearchHit>{};
  co_return co_await read("messages.search", [&](Connection& c) {
    auto s = c.prepare("messages.search", kMessagesSearch);
    s.bind(1, user_id).bind(2, query).bind(3, as_int(sup::clamp_limit(limit)));
    std::vector<SearchHit> out;
    while (s.step()) {
      out.push_back(SearchHit{s.int64(0), role_from_string(s.text(1)), sup::render_snippet(s.text(3)),
                              sup::from_micros(s.int64(2)), -s.real(4)});
    }
    return out;
  });
}

// --- memory -----------------------------------------------------------------------------------

Task<Memory> SqliteStore::get_memory(UserId user_id) {
  co_return co_await read("memory.get", [&](Connection& c) { return query_memory(c, user_id); });
}

Task<std::optional<std::int64_t>> SqliteStore::write_memory(const MemoryWrite& w) {
  sup::require_storable_text("summary", w.summary);
  sup::validate_facts(w.facts);
  const std::string facts = sup::facts_to_json(w.facts);
  const auto t = sup::to_micros(now());
  co_return co_await write("memory.write", [&](Connection& c) -> std::optional<std::int64_t> {
    if (w.base_version == 0) {
      auto s = c.prepare("memory.insert", kMemoryInsert);
      s.bind(1, w.user_id).bind(2, w.summary).bind(3, facts).bind(4, w.last_summarized_message_id).bind(5, t);
      if (!s.step())
        return std::nullopt;
      return s.int64(0);
    }
    auto s = c.prepare("memory.update", kMemoryUpdate);
    s.bind(1, w.user_id)
        .bind(2, w.summary)
        .bind(3, facts)
        .bind(4, w.last_summarized_message_id)
        .bind(5, w.base_version)
        .bind(6, t);
    if (!s.step())
      return std::nullopt;
    return s.int64(0);
  });
}

Task<TurnContext> SqliteStore::load_turn_context(UserId user_id, std::size_t recent_limit, std::string_view search_text,
                                                 std::size_t relevant_limit) {
  const std::string relevant_query = sup::fts5_any_word_query(sup::relevant_words(search_text));
  co_return co_await read("turn_context.load", [&](Connection& c) {
    ReadSnapshot snapshot(c);
    TurnContext ctx;
    ctx.user = query_user(c, kUserFind, "users.find", user_id);
    ctx.memory = query_memory(c, user_id);
    ctx.recent = query_newest(c, user_id, std::nullopt, sup::clamp_limit(recent_limit));
    std::reverse(ctx.recent.begin(), ctx.recent.end());
    if (relevant_limit > 0 && !relevant_query.empty()) {
      const MessageId below = ctx.recent.empty() ? kNoUpperId : ctx.recent.front().id;
      auto s = c.prepare("messages.relevant", kMessagesRelevant);
      s.bind(1, user_id).bind(2, relevant_query).bind(3, below).bind(4, as_int(sup::clamp_limit(relevant_limit)));
      ctx.relevant = query_messages(s);
    }
    return ctx;
  });
}

// --- payments ---------------------------------------------------------------------------------

Task<PaymentOutcome> SqliteStore::apply_payment(const NewPayment& p) {
  sup::validate_new_payment(p);
  const auto t = sup::to_micros(now());
  const auto span = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::days(p.days)).count();
  co_return co_await write("payments.apply", [&](Connection& c) {
    Transaction tx(c);
    PaymentOutcome out;
    {
      auto s = c.prepare("payments.insert", kPaymentInsert);
      s.bind(1, p.charge_id)
          .bind(2, p.provider_charge_id)
          .bind(3, p.user_id)
          .bind(4, p.currency)
          .bind(5, p.amount)
          .bind(6, p.plan)
          .bind(7, p.days)
          .bind(8, t);
      if (s.step()) {
        out.applied = true;
        out.payment = read_payment(s);
      }
    }
    if (out.applied) {
      auto s = c.prepare("users.extend_premium", kUserPremiumExtend);
      s.bind(1, p.user_id).bind(2, t).bind(3, span);
      if (!s.step())
        throw StoreError(StoreErrorKind::kConstraint, "payments.apply", "payment for a missing user");
      out.premium_until = sup::from_micros(s.int64(0));
    } else {
      out.payment = *query_payment(c, p.charge_id);
      out.premium_until = query_premium_until(c, out.payment.user_id);
    }
    tx.commit();
    return out;
  });
}

Task<RefundOutcome> SqliteStore::refund_payment(std::string_view charge_id) {
  const auto t = sup::to_micros(now());
  co_return co_await write("payments.refund", [&](Connection& c) {
    Transaction tx(c);
    RefundOutcome out;
    {
      auto s = c.prepare("payments.refund", kPaymentRefund);
      s.bind(1, charge_id).bind(2, t);
      if (s.step()) {
        out.refunded = true;
        out.payment = read_payment(s);
      }
    }
    if (out.refunded) {
      const auto span =
          std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::days(out.payment->days)).count();
      auto s = c.prepare("users.revoke_premium", kUserPremiumRevoke);
      s.bind(1, out.payment->user_id).bind(2, t).bind(3, span);
      if (s.step() && !s.is_null(0))
        out.premium_until = sup::from_micros(s.int64(0));
    } else {
      out.payment = query_payment(c, charge_id);
      if (out.payment)
        out.premium_until = query_premium_until(c, out.payment->user_id);
    }
    tx.commit();
    return out;
  });
}

Task<std::optional<Payment>> SqliteStore::find_payment(std::string_view charge_id) {
  co_return co_await read("payments.find", [&](Connection& c) { return query_payment(c, charge_id); });
}

Task<std::vector<Payment>> SqliteStore::list_payments(std::optional<UserId> user_id, std::optional<PaymentId> before_id,
                                                      std::size_t limit) {
  co_return co_await read("payments.list", [&](Connection& c) {
    auto s = c.prepare("payments.list", kPaymentList);
    s.bind(1, user_id).bind(2, before_id.value_or(kNoUpperId)).bind(3, as_int(sup::clamp_limit(limit)));
    std::vector<Payment> out;
    while (s.step())
      out.push_back(read_payment(s));
    return out;
  });
}

// --- admins and audit ---------------------------------------------------------------------------

Task<std::optional<Admin>> SqliteStore::create_admin(std::string_view username, std::string_view password_hash) {
  sup::require_storable_text("username", username);
  sup::require_storable_text("password_hash", password_hash);
  const auto t = sup::to_micros(now());
  co_return co_await write("admins.create", [&](Connection& c) -> std::optional<Admin> {
    auto s = c.prepare("admins.create", kAdminCreate);
    s.bind(1, username).bind(2, password_hash).bind(3, t);
    if (!s.step())
      return std::nullopt;
    return read_admin(s);
  });
}

Task<std::optional<Admin>> SqliteStore::find_admin(std::string_view username) {
  co_return co_await read("admins.find", [&](Connection& c) -> std::optional<Admin> {
    auto s = c.prepare("admins.find", kAdminFind);
    s.bind(1, username);
    if (!s.step())
      return std::nullopt;
    return read_admin(s);
  });
}

Task<AuditEntry> SqliteStore::append_audit(const NewAuditEntry& entry) {
  sup::require_storable_text("action", entry.action);
  sup::require_storable_text("target", entry.target);
  sup::require_storable_text("details", entry.details_json);
  const auto t = sup::to_micros(now());
  co_return co_await write("audit.append", [&](Connection& c) {
    auto s = c.prepare("audit.append", kAuditAppend);
    s.bind(1, entry.admin_id).bind(2, entry.action).bind(3, entry.target).bind(4, entry.details_json).bind(5, t);
    s.step();
    return read_audit(s);
  });
}

Task<std::vector<AuditEntry>> SqliteStore::list_audit(std::optional<AuditId> before_id, std::size_t limit) {
  co_return co_await read("audit.list", [&](Connection& c) {
    auto s = c.prepare("audit.list", kAuditList);
    s.bind(1, before_id.value_or(kNoUpperId)).bind(2, as_int(sup::clamp_limit(limit)));
    std::vector<AuditEntry> out;
    while (s.step())
      out.push_back(read_audit(s));
    return out;
  });
}

// --- jobs, leases, small state ---------------------------------------------------------------------

Task<std::optional<JobId>> SqliteStore::enqueue_job(const NewJob& job) {
  sup::require_storable_text("kind", job.kind);
  sup::require_storable_text("payload", job.payload);
  const Time t = now();
  const auto run_after = sup::to_micros(job.run_after.value_or(t));
  co_return co_await write("jobs.enqueue", [&](Connection& c) -> std::optional<JobId> {
    auto s = c.prepare("jobs.enqueue", kJobEnqueue);
    s.bind(1, job.kind).bind(2, job.payload).bind(3, job.dedupe_key).bind(4, run_after).bind(5, sup::to_micros(t));
    if (!s.step())
      return std::nullopt;
    return s.int64(0);
  });
}

Task<std::optional<Job>> SqliteStore::lease_job(const std::vector<std::string>& kinds, std::string_view owner,
                                                std::chrono::milliseconds lease_for) {
  const Time t = now();
  const std::string kinds_text = kinds_json(kinds);
  co_return co_await write("jobs.lease", [&](Connection& c) -> std::optional<Job> {
    auto s = c.prepare("jobs.lease", kJobLease);
    s.bind(1, sup::to_micros(t)).bind(2, owner).bind(3, sup::to_micros(t + lease_for)).bind(4, kinds_text);
    if (!s.step())
      return std::nullopt;
    return read_job(s);
  });
}

Task<bool> SqliteStore::complete_job(JobId job_id, std::string_view owner) {
  const auto t = sup::to_micros(now());
  co_return co_await write("jobs.complete", [&](Connection& c) {
    c.prepare("jobs.complete", kJobComplete).bind(1, job_id).bind(2, owner).bind(3, t).run();
    return c.changes() > 0;
  });
}

Task<bool> SqliteStore::fail_job(JobId job_id, std::string_view owner, std::string_view error,
                                 std::optional<Time> retry_at) {
  const std::string error_text = sup::normalize_search_text(error);  // any bytes become storable text
  const auto t = sup::to_micros(now());
  co_return co_await write("jobs.fail", [&](Connection& c) {
    c.prepare("jobs.fail", kJobFail)
        .bind(1, job_id)
        .bind(2, owner)
        .bind(3, error_text)
        .bind(4, micros(retry_at))
        .bind(5, t)
        .run();
    return c.changes() > 0;
  });
}

Task<std::optional<Job>> SqliteStore::find_job(JobId job_id) {
  co_return co_await read("jobs.find", [&](Connection& c) -> std::optional<Job> {
    auto s = c.prepare("jobs.find", kJobFind);
    s.bind(1, job_id);
    if (!s.step())
      return std::nullopt;
    return read_job(s);
  });
}

Task<bool> SqliteStore::acquire_lease(std::string_view name, std::string_view owner, std::chrono::milliseconds ttl) {
  const Time t = now();
  co_return co_await write("leases.acquire", [&](Connection& c) {
    auto s = c.prepare("leases.acquire", kLeaseAcquire);
    s.bind(1, name).bind(2, owner).bind(3, sup::to_micros(t + ttl)).bind(4, sup::to_micros(t));
    return s.step();
  });
}

Task<void> SqliteStore::release_lease(std::string_view name, std::string_view owner) {
  co_await write("leases.release",
                 [&](Connection& c) { c.prepare("leases.release", kLeaseRelease).bind(1, name).bind(2, owner).run(); });
}

Task<std::optional<std::string>> SqliteStore::kv_get(std::string_view key) {
  co_return co_await read("kv.get", [&](Connection& c) -> std::optional<std::string> {
    auto s = c.prepare("kv.get", kKvGet);
    s.bind(1, key);
    if (!s.step())
      return std::nullopt;
    return s.text(0);
  });
}

Task<void> SqliteStore::kv_set(std::string_view key, std::string_view value) {
  sup::require_storable_text("key", key);
  sup::require_storable_text("value", value);
  const auto t = sup::to_micros(now());
  co_await write("kv.set",
                 [&](Connection& c) { c.prepare("kv.set", kKvSet).bind(1, key).bind(2, value).bind(3, t).run(); });
}

Task<bool> SqliteStore::mark_update_processed(std::int64_t update_id) {
  const auto t = sup::to_micros(now());
  co_return co_await write("updates.mark_processed", [&](Connection& c) {
    c.prepare("updates.mark_processed", kUpdateMark).bind(1, update_id).bind(2, t).run();
    return c.changes() > 0;
  });
}

// --- retention and export ----------------------------------------------------------------------------

Task<std::int64_t> SqliteStore::delete_messages_older_than(Time cutoff, std::size_t batch_size) {
  const auto cut = sup::to_micros(cutoff);
  const auto batch = as_int(std::max<std::size_t>(batch_size, 1));
  std::int64_t total = 0;
  for (;;) {
    // One short write transaction per batch, so chat turns interleave with a long cleanup.
    const std::int64_t deleted = co_await write("messages.retention_batch", [&](Connection& c) {
      c.prepare("messages.retention_batch", kMessagesRetention).bind(1, cut).bind(2, batch).run();
      return c.changes();
    });
    total += deleted;
    if (deleted < batch)
      break;
  }
  co_return total;
}

Task<std::int64_t> SqliteStore::delete_processed_updates_older_than(Time cutoff) {
  const auto cut = sup::to_micros(cutoff);
  co_return co_await write("updates.retention", [&](Connection& c) {
    c.prepare("updates.retention", kUpdatesRetention).bind(1, cut).run();
    return c.changes();
  });
}

Task<std::optional<UserExport>> SqliteStore::export_user_data(UserId user_id) {
  co_return co_await read("user_data.export", [&](Connection& c) -> std::optional<UserExport> {
    ReadSnapshot snapshot(c);
    auto user = query_user(c, kUserFind, "users.find", user_id);
    if (!user)
      return std::nullopt;
    UserExport out;
    out.user = std::move(*user);
    out.memory = query_memory(c, user_id);
    {
      auto s = c.prepare("messages.all", kMessagesAll);
      s.bind(1, user_id);
      out.messages = query_messages(s);
    }
    auto s = c.prepare("payments.list", kPaymentList);
    s.bind(1, user_id).bind(2, kNoUpperId).bind(3, kNoUpperId);
    while (s.step())
      out.payments.push_back(read_payment(s));
    std::reverse(out.payments.begin(), out.payments.end());
    return out;
  });
}

// --- operators' statistics and user activity -------------------------------------------------------

namespace {

constexpr const char* kModelCallRecord =
    "INSERT INTO model_calls (user_id, ok, input_tokens, output_tokens, latency_ms, created_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
// Days are UTC dates of the microsecond timestamps; every query covers [?1, ?2).
constexpr const char* kStatsMessages =
    "SELECT date(created_at / 1000000, 'unixepoch'), count(*), "
    "count(DISTINCT CASE WHEN role = 'user' THEN user_id END) "
    "FROM messages WHERE created_at >= ?1 AND created_at < ?2 GROUP BY 1";
constexpr const char* kStatsNewUsers =
    "SELECT date(created_at / 1000000, 'unixepoch'), count(*) FROM users "
    "WHERE created_at >= ?1 AND created_at < ?2 GROUP BY 1";
constexpr const char* kStatsRevenue =
    "SELECT date(created_at / 1000000, 'unixepoch'), sum(amount) FROM payments "
    "WHERE currency = 'XTR' AND created_at >= ?1 AND created_at < ?2 GROUP BY 1";
constexpr const char* kStatsModelCalls =
    "SELECT date(created_at / 1000000, 'unixepoch'), sum(input_tokens), sum(output_tokens), "
    "sum(CASE WHEN ok = 0 THEN 1 ELSE 0 END) FROM model_calls "
    "WHERE created_at >= ?1 AND created_at < ?2 GROUP BY 1";
// Nearest rank: the ceil(0.95 n)-th smallest latency of the day's successful calls.
constexpr const char* kStatsLatency =
    "SELECT day, latency_ms FROM (SELECT day, latency_ms, "
    "row_number() OVER (PARTITION BY day ORDER BY latency_ms) AS pos, count(*) OVER (PARTITION BY day) AS n "
    "FROM (SELECT date(created_at / 1000000, 'unixepoch') AS day, latency_ms FROM model_calls "
    "WHERE ok = 1 AND created_at >= ?1 AND created_at < ?2) AS calls) AS ranked "
    "WHERE pos = (95 * n + 99) / 100";
constexpr const char* kStatsLoad =
    "SELECT day, messages, active_users, new_users, stars_revenue, tokens_in, tokens_out, model_errors, "
    "p95_latency_ms FROM daily_stats WHERE day >= ?1 AND day < ?2 ORDER BY day";
constexpr const char* kStatsSave =
    "INSERT INTO daily_stats (day, messages, active_users, new_users, stars_revenue, tokens_in, tokens_out, "
    "model_errors, p95_latency_ms, computed_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
    "ON CONFLICT (day) DO UPDATE SET messages = excluded.messages, active_users = excluded.active_users, "
    "new_users = excluded.new_users, stars_revenue = excluded.stars_revenue, tokens_in = excluded.tokens_in, "
    "tokens_out = excluded.tokens_out, model_errors = excluded.model_errors, "
    "p95_latency_ms = excluded.p95_latency_ms, computed_at = excluded.computed_at";
constexpr const char* kUserActivity =
    "SELECT count(*), coalesce(sum(CASE WHEN role = 'user' AND created_at >= ?2 THEN 1 ELSE 0 END), 0), "
    "(SELECT created_at FROM messages WHERE user_id = ?1 ORDER BY id DESC LIMIT 1) "
    "FROM messages WHERE user_id = ?1";

/// The row of `day` in a range that starts at `from`.
DailyStats& stats_row(std::vector<DailyStats>& rows, std::chrono::sys_days from, const std::string& day) {
  const auto index = (sup::parse_day(day) - from).count();
  return rows.at(static_cast<std::size_t>(index));
}

}  // namespace

Task<void> SqliteStore::record_model_call(const NewModelCall& call) {
  const auto t = sup::to_micros(now());
  co_await write("model_calls.record", [&](Connection& c) {
    c.prepare("model_calls.record", kModelCallRecord)
        .bind(1, call.user_id)
        .bind(2, call.ok)
        .bind(3, call.input_tokens)
        .bind(4, call.output_tokens)
        .bind(5, call.latency_ms)
        .bind(6, t)
        .run();
  });
}

Task<std::vector<DailyStats>> SqliteStore::compute_daily_stats(std::chrono::sys_days from, std::chrono::sys_days to) {
  std::vector<DailyStats> rows;
  for (auto day = from; day < to; day += std::chrono::days(1)) {
    DailyStats row;
    row.day = day;
    rows.push_back(row);
  }
  if (rows.empty())
    co_return rows;
  const auto start = sup::to_micros(Time(from));
  const auto end = sup::to_micros(Time(to));
  co_return co_await read("stats.compute", [&](Connection& c) {
    ReadSnapshot snapshot(c);
    {
      auto s = c.prepare("stats.messages", kStatsMessages);
      s.bind(1, start).bind(2, end);
      while (s.step()) {
        auto& row = stats_row(rows, from, s.text(0));
        row.messages = s.int64(1);
        row.active_users = s.int64(2);
      }
    }
    {
      auto s = c.prepare("stats.new_users", kStatsNewUsers);
      s.bind(1, start).bind(2, end);
      while (s.step())
        stats_row(rows, from, s.text(0)).new_users = s.int64(1);
    }
    {
      auto s = c.prepare("stats.revenue", kStatsRevenue);
      s.bind(1, start).bind(2, end);
      while (s.step())
        stats_row(rows, from, s.text(0)).stars_revenue = s.int64(1);
    }
    {
      auto s = c.prepare("stats.model_calls", kStatsModelCalls);
      s.bind(1, start).bind(2, end);
      while (s.step()) {
        auto& row = stats_row(rows, from, s.text(0));
        row.tokens_in = s.int64(1);
        row.tokens_out = s.int64(2);
        row.model_errors = s.int64(3);
      }
    }
    auto s = c.prepare("stats.latency", kStatsLatency);
    s.bind(1, start).bind(2, end);
    while (s.step())
      stats_row(rows, from, s.text(0)).p95_latency_ms = s.int64(1);
    return rows;
  });
}

Task<std::vector<DailyStats>> SqliteStore::load_daily_stats(std::chrono::sys_days from, std::chrono::sys_days to) {
  const auto first = sup::format_day(from);
  const auto end = sup::format_day(to);
  co_return co_await read("stats.load", [&](Connection& c) {
    auto s = c.prepare("stats.load", kStatsLoad);
    s.bind(1, first).bind(2, end);
    std::vector<DailyStats> out;
    while (s.step()) {
      DailyStats row;
      row.day = sup::parse_day(s.text(0));
      row.messages = s.int64(1);
      row.active_users = s.int64(2);
      row.new_users = s.int64(3);
      row.stars_revenue = s.int64(4);
      row.tokens_in = s.int64(5);
      row.tokens_out = s.int64(6);
      row.model_errors = s.int64(7);
      row.p95_latency_ms = s.optional_int64(8);
      out.push_back(row);
    }
    return out;
  });
}

Task<void> SqliteStore::save_daily_stats(const std::vector<DailyStats>& days) {
  if (days.empty())
    co_return;
  const auto t = sup::to_micros(now());
  co_await write("stats.save", [&](Connection& c) {
    Transaction tx(c);
    for (const auto& row : days) {
      c.prepare("stats.save", kStatsSave)
          .bind(1, sup::format_day(row.day))
          .bind(2, row.messages)
          .bind(3, row.active_users)
          .bind(4, row.new_users)
          .bind(5, row.stars_revenue)
          .bind(6, row.tokens_in)
          .bind(7, row.tokens_out)
          .bind(8, row.model_errors)
          .bind(9, row.p95_latency_ms)
          .bind(10, t)
          .run();
    }
    tx.commit();
  });
}

Task<UserActivity> SqliteStore::user_activity(UserId user_id, Time since) {
  const auto from = sup::to_micros(since);
  co_return co_await read("users.activity", [&](Connection& c) {
    auto s = c.prepare("users.activity", kUserActivity);
    s.bind(1, user_id).bind(2, from);
    s.step();
    UserActivity out;
    out.messages = s.int64(0);
    out.user_messages_since = s.int64(1);
    if (auto last = s.optional_int64(2))
      out.last_active_at = sup::from_micros(*last);
    return out;
  });
}

}  // namespace evolveai::storage::sqlite
