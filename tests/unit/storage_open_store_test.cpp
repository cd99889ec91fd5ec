#include "storage/open_store.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <filesystem>

namespace evolveai::storage {
namespace {

TEST(OpenStore, RecognisesUrlSchemes) {
  EXPECT_EQ(sqlite_path_from_url("sqlite://./data/evolveai.db"), std::filesystem::path("./data/evolveai.db"));
  EXPECT_EQ(sqlite_path_from_url("sqlite:///var/lib/evolveai.db"), std::filesystem::path("/var/lib/evolveai.db"));
  EXPECT_FALSE(sqlite_path_from_url("sqlite://").has_value());
  EXPECT_FALSE(sqlite_path_from_url("postgresql://h/db").has_value());
  EXPECT_TRUE(is_postgres_url("postgresql://u:p@h:5432/db"));
  EXPECT_TRUE(is_postgres_url("postgres://h/db"));
  EXPECT_FALSE(is_postgres_url("mysql://h/db"));
}

TEST(OpenStore, OpensTheEngineTheUrlNames) {
  boost::asio::io_context io;
  net::BlockingPool blocking(1);
  const auto dir = std::filesystem::temp_directory_path() / ("evolveai-open-" + std::to_string(::getpid()));
  StoreSettings sqlite;
  sqlite.url = "sqlite://" + (dir / "x.db").string();
  EXPECT_EQ(open_store(sqlite, blocking, io.get_executor())->dialect(), "sqlite");
  StoreSettings pg;
  pg.url = "postgresql://nobody@127.0.0.1:1/none";  // connects lazily: nothing happens yet
  EXPECT_EQ(open_store(pg, blocking, io.get_executor())->dialect(), "postgres");
  StoreSettings bad;
  bad.url = "mysql://h/db";
  EXPECT_THROW((void)open_store(bad, blocking, io.get_executor()), std::invalid_argument);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace evolveai::storage
