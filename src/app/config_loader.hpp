#pragma once

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "app/config.hpp"

namespace evolveai::app {

/// The file the command line falls back to when `--config` names none (read only if it exists).
inline constexpr std::string_view kDefaultConfigFile = "config/evolveai.toml";

/// Environment variables as name/value pairs; only `EVOLVEAI_*` ones are looked at.
using Environment = std::vector<std::pair<std::string, std::string>>;

/// Where the configuration comes from. Later sources win: defaults, then `file`, then
/// `EVOLVEAI_<SECTION>__<KEY>` variables, then `EVOLVEAI_<SECTION>__<KEY>_FILE` (secrets only).
struct ConfigSource {
  /// TOML file named by the operator (`--config`); it must exist.
  std::optional<std::filesystem::path> file;
  /// The process environment (see environment_from); tests pass their own.
  Environment environment;
  /// Read when `file` is unset and this exists; the CLI passes kDefaultConfigFile, tests leave it unset.
  std::optional<std::filesystem::path> fallback_file;
};

/// What loading found. Loading never throws for bad input: every problem is collected here.
struct LoadResult {
  /// Defaults, sources applied, data_dir-relative defaults and `threads = 0` resolved.
  /// Use it only when `errors` is empty.
  Config config;
  /// One message per problem, each naming the key and where the value came from.
  std::vector<std::string> errors;
  /// The TOML file that was read, if any.
  std::optional<std::filesystem::path> file;

  /// True when the configuration is valid.
  [[nodiscard]] bool ok() const noexcept { return errors.empty(); }
};

/// Loads and validates the configuration from `source` (see ConfigSource for precedence).
LoadResult load_config(const ConfigSource& source);

/// Copies a `environ`-style, null-terminated array of "NAME=value" strings.
Environment environment_from(const char* const* envp);

/// Configuration that cannot be used; holds every problem found.
class ConfigError : public std::runtime_error {
 public:
  explicit ConfigError(std::vector<std::string> messages);

  /// Each problem, naming its key or file.
  [[nodiscard]] const std::vector<std::string>& messages() const noexcept { return messages_; }

 private:
  std::vector<std::string> messages_;
};

/// Fewest bytes accepted for auth.jwt_secret, configured or generated.
inline constexpr std::size_t kMinJwtSecretBytes = 32;

/// When auth.jwt_secret is empty, reads it from `<data_dir>/jwt_secret`, or on first start
/// creates that file (and data_dir) with a new random secret readable by the owner only.
/// Throws ConfigError naming the path when the file cannot be made or read, is too short,
/// or may be accessed by group or others.
void ensure_jwt_secret(Config& config);

}  // namespace evolveai::app
