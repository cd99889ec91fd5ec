// A writer process killed with SIGKILL in the middle of its work leaves a sound SQLite
// file in which every insert it saw committed is present.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <filesystem>
#include <set>

#include "net/blocking_pool.hpp"
#include "storage/sqlite/sqlite_store.hpp"

namespace evolveai::storage::sqlite {
namespace {

template <typename T>
T run(boost::asio::io_context& io, Task<T> task) {
  auto future = boost::asio::co_spawn(io, std::move(task), boost::asio::use_future);
  io.restart();
  io.run();
  return future.get();
}

/// The child: inserts messages forever, reporting each committed id on `fd`.
[[noreturn]] void write_until_killed(const std::filesystem::path& path, UserId user, int fd) {
  boost::asio::io_context io;
  net::BlockingPool pool(2);
  SqliteStore store(SqliteStoreOptions{path, 2, std::chrono::milliseconds(5000), {}, {}}, pool);
  boost::asio::co_spawn(
      io,
      [&]() -> Task<void> {
        for (int i = 0;; ++i) {
          NewMessage m;
          m.user_id = user;
          m.content = "crash test message " + std::to_string(i);
          const auto inserted = co_await store.insert_message(m);
          const MessageId id = inserted.message.id;
          if (::write(fd, &id, sizeof id) != static_cast<ssize_t>(sizeof id))
            ::_exit(3);
        }
      },
      boost::asio::detached);
  io.run();
  ::_exit(0);
}

TEST(SqliteCrash, KilledWriterLosesNoCommittedRow) {
  std::string pattern = (std::filesystem::temp_directory_path() / "evolveai-crash-XXXXXX").string();
  ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
  const std::filesystem::path dir = pattern;
  const auto path = dir / "evolveai.db";
  UserId user = 0;
  {
    boost::asio::io_context io;
    net::BlockingPool pool(2);
    SqliteStore store(SqliteStoreOptions{path, 1, std::chrono::milliseconds(5000), {}, {}}, pool);
    run(io, store.migrate_up());
    user = run(io, store.upsert_user(TelegramIdentity{1, "Crash", std::nullopt, std::nullopt, std::nullopt})).id;
  }

  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(fds[0]);
    write_until_killed(path, user, fds[1]);
  }
  ::close(fds[1]);
  std::set<MessageId> committed;
  MessageId id = 0;
  while (committed.size() < 300 && ::read(fds[0], &id, sizeof id) == static_cast<ssize_t>(sizeof id)) {
    committed.insert(id);
  }
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status));
  while (::read(fds[0], &id, sizeof id) == static_cast<ssize_t>(sizeof id))
    committed.insert(id);
  ::close(fds[0]);
  ASSERT_GE(committed.size(), 300U);

  {
    boost::asio::io_context io;
    net::BlockingPool pool(2);
    SqliteStore store(SqliteStoreOptions{path, 1, std::chrono::milliseconds(5000), {}, {}}, pool);
    EXPECT_EQ(run(io, store.integrity_check()), "");
    const auto exported = run(io, store.export_user_data(user));
    ASSERT_TRUE(exported.has_value());
    std::set<MessageId> present;
    for (const auto& m : exported->messages)
      present.insert(m.id);
    for (MessageId c : committed)
      EXPECT_TRUE(present.contains(c)) << "committed message " << c << " is missing";
    // the search index survived too
    EXPECT_FALSE(run(io, store.search_messages(user, "crash", 5)).empty());
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace evolveai::storage::sqlite
