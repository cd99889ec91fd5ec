#include "support/run_command.hpp"

#include <sys/wait.h>

#include <array>
#include <cstdio>

namespace evolveai::testing {

CommandResult run_evolveai(const std::string& env, const std::string& args, const std::filesystem::path& cwd) {
  const std::string command = "cd '" + cwd.string() + "' && env -i PATH=/usr/bin:/bin " + env + " '" +
                              EVOLVEAI_BINARY_PATH + "' " + args + " 2>&1 </dev/null";
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
  return result;
}

}  // namespace evolveai::testing
