#pragma once

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include "app/config_loader.hpp"

namespace CLI {  // NOLINT(readability-identifier-naming): CLI11's namespace
class App;
}

namespace evolveai::app {

/// How one doctor check came out: fine, worth a look, or broken.
enum class CheckStatus { kOk, kWarn, kFail };

/// "ok", "warn" or "fail".
[[nodiscard]] std::string_view to_string(CheckStatus status) noexcept;

/// One line of `evolveai doctor`: what was checked, what was found and, unless ok, how to fix it.
struct DoctorCheck {
  std::string name;  ///< config, database, migrations, redis, model, telegram, tts, tts_cloud, disk
  CheckStatus status = CheckStatus::kOk;
  std::string detail;
  std::string fix;  ///< empty when ok
};

/// Bytes of free space under which the backup directory is reported as short, whatever the
/// database's size (1 GiB).
inline constexpr std::uintmax_t kDefaultMinFreeBytes = std::uintmax_t{1} << 30U;

/// Bounds of the checks.
struct DoctorOptions {
  /// Longest wait of each check that reaches another service (database, Redis, model, Telegram, TTS).
  std::chrono::milliseconds timeout = std::chrono::seconds(10);
  /// See kDefaultMinFreeBytes.
  std::uintmax_t min_free_bytes = kDefaultMinFreeBytes;
};

/// The `doctor` subcommand and its parsed arguments.
struct DoctorCommand {
  CLI::App* command = nullptr;
  std::string config_path;
  bool json = false;
  int timeout_seconds = 10;
  std::uint64_t min_free_mib = kDefaultMinFreeBytes >> 20U;

  /// True when `doctor` was given.
  [[nodiscard]] bool chosen() const;
};

/// Adds `doctor [--config FILE] [--json] [--timeout SECONDS] [--min-free-mib MIB]`.
void add_doctor_command(CLI::App& cli, DoctorCommand& command);

/// Runs every check in order: config (as `config check` loads and validates it), database
/// (connect and ping), migrations (pending, changed or unknown), Redis (PING, when configured),
/// the model provider (a model lookup, when configured), Telegram (`getMe`, when a token is
/// set), TTS (espeak-ng speaks a short phrase; the cloud engine too when configured) and disk
/// (free space for backups against the database's size). Nothing is created or changed: a
/// SQLite file that does not exist yet is reported, not made. When the configuration does not
/// load, only the config check is returned.
[[nodiscard]] std::vector<DoctorCheck> run_doctor(const LoadResult& loaded, const DoctorOptions& options);

/// Writes the checks as aligned lines `status  name  detail` (with a `fix:` line under each
/// warn and fail, then a summary), or as one JSON object `{"ok":…,"checks":[…]}` when `json`.
void print_doctor_report(const std::vector<DoctorCheck>& checks, bool json, std::ostream& out);

/// 0 when no check failed, 1 otherwise.
[[nodiscard]] int doctor_exit_code(const std::vector<DoctorCheck>& checks);

/// Runs the checks for the parsed command, prints them to `out` and returns the exit code.
int run_doctor_command(const DoctorCommand& command, const LoadResult& loaded, std::ostream& out);

}  // namespace evolveai::app
