#include "storage/backup_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <deque>
#include <stdexcept>
#include <system_error>

extern char** environ;  // NOLINT: the environment handed on to child processes

namespace evolveai::storage::backup_process {
namespace {

constexpr std::size_t kTailLines = 40;
constexpr int kTickMillis = 200;
/// PostgreSQL 15's programs on Debian; the server version the project targets.
constexpr std::string_view kPostgres15Bin = "/usr/lib/postgresql/15/bin";

bool executable(const std::filesystem::path& path) {
  return !path.empty() && ::access(path.c_str(), X_OK) == 0 && std::filesystem::is_regular_file(path);
}

/// This process' environment with `overrides` set on top.
std::vector<std::string> child_environment(const std::vector<std::pair<std::string, std::string>>& overrides) {
  std::vector<std::string> out;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    const auto eq = text.find('=');
    const auto key = text.substr(0, eq);
    bool replaced = false;
    for (const auto& [name, value] : overrides)
      replaced = replaced || key == name;
    if (!replaced)
      out.emplace_back(text);
  }
  for (const auto& [name, value] : overrides)
    out.push_back(name + "=" + value);
  return out;
}

/// Closes a file descriptor when it goes out of scope.
class Fd {
 public:
  explicit Fd(int fd = -1) noexcept : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  void reset() noexcept {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = -1;
  }
  [[nodiscard]] int get() const noexcept { return fd_; }

 private:
  int fd_;
};

}  // namespace

std::filesystem::path find_program(std::string_view name, const std::filesystem::path& dir) {
  if (!dir.empty()) {
    auto candidate = dir / name;
    return executable(candidate) ? candidate : std::filesystem::path();
  }
  if (auto candidate = std::filesystem::path(kPostgres15Bin) / name; executable(candidate))
    return candidate;
  const char* path = std::getenv("PATH");  // NOLINT(concurrency-mt-unsafe): nothing here sets variables
  std::string_view rest = path != nullptr ? path : "/usr/bin:/bin";
  while (!rest.empty()) {
    const auto colon = rest.find(':');
    const auto entry = rest.substr(0, colon);
    if (!entry.empty()) {
      if (auto candidate = std::filesystem::path(entry) / name; executable(candidate))
        return candidate;
    }
    if (colon == std::string_view::npos)
      break;
    rest.remove_prefix(colon + 1);
  }
  return {};
}

ChildResult run_child(const ChildCommand& command, const std::function<void(std::string_view line)>& on_line,
                      const std::function<void()>& on_tick, const std::stop_token& stop) {
  std::array<int, 2> pipe_fds{-1, -1};
  if (::pipe2(pipe_fds.data(), O_CLOEXEC) != 0) {
    throw std::runtime_error("cannot create a pipe: " + std::generic_category().message(errno));
  }
  Fd read_end(pipe_fds[0]);
  Fd write_end(pipe_fds[1]);

  std::vector<std::string> argv_text;
  argv_text.push_back(command.program.string());
  argv_text.insert(argv_text.end(), command.args.begin(), command.args.end());
  std::vector<char*> argv;
  for (auto& arg : argv_text)
    argv.push_back(arg.data());
  argv.push_back(nullptr);
  auto env_text = child_environment(command.env);
  std::vector<char*> envp;
  for (auto& entry : env_text)
    envp.push_back(entry.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, write_end.get(), STDERR_FILENO);
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, argv_text.front().c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    throw std::runtime_error("cannot start " + command.program.string() + ": " + std::generic_category().message(rc));
  }
  write_end.reset();

  ChildResult result;
  std::deque<std::string> tail;
  std::string partial;
  const auto emit = [&](std::string line) {
    if (on_line)
      on_line(line);
    tail.push_back(std::move(line));
    if (tail.size() > kTailLines)
      tail.pop_front();
  };
  bool signalled = false;
  std::array<char, 4096> buffer{};
  for (;;) {
    if (stop.stop_requested() && !signalled) {
      ::kill(pid, SIGTERM);
      signalled = true;
      result.cancelled = true;
    }
    pollfd watched{read_end.get(), POLLIN, 0};
    const int ready = ::poll(&watched, 1, kTickMillis);
    if (ready < 0 && errno != EINTR)
      break;
    if (ready > 0) {
      const auto n = ::read(read_end.get(), buffer.data(), buffer.size());
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;  // EOF: the child (and anything it started) closed stderr
      partial.append(buffer.data(), static_cast<std::size_t>(n));
      for (auto newline = partial.find('\n'); newline != std::string::npos; newline = partial.find('\n')) {
        emit(partial.substr(0, newline));
        partial.erase(0, newline + 1);
      }
    }
    if (on_tick)
      on_tick();
  }
  if (!partial.empty())
    emit(partial);
  if (on_tick)
    on_tick();  // the final state (e.g. the finished file's size)

  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  for (const auto& line : tail) {
    result.stderr_tail += line;
    result.stderr_tail += '\n';
  }
  return result;
}

}  // namespace evolveai::storage::backup_process
