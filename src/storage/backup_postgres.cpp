#include "storage/backup_postgres.hpp"

#include <libpq-fe.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <random>
#include <utility>

namespace evolveai::storage {
namespace {

namespace fs = std::filesystem;

/// What a connect may take when the URL sets no connect_timeout (seconds).
constexpr std::string_view kDefaultConnectTimeout = "10";

/// One blocking libpq connection, closed on scope exit.
class PgConn {
 public:
  PgConn(const PgTarget& target, const std::string& dbname) {
    std::vector<const char*> keys;
    std::vector<const char*> values;
    bool has_timeout = false;
    for (const auto& [key, value] : target.options) {
      if (key == "dbname" && !dbname.empty())
        continue;
      has_timeout = has_timeout || key == "connect_timeout";
      keys.push_back(key.c_str());
      values.push_back(value.c_str());
    }
    if (!dbname.empty()) {
      keys.push_back("dbname");
      values.push_back(dbname.c_str());
    }
    if (!target.password.empty()) {
      keys.push_back("password");
      values.push_back(target.password.c_str());
    }
    if (!has_timeout) {
      keys.push_back("connect_timeout");
      values.push_back(kDefaultConnectTimeout.data());
    }
    keys.push_back(nullptr);
    values.push_back(nullptr);
    conn_ = PQconnectdbParams(keys.data(), values.data(), 0);
    if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) {
      const std::string detail = conn_ != nullptr ? PQerrorMessage(conn_) : "out of memory";
      PQfinish(conn_);
      conn_ = nullptr;
      throw BackupError("cannot connect to PostgreSQL: " + detail);
    }
  }
  PgConn(const PgConn&) = delete;
  PgConn& operator=(const PgConn&) = delete;
  ~PgConn() { PQfinish(conn_); }

  /// Runs SQL; returns the first column of every row.
  std::vector<std::string> column(const std::string& sql) {
    std::unique_ptr<PGresult, decltype(&PQclear)> result(PQexec(conn_, sql.c_str()), &PQclear);
    const auto status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      throw BackupError(std::string("PostgreSQL: ") + PQerrorMessage(conn_));
    }
    std::vector<std::string> out;
    for (int row = 0; row < PQntuples(result.get()); ++row)
      out.emplace_back(PQgetvalue(result.get(), row, 0));
    return out;
  }
  void exec(const std::string& sql) { column(sql); }
  std::string scalar(const std::string& sql) {
    auto rows = column(sql);
    if (rows.empty())
      throw BackupError("PostgreSQL: no result");
    return rows.front();
  }
  /// `schema.table` quoted as an identifier.
  std::string qualified(const std::string& schema, const std::string& table) {
    return identifier(schema) + "." + identifier(table);
  }
  std::string identifier(const std::string& name) {
    std::unique_ptr<char, decltype(&PQfreemem)> escaped(PQescapeIdentifier(conn_, name.data(), name.size()),
                                                        &PQfreemem);
    if (!escaped)
      throw BackupError(std::string("PostgreSQL: ") + PQerrorMessage(conn_));
    return escaped.get();
  }

  /// Ordinary and partitioned tables outside the system schemas: (schema, table).
  std::vector<std::pair<std::string, std::string>> tables() {
    std::unique_ptr<PGresult, decltype(&PQclear)> result(
        PQexec(conn_,
               "SELECT n.nspname, c.relname FROM pg_catalog.pg_class c "
               "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
               "WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition "
               "AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%' "
               "ORDER BY 1, 2"),
        &PQclear);
    if (!result || PQresultStatus(result.get()) != PGRES_TUPLES_OK) {
      throw BackupError(std::string("PostgreSQL: ") + PQerrorMessage(conn_));
    }
    std::vector<std::pair<std::string, std::string>> out;
    for (int row = 0; row < PQntuples(result.get()); ++row) {
      out.emplace_back(PQgetvalue(result.get(), row, 0), PQgetvalue(result.get(), row, 1));
    }
    return out;
  }

  TableCounts count_rows() {
    TableCounts counts;
    for (const auto& [schema, table] : tables()) {
      counts.emplace(schema + "." + table, std::stoll(scalar("SELECT count(*) FROM " + qualified(schema, table))));
    }
    return counts;
  }

 private:
  PGconn* conn_ = nullptr;
};

std::string quote_conninfo_value(std::string_view value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\')
      out += '\\';
    out += c;
  }
  out += '\'';
  return out;
}

