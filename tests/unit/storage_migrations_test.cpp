#include "storage/migrations.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

namespace evolveai::storage {
namespace {

TEST(Migrations, EmbeddedFilesOfBothDialectsParse) {
  const auto sqlite = migrations_for("sqlite");
  const auto postgres = migrations_for("postgres");
  ASSERT_FALSE(sqlite.empty());
  ASSERT_FALSE(postgres.empty());
  EXPECT_EQ(sqlite.front().version, 1);
  EXPECT_EQ(sqlite.front().name, "0001_initial.sql");
  EXPECT_EQ(sqlite.front().checksum.size(), 64U);
  // the dialects evolve in step
  ASSERT_EQ(sqlite.size(), postgres.size());
  for (std::size_t i = 0; i < sqlite.size(); ++i)
    EXPECT_EQ(sqlite[i].version, postgres[i].version);
}

TEST(Migrations, MisnamedOrDuplicateFilesAreRejected) {
  EXPECT_THROW((void)make_migrations({{"init.sql", "x"}}, "sqlite"), MigrationError);
  EXPECT_THROW((void)make_migrations({{"0001_a.sql", "x"}, {"1_b.sql", "y"}}, "sqlite"), MigrationError);
  const auto ok = make_migrations({{"0002_b.sql", "y"}, {"0001_a.sql", "x"}}, "sqlite");
  EXPECT_EQ(ok[0].name, "0001_a.sql");
}

TEST(Migrations, CompareFindsPendingChangedAndUnknown) {
  const auto known = make_migrations({{"0001_a.sql", "x"}, {"0002_b.sql", "y"}, {"0003_c.sql", "z"}}, "sqlite");
  const std::vector<AppliedMigration> applied{
      {1, "0001_a.sql", known[0].checksum, {}}, {2, "0002_b.sql", "tampered", {}}, {9, "0009_new.sql", "q", {}}};
  const auto states = compare_migrations(known, applied);
  ASSERT_EQ(states.size(), 4U);
  EXPECT_EQ(states[0].state, MigrationState::kApplied);
  EXPECT_EQ(states[1].state, MigrationState::kChanged);
  EXPECT_EQ(states[2].state, MigrationState::kPending);
  EXPECT_EQ(states[3].state, MigrationState::kUnknown);
}

/// A driver over an in-memory list, recording calls.
class FakeDriver final : public MigrationDriver {
 public:
  std::vector<AppliedMigration> rows;
  int locks = 0;
  int unlocks = 0;
  Task<void> lock() override {
    ++locks;
    co_return;
  }
  Task<void> unlock() override {
    ++unlocks;
    co_return;
  }
  Task<std::vector<AppliedMigration>> applied() override { co_return rows; }
  Task<bool> apply(const Migration& m, Time now) override {
    rows.push_back({m.version, m.name, m.checksum, now});
    co_return true;
  }
};

template <typename T>
T run(Task<T> task) {
  boost::asio::io_context io;
  auto f = boost::asio::co_spawn(io, std::move(task), boost::asio::use_future);
  io.run();
  return f.get();
}

TEST(Migrator, AppliesPendingInOrderAndUnlocks) {
  FakeDriver driver;
  Migrator migrator(driver, "sqlite", make_migrations({{"0002_b.sql", "y"}, {"0001_a.sql", "x"}}, "sqlite"),
                    [] { return Time{}; });
  const auto applied = run(migrator.up());
  ASSERT_EQ(applied.size(), 2U);
  EXPECT_EQ(applied[0].name, "0001_a.sql");
  EXPECT_EQ(driver.locks, 1);
  EXPECT_EQ(driver.unlocks, 1);
  EXPECT_TRUE(run(migrator.up()).empty());
}

TEST(Migrator, ChangedAppliedFileStopsWithItsName) {
  FakeDriver driver;
  driver.rows.push_back({1, "0001_a.sql", "other", {}});
  Migrator migrator(driver, "postgres", make_migrations({{"0001_a.sql", "x"}, {"0002_b.sql", "y"}}, "postgres"),
                    [] { return Time{}; });
  try {
    (void)run(migrator.up());
    FAIL() << "expected MigrationError";
  } catch (const MigrationError& e) {
    EXPECT_NE(std::string(e.what()).find("postgres/0001_a.sql"), std::string::npos) << e.what();
  }
  EXPECT_EQ(driver.rows.size(), 1U);  // nothing applied after the tamper
  EXPECT_EQ(driver.unlocks, 1);
}

}  // namespace
}  // namespace evolveai::storage
