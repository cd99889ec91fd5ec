#include "support/run_command.hpp"

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>

namespace evolveai::testing {

CommandResult run_evolveai(const std::string& env, const std::string& args, const std::filesystem::path& cwd,
                           const std::string& input) {
  std::string stdin_path = "/dev/null";
  if (!input.empty()) {
    stdin_path = (cwd / ".evolveai-test-stdin").string();
    std::ofstream(stdin_path, std::ios::binary | std::ios::trunc) << input;
  }
  const std::string command = "cd '" + cwd.string() + "' && env -i PATH=/usr/bin:/bin " + env + " '" +
                              EVOLVEAI_BINARY_PATH + "' " + args + " 2>&1 <'" + stdin_path + "'";
  CommandResult result;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) {
    return result;
  }
  std::array<char, 4096> buffer{};
  while (const auto n = std::fread(buffer.data(), 1, buffer.size(), pipe)) {
    result.output.append(buffer.data(), n);
  }
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (!input.empty()) {
    std::filesystem::remove(stdin_path);
  }
  return result;
}

}  // namespace evolveai::testing