std::string random_suffix() {
  std::random_device entropy;
  static constexpr std::string_view kHex = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 8; ++i)
    out += kHex[entropy() % 16];
  return out;
}

/// The last lines a tool wrote, for an operator's error message.
std::string tool_failure(std::string_view tool, const backup_process::ChildResult& result) {
  if (result.cancelled)
    return "cancelled";
  std::string out = std::string(tool) + " failed";
  out += result.exit_code >= 0 ? " (exit code " + std::to_string(result.exit_code) + ")" : " (killed by a signal)";
  if (!result.stderr_tail.empty())
    out += ":\n" + result.stderr_tail;
  return out;
}

bool counts_as_restore_step(std::string_view line) {
  return line.starts_with("pg_restore: creating ") || line.starts_with("pg_restore: processing data ") ||
         line.starts_with("pg_restore: executing ");
}

}  // namespace

// --- PgTarget ---------------------------------------------------------------------------------

PgTarget PgTarget::parse(const std::string& url) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
  if (options == nullptr) {
    std::string detail = error != nullptr ? error : "out of memory";
    PQfreemem(error);
    throw BackupError("database.url cannot be parsed: " + detail);
  }
  PgTarget target;
  for (auto* option = options; option->keyword != nullptr; ++option) {
    if (option->val == nullptr || *option->val == '\0')
      continue;
    if (std::string_view(option->keyword) == "password") {
      target.password = option->val;
    } else {
      target.options.emplace_back(option->keyword, option->val);
    }
  }
  PQconninfoFree(options);
  return target;
}

std::string PgTarget::conninfo(const std::string& dbname) const {
  std::string out;
  bool named = false;
  for (const auto& [key, value] : options) {
    const bool is_dbname = key == "dbname";
    named = named || is_dbname;
    if (!out.empty())
      out += ' ';
    out += key + "=" + quote_conninfo_value(is_dbname && !dbname.empty() ? dbname : value);
  }
  if (!named && !dbname.empty())
    out += (out.empty() ? "" : " ") + std::string("dbname=") + quote_conninfo_value(dbname);
  return out;
}

std::string PgTarget::dbname() const {
  for (const auto& [key, value] : options) {
    if (key == "dbname")
      return value;
  }
  return {};
}

backup_process::ChildCommand pg_dump_command(const fs::path& program, const PgTarget& target,
                                             const std::string& snapshot, const fs::path& out) {
  backup_process::ChildCommand command;
  command.program = program;
  command.args = {"--format=custom", "--no-password", "--snapshot=" + snapshot, "--file=" + out.string(),
                  "--dbname=" + target.conninfo()};
  if (!target.password.empty())
    command.env.emplace_back("PGPASSWORD", target.password);
  return command;
}

backup_process::ChildCommand pg_restore_command(const fs::path& program, const PgTarget& target,
                                                const std::string& dbname, const fs::path& backup, bool clean) {
  backup_process::ChildCommand command;
  command.program = program;
  command.args = {"--verbose",       "--no-password",   "--no-owner",
                  "--no-privileges", "--exit-on-error", "--single-transaction"};
  if (clean) {
    command.args.emplace_back("--clean");
    command.args.emplace_back("--if-exists");
  }
  command.args.push_back("--dbname=" + target.conninfo(dbname));
  command.args.push_back(backup.string());
  if (!target.password.empty())
    command.env.emplace_back("PGPASSWORD", target.password);
  return command;
}

// --- PgBackupEngine ---------------------------------------------------------------------------

PgBackupEngine::PgBackupEngine(const std::string& url, fs::path bin_dir)
    : target_(PgTarget::parse(url)), bin_dir_(std::move(bin_dir)) {}

fs::path PgBackupEngine::tool(std::string_view name) const {
  auto path = backup_process::find_program(name, bin_dir_);
  if (path.empty()) {
    throw BackupError(std::string(name) + " not found (looked in " +
                      (bin_dir_.empty() ? std::string("/usr/lib/postgresql/15/bin and PATH") : bin_dir_.string()) +
                      "); install the PostgreSQL 15 client tools (postgresql-client-15)");
  }
  return path;
}

