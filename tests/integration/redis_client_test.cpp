#include "net/redis_client.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>

#include <algorithm>
#include <chrono>
#include <future>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "net/deadline.hpp"
#include "obs/logger.hpp"
#include "support/redis_process.hpp"

namespace evolveai::net {
namespace {

using namespace std::chrono_literals;
using Type = RedisReply::Type;

/// The RedisError `call` throws, or nullopt when it returns.
template <typename Call>
std::optional<RedisError> error_of(Call call) {
  try {
    call();
  } catch (const RedisError& e) {
    return e.clone();
  }
  return std::nullopt;
}

class RedisClientTest : public testing::SharedRedisTest {
 protected:
  RedisClientOptions options(std::size_t pool_size = 2, std::chrono::milliseconds command_timeout = 2s) const {
    RedisClientOptions result;
    result.url = redis_url();
    result.pool_size = pool_size;
    result.command_timeout = command_timeout;
    return result;
  }
  std::string key(std::string_view name) const { return unique_prefix() + std::string(name); }

  std::ostringstream log_;
  obs::Logger logger_{obs::LogLevel::kInfo, obs::Logger::Format::kJson, log_};
  testing::IoThreads io_{2};
};

TEST_F(RedisClientTest, StoresAndReadsBinaryValues) {
  RedisClient client(io_.executor(), options(), logger_);
  const std::string value("line\r\nwith\0nul\xff", 15);
  EXPECT_EQ(io_.run(client.command({"SET", key("bin"), value})).text, "OK");
  EXPECT_EQ(io_.run(client.command({"GET", key("bin")})).as_optional_string(), value);
  EXPECT_EQ(io_.run(client.command({"DEL", key("bin")})).as_integer(), 1);
  EXPECT_TRUE(io_.run(client.command({"GET", key("bin")})).is_nil());
}

TEST_F(RedisClientTest, PipelineReturnsRepliesInOrderWithErrorsInPlace) {
  RedisClient client(io_.executor(), options(), logger_);
  const auto replies = io_.run(client.pipeline({{"SET", key("n"), "1"},
                                                {"INCR", key("n")},
                                                {"HGET", key("n"), "field"},
                                                {"GET", key("n")},
                                                {"GET", key("missing")},
                                                {"DEL", key("n")}}));
  ASSERT_EQ(replies.size(), 6U);
  EXPECT_EQ(replies[0].type, Type::kStatus);
  EXPECT_EQ(replies[1].as_integer(), 2);
  EXPECT_TRUE(replies[2].is_error());
  EXPECT_EQ(replies[2].text.rfind("WRONGTYPE", 0), 0U);
  EXPECT_EQ(replies[3].as_optional_string(), "2");
  EXPECT_TRUE(replies[4].is_nil());
  EXPECT_EQ(replies[5].as_integer(), 1);
}

TEST_F(RedisClientTest, ServerErrorsAreTypedAndTheConnectionStaysUsable) {
  RedisClient client(io_.executor(), options(1), logger_);
  try {
    io_.run(client.command({"NO_SUCH_COMMAND"}));
    FAIL() << "expected an error reply";
  } catch (const RedisError& e) {
    EXPECT_EQ(e.kind(), RedisErrorKind::kServer);
    EXPECT_EQ(e.server_code(), "ERR");
    EXPECT_FALSE(is_redis_unavailable(e));
  }
  EXPECT_EQ(io_.run(client.command({"PING"})).text, "PONG");
  EXPECT_EQ(client.open_connections(), 1U);
}

/// Many callers at once; each checks that the replies it gets are its own.
void hammer(testing::IoThreads& io, RedisClient& client, const std::string& counter, int callers,
            std::vector<std::int64_t>* client_ids) {
  std::vector<std::future<std::int64_t>> done;
  for (int i = 0; i < callers; ++i) {
    auto caller = [](RedisClient& c, std::string counter_key, int id) -> Task<std::int64_t> {
      // Commands are built outside co_await expressions (GCC 12 mishandles braced lists there).
      const std::string me = "caller-" + std::to_string(id);
      RedisCommand echo_command{"ECHO", me};
      std::vector<RedisCommand> batch{{"ECHO", me + "-a"}, {"INCR", counter_key}, {"ECHO", me + "-b"}};
      RedisCommand id_command{"CLIENT", "ID"};
      const auto echo = co_await c.command(std::move(echo_command));
      EXPECT_EQ(echo.text, me);
      const auto replies = co_await c.pipeline(std::move(batch));
      EXPECT_EQ(replies.at(0).text, me + "-a");
      EXPECT_EQ(replies.at(1).type, Type::kInteger);
      EXPECT_EQ(replies.at(2).text, me + "-b");
      const auto client_id = co_await c.command(std::move(id_command));
      co_return client_id.as_integer();
    };
    done.push_back(boost::asio::co_spawn(io.io(), caller(client, counter, i), boost::asio::use_future));
  }
  for (auto& future : done)
    client_ids->push_back(future.get());
}

TEST_F(RedisClientTest, ConcurrentCallersOnOneConnectionEachGetTheirOwnReplies) {
  RedisClient client(io_.executor(), options(1), logger_);
  std::vector<std::int64_t> ids;
  hammer(io_, client, key("counter"), 300, &ids);
  EXPECT_EQ(io_.run(client.command({"GET", key("counter")})).as_optional_string(), "300");
  ASSERT_EQ(ids.size(), 300U);
  for (const auto id : ids)
    EXPECT_EQ(id, ids.front()) << "pool_size 1 must use one connection";
  io_.run(client.command({"DEL", key("counter")}));
}

TEST_F(RedisClientTest, ConcurrentCallersAcrossAPoolEachGetTheirOwnReplies) {
  RedisClient client(io_.executor(), options(3), logger_);
  std::vector<std::int64_t> ids;
  hammer(io_, client, key("counter"), 300, &ids);
  EXPECT_EQ(io_.run(client.command({"GET", key("counter")})).as_optional_string(), "300");
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  EXPECT_EQ(ids.size(), 3U);
  EXPECT_EQ(client.open_connections(), 3U);
  io_.run(client.command({"DEL", key("counter")}));
}

TEST_F(RedisClientTest, ACommandPastItsTimeoutFailsAndTheNextCallReconnects) {
  RedisClient client(io_.executor(), options(1, 300ms), logger_);
  EXPECT_EQ(io_.run(client.command({"PING"})).text, "PONG");
  const auto started = std::chrono::steady_clock::now();
  const auto failure = error_of([&] { io_.run(client.command({"BLPOP", key("never"), "5"})); });  // blocks 5 s
  const auto waited = std::chrono::steady_clock::now() - started;
  ASSERT_TRUE(failure.has_value()) << "expected a timeout";
  EXPECT_EQ(failure->kind(), RedisErrorKind::kTimeout);
  EXPECT_TRUE(is_redis_unavailable(*failure));
  EXPECT_GE(waited, 300ms);
  EXPECT_LT(waited, 2s);
  EXPECT_EQ(io_.run(client.command({"PING"})).text, "PONG");
}

TEST_F(RedisClientTest, ACancelledCallerDoesNotShiftOtherCallersReplies) {
  RedisClient client(io_.executor(), options(1, 5s), logger_);
  EXPECT_EQ(io_.run(client.command({"PING"})).text, "PONG");
  // The caller gives up after 100 ms; its BLPOP reply (nil, after 1 s) must be dropped,
  // not handed to the next caller on the same connection.
  const auto gave_up = io_.run(with_timeout(client.command({"BLPOP", key("never"), "1"}), 100ms));
  EXPECT_FALSE(gave_up.has_value());
  EXPECT_EQ(io_.run(client.command({"ECHO", "after"})).text, "after");
  EXPECT_EQ(client.open_connections(), 1U);
}

TEST_F(RedisClientTest, SelectsTheDatabaseNamedInTheUrl) {
  auto db5 = options();
  db5.url = redis_url(5);
  RedisClient in_db5(io_.executor(), db5, logger_);
  RedisClient in_db0(io_.executor(), options(), logger_);
  io_.run(in_db5.command({"SET", key("where"), "five"}));
  EXPECT_TRUE(io_.run(in_db0.command({"GET", key("where")})).is_nil());
  EXPECT_EQ(io_.run(in_db5.command({"GET", key("where")})).as_optional_string(), "five");
  io_.run(in_db5.command({"DEL", key("where")}));
}

TEST_F(RedisClientTest, ARefusedLoginIsAConnectErrorThatNamesNoPassword) {
  auto with_password = options();
  const auto url = redis_url();
  with_password.url = "redis://:s3cr3t-value@" + url.substr(std::string("redis://").size());
  RedisClient client(io_.executor(), with_password, logger_);
  try {
    io_.run(client.command({"PING"}));
    FAIL() << "the test server has no password; AUTH must fail";
  } catch (const RedisError& e) {
    EXPECT_EQ(e.kind(), RedisErrorKind::kConnect);
    EXPECT_FALSE(e.server_code().empty());
    EXPECT_EQ(std::string(e.what()).find("s3cr3t-value"), std::string::npos);
  }
  logger_.flush();
  EXPECT_EQ(log_.str().find("s3cr3t-value"), std::string::npos);
  EXPECT_EQ(log_.str().find("redis_connect_retry"), std::string::npos) << "a refused login is not retried";
}

TEST_F(RedisClientTest, AnUnreachableServerIsAConnectErrorAfterRetries) {
  auto closed = options();
  closed.url = "redis://127.0.0.1:" + std::to_string(testing::free_port()) + "/0";
  closed.reconnect = RetrySettings{3, 10ms, 20ms};
  RedisClient client(io_.executor(), closed, logger_);
  try {
    io_.run(client.command({"PING"}));
    FAIL() << "nothing listens there";
  } catch (const RedisError& e) {
    EXPECT_EQ(e.kind(), RedisErrorKind::kConnect);
    EXPECT_TRUE(is_redis_unavailable(e));
  }
  logger_.flush();
  std::size_t retries = 0;
  for (auto at = log_.str().find("redis_connect_retry"); at != std::string::npos;
       at = log_.str().find("redis_connect_retry", at + 1)) {
    ++retries;
  }
  EXPECT_EQ(retries, 2U);
}

}  // namespace
}  // namespace evolveai::net
