// Backup files without a database: names, manifests, listing, retention, the child process
// runner and how PostgreSQL credentials reach the client tools.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <thread>

#include "storage/backup.hpp"
#include "storage/backup_postgres.hpp"
#include "storage/backup_process.hpp"
#include "support/test_app.hpp"

namespace evolveai::storage {
namespace {

using namespace std::chrono_literals;

Time at(int year, unsigned month, unsigned day, int hour = 0) {
  return Time(std::chrono::sys_days(std::chrono::year(year) / std::chrono::month(month) / std::chrono::day(day))) +
         std::chrono::hours(hour);
}

/// An engine that writes a small file, or fails, as the test says.
class FakeEngine final : public BackupEngine {
 public:
  bool fail_dump = false;

  [[nodiscard]] std::string_view dialect() const noexcept override { return "sqlite"; }
  [[nodiscard]] std::string_view extension() const noexcept override { return ".db"; }
  TableCounts dump(const std::filesystem::path& out, const BackupProgressFn& progress,
                   const std::stop_token&) override {
    std::ofstream(out) << "backup bytes";
    if (progress)
      progress(BackupProgress{"copying pages", 1, 1, "pages"});
    if (fail_dump)
      throw BackupError("disk full");
    return TableCounts{{"users", 2}, {"messages", 7}};
  }
  TableCounts restore_into_scratch(const std::filesystem::path&, const BackupProgressFn&,
                                   const std::stop_token&) override {
    return TableCounts{{"users", 2}, {"messages", 7}};
  }
  bool target_has_data() override { return false; }
  TableCounts restore(const std::filesystem::path&, const BackupProgressFn&, const std::stop_token&) override {
    return TableCounts{{"users", 2}, {"messages", 7}};
  }
};

class BackupFiles : public ::testing::Test {
 protected:
  BackupFiles() {
    BackupSettings settings;
    settings.dir = dir_.path() / "backups";
    settings.clock = [this] { return now_; };
    auto engine = std::make_unique<FakeEngine>();
    engine_ = engine.get();
    backups_ = std::make_unique<Backups>(std::move(settings), std::move(engine));
  }

  testing::TempDir dir_;
  Time now_ = at(2024, 5, 10, 12) + 123ms;
  FakeEngine* engine_ = nullptr;
  std::unique_ptr<Backups> backups_;
};

TEST(BackupNames, CarryDialectAndUtcTime) {
  const auto t = at(2024, 5, 10, 12) + 34min + 56s + 789ms;
  const auto name = backup_file_name("sqlite", t, ".db");
  EXPECT_EQ(name, "evolveai-sqlite-20240510T123456.789Z.db");
  const auto parsed = parse_backup_file_name(name);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->dialect, "sqlite");
  EXPECT_EQ(parsed->created_at, t);
  EXPECT_EQ(parse_backup_file_name("evolveai-postgres-20240510T123456.789Z.dump")->dialect, "postgres");
}

TEST(BackupNames, AnythingElseIsNotABackup) {
  for (const std::string name :
       {"", "evolveai.db", "evolveai-sqlite-20240510T123456.789Z.dump", "evolveai-mysql-20240510T123456.789Z.db",
        "evolveai-sqlite-20241310T123456.789Z.db", "evolveai-sqlite-20240510T123456.789Z.db.json",
        "evolveai-sqlite-20240510T123456.789Z.db.partial", "../evolveai-sqlite-20240510T123456.789Z.db",
        "evolveai-sqlite-2024051OT123456.789Z.db", "evolveai-sqlite-../../../etc/passwd.db"}) {
    EXPECT_FALSE(parse_backup_file_name(name).has_value()) << name;
  }
}

TEST(BackupManifest, RoundTripsAndRejectsMalformedText) {
  BackupInfo info;
  info.name = "evolveai-sqlite-20240510T120000.000Z.db";
  info.dialect = "sqlite";
  info.created_at = at(2024, 5, 10, 12);
  info.bytes = 4096;
  info.sha256 = std::string(64, 'a');
  info.tables = {{"users", 3}, {"messages", 12}};
  info.took = 250ms;
  const auto parsed = manifest_from_json(manifest_to_json(info));
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->name, info.name);
  EXPECT_EQ(parsed->created_at, info.created_at);
  EXPECT_EQ(parsed->bytes, info.bytes);
  EXPECT_EQ(parsed->sha256, info.sha256);
  EXPECT_EQ(parsed->tables, info.tables);
  EXPECT_EQ(parsed->took, info.took);
  for (const std::string bad : {"", "[]", "{}", "{\"format\":2}", "not json",
                                R"({"format":1,"name":"x","dialect":"sqlite","created_at":"yesterday","sha256":"",)"
                                R"("tables":{}})",
                                R"({"format":1,"name":"x","dialect":"sqlite","created_at":"2024-05-10T12:00:00.000Z",)"
                                R"("sha256":"","tables":{"users":"three"}})"}) {
    EXPECT_FALSE(manifest_from_json(bad).has_value()) << bad;
  }
}

