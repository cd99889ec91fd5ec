#include "support/redis_process.hpp"

#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <stdexcept>
#include <string_view>
#include <system_error>

extern char** environ;

namespace evolveai::testing {

namespace {

bool on_path(const std::string& program) {
  const char* path = std::getenv("PATH");  // NOLINT(concurrency-mt-unsafe): nothing in the tests sets variables
  if (path == nullptr)
    return false;
  std::string_view rest(path);
  while (!rest.empty()) {
    const auto colon = rest.find(':');
    const auto dir = rest.substr(0, colon);
    std::error_code ec;
    if (!dir.empty() && std::filesystem::exists(std::filesystem::path(dir) / program, ec))
      return true;
    if (colon == std::string_view::npos)
      break;
    rest.remove_prefix(colon + 1);
  }
  return false;
}

}  // namespace

std::optional<std::string> test_redis_url() {
  const char* url = std::getenv("EVOLVEAI_TEST_REDIS_URL");  // NOLINT(concurrency-mt-unsafe): read-only in tests
  if (url == nullptr || *url == '\0')
    return std::nullopt;
  return std::string(url);
}

std::optional<std::string> redis_unavailable_reason() {
  if (test_redis_url())
    return std::nullopt;
  return "EVOLVEAI_TEST_REDIS_URL is not set; run the tests under scripts/with-test-services to get a Redis server";
}

std::optional<std::string> redis_server_unavailable_reason() {
  if (on_path("redis-server"))
    return std::nullopt;
  return "redis-server is not on PATH; install it (scripts/setup-deps)";
}

bool services_required() {
  const char* value = std::getenv("EVOLVEAI_REQUIRE_SERVICES");  // NOLINT(concurrency-mt-unsafe): read-only in tests
  return value != nullptr && std::string_view(value) == "1";
}

std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    throw std::runtime_error("socket() failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    ::close(fd);
    throw std::runtime_error("cannot find a free port");
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

RedisProcess::RedisProcess() : port_(free_port()) {
  start();
}

RedisProcess::~RedisProcess() {
  if (pid_ > 0) {
    thaw();
    kill();
  }
}

std::string RedisProcess::url(int db) const {
  return "redis://127.0.0.1:" + std::to_string(port_) + "/" + std::to_string(db);
}

void RedisProcess::start() {
  if (pid_ > 0)
    return;
  const std::string port = std::to_string(port_);
  std::vector<std::string> args = {"redis-server", "--port",     port,           "--bind", "127.0.0.1",
                                   "--save",       "",           "--appendonly", "no",     "--daemonize",
                                   "no",           "--loglevel", "warning",      "--dir",  "/tmp"};
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (auto& arg : args)
    argv.push_back(arg.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, "redis-server", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0)
    throw std::runtime_error("cannot start redis-server: " + std::generic_category().message(rc));
  pid_ = pid;

  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < give_up) {
    if (answers_ping())
      return;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("redis-server exited at start (port " + port + " taken?)");
    }
    ::usleep(20 * 1000);
  }
  kill();
  throw std::runtime_error("redis-server did not answer PING within 10 s");
}

void RedisProcess::kill() {
  if (pid_ <= 0)
    return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

void RedisProcess::freeze() {
  if (pid_ > 0)
    ::kill(pid_, SIGSTOP);
}

void RedisProcess::thaw() {
  if (pid_ > 0)
    ::kill(pid_, SIGCONT);
}

bool RedisProcess::answers_ping(int timeout_ms) const {
  const timeval timeout{timeout_ms / 1000, static_cast<suseconds_t>(timeout_ms % 1000) * 1000};
  redisContext* context = redisConnectWithTimeout("127.0.0.1", port_, timeout);
  if (context == nullptr)
    return false;
  bool ok = false;
  if (context->err == 0 && redisSetTimeout(context, timeout) == REDIS_OK) {
    auto* reply = static_cast<redisReply*>(redisCommand(context, "PING"));
    ok = reply != nullptr && reply->type == REDIS_REPLY_STATUS && std::string_view(reply->str, reply->len) == "PONG";
    if (reply != nullptr)
      freeReplyObject(reply);
  }
  redisFree(context);
  return ok;
}

void SharedRedisTest::SetUp() {
  if (const auto reason = redis_unavailable_reason()) {
    if (services_required()) {
      FAIL() << *reason << " (EVOLVEAI_REQUIRE_SERVICES=1)";
    }
    GTEST_SKIP() << *reason;
  }
  url_ = *test_redis_url();
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  // A random part too, so that --gtest_repeat starts every repetition from clean keys.
  prefix_ = "evolveai-test:" + std::to_string(::getpid()) + ":" + std::to_string(std::random_device{}()) + ":" +
            info->test_suite_name() + "." + info->name() + ":";
}

std::string SharedRedisTest::redis_url(int db) const {
  auto slash = url_.rfind('/');
  if (slash == std::string::npos || slash < url_.find("//") + 2)
    slash = url_.size();
  return url_.substr(0, slash) + "/" + std::to_string(db);
}

void PrivateRedisTest::SetUp() {
  if (const auto reason = redis_server_unavailable_reason()) {
    if (services_required()) {
      FAIL() << *reason << " (EVOLVEAI_REQUIRE_SERVICES=1)";
    }
    GTEST_SKIP() << *reason;
  }
  redis_ = std::make_unique<RedisProcess>();
}

IoThreads::IoThreads(std::size_t threads) : work_(io_.get_executor()) {
  for (std::size_t i = 0; i < threads; ++i)
    threads_.emplace_back([this] { io_.run(); });
}

IoThreads::~IoThreads() {
  work_.reset();
  io_.stop();
  for (auto& thread : threads_)
    thread.join();
}

}  // namespace evolveai::testing