TableCounts PgBackupEngine::dump(const fs::path& out, const BackupProgressFn& progress, const std::stop_token& stop) {
  const auto program = tool("pg_dump");
  PgConn conn(target_, {});
  conn.exec("SET statement_timeout = 0");
  conn.exec("SET idle_in_transaction_session_timeout = 0");
  // The snapshot pg_dump reads is this transaction's: the counts below describe it exactly.
  conn.exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  const auto snapshot = conn.scalar("SELECT pg_export_snapshot()");
  if (progress)
    progress(BackupProgress{"counting rows", 0, 0, ""});
  auto counts = conn.count_rows();

  std::error_code ignored;
  fs::remove(out, ignored);
  const auto result = backup_process::run_child(
      pg_dump_command(program, target_, snapshot, out), {},
      [&] {
        if (!progress)
          return;
        std::error_code ec;
        const auto bytes = fs::file_size(out, ec);
        progress(BackupProgress{"dumping", ec ? 0 : static_cast<std::uint64_t>(bytes), 0, "bytes"});
      },
      stop);
  conn.exec("COMMIT");
  if (result.exit_code != 0 || result.cancelled)
    throw BackupError(tool_failure("pg_dump", result));
  return counts;
}

void PgBackupEngine::run_restore(const fs::path& backup, const std::string& dbname, bool clean, std::string_view phase,
                                 const BackupProgressFn& progress, const std::stop_token& stop) {
  const auto program = tool("pg_restore");
  // The archive's table of contents gives the number of items, for progress.
  std::uint64_t total = 0;
  {
    const auto listing =
        fs::temp_directory_path() / ("evolveai-toc-" + std::to_string(::getpid()) + "-" + random_suffix());
    backup_process::ChildCommand list{program, {"--list", "--file=" + listing.string(), backup.string()}, {}};
    const auto result = backup_process::run_child(list, {}, {}, stop);
    std::ifstream in(listing);
    for (std::string line; std::getline(in, line);) {
      if (!line.empty() && line.front() != ';')
        ++total;
    }
    in.close();
    std::error_code ignored;
    fs::remove(listing, ignored);
    if (result.exit_code != 0 || result.cancelled) {
      throw BackupError("the backup cannot be read: " + tool_failure("pg_restore --list", result));
    }
  }
  std::uint64_t done = 0;
  const auto result = backup_process::run_child(
      pg_restore_command(program, target_, dbname, backup, clean),
      [&](std::string_view line) {
        if (!counts_as_restore_step(line))
          return;
        ++done;
        if (progress)
          progress(BackupProgress{phase, std::min(done, total), total, "items"});
      },
      {}, stop);
  if (result.exit_code != 0 || result.cancelled)
    throw BackupError(tool_failure("pg_restore", result));
}

TableCounts PgBackupEngine::restore_into_scratch(const fs::path& backup, const BackupProgressFn& progress,
                                                 const std::stop_token& stop) {
  const std::string scratch = "evolveai_verify_" + std::to_string(::getpid()) + "_" + random_suffix();
  PgConn admin(target_, {});
  const auto quoted = admin.identifier(scratch);
  admin.exec("CREATE DATABASE " + quoted + " TEMPLATE template0");
  try {
    run_restore(backup, scratch, false, "restoring into a scratch database", progress, stop);
    TableCounts counts;
    {
      if (progress)
        progress(BackupProgress{"counting rows", 0, 0, ""});
      PgConn restored(target_, scratch);
      counts = restored.count_rows();
    }
    admin.exec("DROP DATABASE IF EXISTS " + quoted + " WITH (FORCE)");
    return counts;
  } catch (...) {
    try {
      admin.exec("DROP DATABASE IF EXISTS " + quoted + " WITH (FORCE)");
    } catch (const BackupError&) {  // the first failure is the one to report
    }
    throw;
  }
}

bool PgBackupEngine::target_has_data() {
  PgConn conn(target_, {});
  for (const auto& [schema, table] : conn.tables()) {
    if (table == "schema_migrations")
      continue;
    if (conn.scalar("SELECT EXISTS (SELECT 1 FROM " + conn.qualified(schema, table) + ")") == "t")
      return true;
  }
  return false;
}

TableCounts PgBackupEngine::restore(const fs::path& backup, const BackupProgressFn& progress,
                                    const std::stop_token& stop) {
  bool has_tables = false;
  {
    PgConn conn(target_, {});
    has_tables = !conn.tables().empty();
  }
  // Tables that exist (an empty, migrated database, or --force) are dropped and recreated
  // from the dump, all in one transaction.
  run_restore(backup, target_.dbname(), has_tables, "restoring", progress, stop);
  if (progress)
    progress(BackupProgress{"counting rows", 0, 0, ""});
  PgConn conn(target_, {});
  return conn.count_rows();
}

}  // namespace evolveai::storage
