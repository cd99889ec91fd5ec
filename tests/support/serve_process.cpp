#include "support/serve_process.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "support/http_test_client.hpp"
#include "support/redis_process.hpp"

namespace evolveai::testing {
namespace {

using namespace std::chrono_literals;

/// How often a waiting test looks again.
constexpr auto kPollInterval = 50ms;
/// Attempts to find a port nobody took between free_port() and the child's bind.
constexpr int kPortAttempts = 3;

/// The sanitizers' settings of this process, passed on so that the child reports the same way.
std::vector<std::string> inherited_sanitizer_options() {
  std::vector<std::string> env;
  for (const char* name : {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"}) {
    // NOLINTNEXTLINE(concurrency-mt-unsafe): read-only, nothing sets the environment meanwhile
    if (const char* value = std::getenv(name); value != nullptr) {
      env.push_back(std::string(name) + "=" + value);
    }
  }
  return env;
}

}  // namespace

ServeProcess::ServeProcess(std::vector<std::string> env, std::filesystem::path dir)
    : env_(std::move(env)), dir_(std::move(dir)), log_path_(dir_ / "serve.log") {
  std::filesystem::create_directories(dir_);
  spawn();
}

ServeProcess::~ServeProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    reap(true);
  }
}

void ServeProcess::spawn() {
  port_ = free_port();
  // Everything the child needs is built before fork(): after it only exec-safe calls run.
  std::vector<std::string> env{"PATH=/usr/bin:/bin"};
  for (auto& option : inherited_sanitizer_options()) {
    env.push_back(std::move(option));
  }
  env.emplace_back("EVOLVEAI_SERVER__HOST=127.0.0.1");
  env.push_back("EVOLVEAI_SERVER__PORT=" + std::to_string(port_));
  env.push_back("EVOLVEAI_SERVER__DATA_DIR=" + dir_.string());
  env.insert(env.end(), env_.begin(), env_.end());
  std::vector<char*> envp;
  envp.reserve(env.size() + 1);
  for (auto& entry : env) {
    envp.push_back(entry.data());
  }
  envp.push_back(nullptr);
  std::string binary = EVOLVEAI_BINARY_PATH;
  std::string command = "serve";
  std::vector<char*> argv{binary.data(), command.data(), nullptr};
  const std::string log = log_path_.string();
  const std::string cwd = dir_.string();

  const pid_t child = ::fork();
  if (child < 0) {
    throw std::runtime_error("fork() failed");
  }
  if (child == 0) {
    const int fd =
        ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);  // NOLINT(cppcoreguidelines-pro-type-vararg)
    if (fd < 0 || ::dup2(fd, STDOUT_FILENO) < 0 || ::dup2(fd, STDERR_FILENO) < 0 || ::chdir(cwd.c_str()) != 0) {
      ::_exit(126);
    }
    ::execve(binary.c_str(), argv.data(), envp.data());
    ::_exit(127);
  }
  pid_ = child;
  exit_status_ = -1;
}

bool ServeProcess::reap(bool block) {
  if (pid_ <= 0) {
    return true;
  }
  int status = 0;
  const pid_t done = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
  if (done != pid_) {
    return false;
  }
  exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  pid_ = -1;
  return true;
}

bool ServeProcess::wait_ready(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int attempts = 1;
  while (std::chrono::steady_clock::now() < deadline) {
    if (reap(false)) {
      if (attempts < kPortAttempts && output().find("cannot listen") != std::string::npos) {
        ++attempts;
        spawn();
        continue;
      }
      return false;
    }
    try {
      const auto reply = http_request(port_, "GET", "/readyz");
      if (reply && reply->status == 200) {
        return true;
      }
    } catch (const std::runtime_error&) {  // not listening yet
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  return false;
}

void ServeProcess::terminate() const {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
  }
}

std::optional<int> ServeProcess::wait_exit(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!reap(false)) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return std::nullopt;
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  return exit_status_;
}

std::string ServeProcess::output() const {
  std::ifstream file(log_path_, std::ios::binary);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

}  // namespace evolveai::testing