TEST(BackupCounts, NameEveryDifference) {
  const TableCounts recorded{{"a", 1}, {"b", 2}, {"c", 3}};
  const TableCounts restored{{"a", 1}, {"b", 5}, {"d", 0}};
  const auto mismatches = compare_counts(recorded, restored);
  ASSERT_EQ(mismatches.size(), 3U);
  EXPECT_EQ(mismatches[0].table, "b");
  EXPECT_EQ(mismatches[1].table, "c");
  EXPECT_FALSE(mismatches[1].restored.has_value());
  EXPECT_EQ(mismatches[2].table, "d");
  EXPECT_FALSE(mismatches[2].recorded.has_value());
  EXPECT_TRUE(compare_counts(recorded, recorded).empty());
}

TEST_F(BackupFiles, CreateWritesTheFileAndItsManifest) {
  int reports = 0;
  const auto info = backups_->create([&](const BackupProgress&) { ++reports; });
  EXPECT_EQ(info.name, "evolveai-sqlite-20240510T120000.123Z.db");
  EXPECT_EQ(reports, 1);
  EXPECT_EQ(info.bytes, std::string("backup bytes").size());
  EXPECT_EQ(info.sha256, file_sha256(info.path));
  const auto listed = backups_->list();
  ASSERT_EQ(listed.size(), 1U);
  EXPECT_TRUE(listed[0].has_manifest);
  EXPECT_EQ(listed[0].tables, (TableCounts{{"users", 2}, {"messages", 7}}));
  EXPECT_EQ(listed[0].created_at, now_);
  // Two backups in the same millisecond get distinct names.
  const auto second = backups_->create();
  EXPECT_NE(second.name, info.name);
  EXPECT_EQ(backups_->list().size(), 2U);
}

TEST_F(BackupFiles, AFailedBackupLeavesNothingBehind) {
  engine_->fail_dump = true;
  EXPECT_THROW(backups_->create(), BackupError);
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir_.path() / "backups"))
    ++files;
  EXPECT_EQ(files, 0U);
}

TEST_F(BackupFiles, ListIsNewestFirstAndFlagsAMissingManifest) {
  backups_->create();
  now_ += 24h;
  const auto newer = backups_->create();
  std::filesystem::remove(newer.path.string() + ".json");
  std::ofstream(dir_.path() / "backups" / "notes.txt") << "not a backup";
  const auto listed = backups_->list();
  ASSERT_EQ(listed.size(), 2U);
  EXPECT_EQ(listed[0].name, newer.name);
  EXPECT_FALSE(listed[0].has_manifest);
  EXPECT_EQ(listed[0].created_at, now_) << "the time comes from the name when the manifest is gone";
  EXPECT_TRUE(listed[1].has_manifest);
  // Without a manifest there is nothing to verify against, and no unforced restore.
  EXPECT_FALSE(backups_->verify(newer.name).ok());
  EXPECT_THROW(backups_->restore(newer.name, false), BackupError);
  EXPECT_EQ(backups_->find("latest").name, newer.name);
}

TEST_F(BackupFiles, FindRejectsNamesThatAreNotBackups) {
  EXPECT_THROW(backups_->find("../../etc/passwd"), BackupError);
  EXPECT_THROW(backups_->find("evolveai-sqlite-20240510T120000.123Z.db"), BackupError);  // no such file
  EXPECT_THROW(backups_->find("latest"), BackupError);                                   // none at all
}

