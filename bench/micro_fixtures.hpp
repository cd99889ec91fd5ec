#pragma once

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

namespace evolveai::bench {

/// The bytes of a recorded fixture under the shared fixtures folder (EVOLVEAI_FIXTURES_DIR),
/// exactly as stored; nullopt when it cannot be read.
inline std::optional<std::string> read_fixture(const std::string& relative_path) {
  const auto path = std::filesystem::path(EVOLVEAI_FIXTURES_DIR) / relative_path;
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return std::nullopt;
  }
  std::ostringstream bytes;
  bytes << file.rdbuf();
  return bytes.str();
}

}  // namespace evolveai::bench
