#pragma once

#include <filesystem>
#include <string>

namespace evolveai::testing {

/// What a finished command printed and how it exited.
struct CommandResult {
  int exit_code = -1;  ///< -1 when the command could not start or did not exit normally
  std::string output;  ///< stdout and stderr together
};

/// Runs the evolveai binary in `cwd` through the shell with a clean environment plus `env`
/// ("A=1 B=2"), `input` on its standard input (nothing when empty), and waits for it to exit.
CommandResult run_evolveai(const std::string& env, const std::string& args, const std::filesystem::path& cwd,
                           const std::string& input = {});

}  // namespace evolveai::testing