TEST_F(BackupFiles, PruneDeletesBackupsOlderThanTheRetentionButKeepsTheNewest) {
  std::vector<std::string> names;
  for (int day = 0; day < 10; ++day) {
    names.push_back(backups_->create().name);
    now_ += 24h;
  }
  // now_ is day 10 at noon; 7 days' retention keeps the backups of days 3..9.
  const auto deleted = backups_->prune(std::chrono::days(7));
  ASSERT_EQ(deleted.size(), 3U);
  const auto listed = backups_->list();
  ASSERT_EQ(listed.size(), 7U);
  EXPECT_EQ(listed.back().name, names[3]);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_FALSE(std::filesystem::exists(dir_.path() / "backups" / names[i]));
    EXPECT_FALSE(std::filesystem::exists(dir_.path() / "backups" / (names[i] + ".json")));
  }
  // Long after the last backup, the newest one still survives.
  now_ += std::chrono::days(365);
  EXPECT_EQ(backups_->prune(std::chrono::days(7)).size(), 6U);
  ASSERT_EQ(backups_->list().size(), 1U);
  EXPECT_EQ(backups_->list()[0].name, names[9]);
}

TEST(PgTarget, ThePasswordReachesToolsOnlyThroughTheEnvironment) {
  const auto target = PgTarget::parse("postgresql://bob:s3cr%27et@db.example:5433/evo?sslmode=require");
  EXPECT_EQ(target.password, "s3cr'et");
  EXPECT_EQ(target.dbname(), "evo");
  const auto dump = pg_dump_command("/usr/bin/pg_dump", target, "00000003-1", "/tmp/out.dump");
  const auto restore = pg_restore_command("/usr/bin/pg_restore", target, "scratch", "/tmp/out.dump", true);
  for (const auto* command : {&dump, &restore}) {
    for (const auto& arg : command->args)
      EXPECT_EQ(arg.find("s3cr"), std::string::npos) << arg;
    ASSERT_EQ(command->env.size(), 1U);
    EXPECT_EQ(command->env[0].first, "PGPASSWORD");
    EXPECT_EQ(command->env[0].second, "s3cr'et");
  }
  const auto dbname_arg =
      std::find_if(dump.args.begin(), dump.args.end(), [](const std::string& a) { return a.starts_with("--dbname="); });
  ASSERT_NE(dbname_arg, dump.args.end());
  EXPECT_NE(dbname_arg->find("host='db.example'"), std::string::npos) << *dbname_arg;
  EXPECT_NE(dbname_arg->find("port='5433'"), std::string::npos);
  EXPECT_NE(dbname_arg->find("user='bob'"), std::string::npos);
  EXPECT_NE(dbname_arg->find("dbname='evo'"), std::string::npos);
  EXPECT_NE(dbname_arg->find("sslmode='require'"), std::string::npos);
  EXPECT_NE(std::find(restore.args.begin(), restore.args.end(), "--dbname=" + target.conninfo("scratch")),
            restore.args.end());
  EXPECT_NE(target.conninfo("scratch").find("dbname='scratch'"), std::string::npos);
  EXPECT_THROW(PgTarget::parse("postgresql://[broken"), BackupError);
}

TEST(ChildProcess, PassesTheEnvironmentAndCapturesStandardError) {
  backup_process::ChildCommand command{
      "/bin/sh", {"-c", "echo \"secret=$PGPASSWORD\" >&2; echo second >&2; exit 3"}, {{"PGPASSWORD", "from-env"}}};
  std::vector<std::string> lines;
  int ticks = 0;
  const auto result = backup_process::run_child(
      command, [&](std::string_view line) { lines.emplace_back(line); }, [&] { ++ticks; }, {});
  EXPECT_EQ(result.exit_code, 3);
  EXPECT_FALSE(result.cancelled);
  EXPECT_EQ(lines, (std::vector<std::string>{"secret=from-env", "second"}));
  EXPECT_NE(result.stderr_tail.find("second"), std::string::npos);
  EXPECT_GE(ticks, 1);
}

TEST(ChildProcess, AStopRequestEndsTheChild) {
  std::stop_source stop;
  std::thread stopper([&] {
    std::this_thread::sleep_for(100ms);
    stop.request_stop();
  });
  const auto started = std::chrono::steady_clock::now();
  const auto result =
      backup_process::run_child(backup_process::ChildCommand{"/bin/sleep", {"30"}, {}}, {}, {}, stop.get_token());
  stopper.join();
  EXPECT_TRUE(result.cancelled);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
}

TEST(ChildProcess, AMissingProgramIsAnError) {
  EXPECT_THROW(backup_process::run_child(backup_process::ChildCommand{"/nonexistent/pg_dump", {}, {}}, {}, {}, {}),
               std::runtime_error);
  EXPECT_TRUE(backup_process::find_program("pg_dump", "/nonexistent").empty());
}

}  // namespace
}  // namespace evolveai::storage
