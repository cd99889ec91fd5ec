#include "obs/process_metrics.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <utility>
#include <vector>

#include "obs/metrics.hpp"

namespace evolveai::obs {

namespace {

/// The figures of /proc/self/stat this file uses, in clock ticks.
struct ProcessTimes {
  double user_ticks = 0;
  double system_ticks = 0;
  double start_ticks_after_boot = 0;
};

std::optional<std::string> read_whole_file(const char* path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return std::nullopt;
  // /proc files report size 0, so read in chunks until the end.
  std::string text;
  std::array<char, 4096> chunk{};
  while (in.read(chunk.data(), chunk.size()) || in.gcount() > 0) {
    text.append(chunk.data(), static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad())
    return std::nullopt;
  return text;
}

std::optional<double> parse_number(std::string_view text) {
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end == text.data())
    return std::nullopt;
  return value;
}

std::vector<std::string_view> split_spaces(std::string_view text) {
  std::vector<std::string_view> fields;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\n'))
      ++i;
    const std::size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\n')
      ++i;
    if (i > start)
      fields.push_back(text.substr(start, i - start));
  }
  return fields;
}

std::optional<ProcessTimes> read_process_times() {
  const auto text = read_whole_file("/proc/self/stat");
  if (!text)
    return std::nullopt;
  // The command name (field 2) is in parentheses and may itself hold spaces or ')'.
  const std::size_t name_end = text->rfind(')');
  if (name_end == std::string::npos)
    return std::nullopt;
  const auto fields = split_spaces(std::string_view(*text).substr(name_end + 1));
  // fields[0] is field 3 (state): utime is field 14, stime 15, starttime 22.
  constexpr std::size_t kUtime = 14 - 3;
  constexpr std::size_t kStime = 15 - 3;
  constexpr std::size_t kStartTime = 22 - 3;
  if (fields.size() <= kStartTime)
    return std::nullopt;
  const auto user = parse_number(fields[kUtime]);
  const auto system = parse_number(fields[kStime]);
  const auto start = parse_number(fields[kStartTime]);
  if (!user || !system || !start)
    return std::nullopt;
  return ProcessTimes{*user, *system, *start};
}

double clock_ticks_per_second() {
  const long ticks = ::sysconf(_SC_CLK_TCK);
  return ticks > 0 ? static_cast<double>(ticks) : 100.0;
}

std::optional<double> boot_time_seconds() {
  const auto text = read_whole_file("/proc/stat");
  if (!text)
    return std::nullopt;
  std::istringstream lines(*text);
  std::string line;
  while (std::getline(lines, line)) {
    constexpr std::string_view kPrefix = "btime ";
    if (std::string_view(line).starts_with(kPrefix))
      return parse_number(std::string_view(line).substr(kPrefix.size()));
  }
  return std::nullopt;
}

std::optional<double> system_uptime_seconds() {
  const auto text = read_whole_file("/proc/uptime");
  if (!text)
    return std::nullopt;
  const auto fields = split_spaces(*text);
  if (fields.empty())
    return std::nullopt;
  return parse_number(fields[0]);
}

/// Pages of /proc/self/statm: total program size and resident set.
struct MemoryPages {
  double virtual_pages = 0;
  double resident_pages = 0;
};

std::optional<MemoryPages> read_memory_pages() {
  const auto text = read_whole_file("/proc/self/statm");
  if (!text)
    return std::nullopt;
  const auto fields = split_spaces(*text);
  if (fields.size() < 2)
    return std::nullopt;
  const auto size = parse_number(fields[0]);
  const auto resident = parse_number(fields[1]);
  if (!size || !resident)
    return std::nullopt;
  return MemoryPages{*size, *resident};
}

double page_size_bytes() {
  const long size = ::sysconf(_SC_PAGESIZE);
  return size > 0 ? static_cast<double>(size) : 4096.0;
}

// Readers below throw when /proc cannot be read; the registry then renders NaN for that sample.
[[noreturn]] void unreadable(const char* what) {
  throw std::runtime_error(std::string("cannot read ") + what);
}

double resident_memory_bytes() {
  const auto pages = read_memory_pages();
  if (!pages)
    unreadable("/proc/self/statm");
  return pages->resident_pages * page_size_bytes();
}

double virtual_memory_bytes() {
  const auto pages = read_memory_pages();
  if (!pages)
    unreadable("/proc/self/statm");
  return pages->virtual_pages * page_size_bytes();
}

double cpu_seconds() {
  const auto times = read_process_times();
  if (!times)
    unreadable("/proc/self/stat");
  return (times->user_ticks + times->system_ticks) / clock_ticks_per_second();
}

double open_fds() {
  std::error_code error;
  std::filesystem::directory_iterator entries("/proc/self/fd", error);
  if (error)
    unreadable("/proc/self/fd");
  double count = 0;
  for (const auto& entry : entries) {
    (void)entry;
    ++count;
  }
  // The listing includes the descriptor the iterator itself holds open.
  return std::max(0.0, count - 1);
}

double max_fds() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0)
    unreadable("RLIMIT_NOFILE");
  if (limit.rlim_cur == RLIM_INFINITY)
    return std::numeric_limits<double>::infinity();
  return static_cast<double>(limit.rlim_cur);
}

}  // namespace

std::size_t current_rss_bytes() {
  const auto pages = read_memory_pages();
  if (!pages)
    return 0;
  return static_cast<std::size_t>(pages->resident_pages * page_size_bytes());
}

void register_process_metrics(MetricsRegistry& registry, std::string version, std::string commit) {
  const auto registered_at = std::chrono::steady_clock::now();
  const auto times = read_process_times();
  const double ticks = clock_ticks_per_second();

  // Start time and age at registration come from /proc once; uptime then advances on the monotonic clock.
  double start_time = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  double age_at_registration = 0;
  if (times) {
    if (const auto boot = boot_time_seconds())
      start_time = *boot + times->start_ticks_after_boot / ticks;
    if (const auto uptime = system_uptime_seconds()) {
      age_at_registration = std::max(0.0, *uptime - times->start_ticks_after_boot / ticks);
    }
  }

  registry.callback_gauge("process_resident_memory_bytes", "Resident memory size in bytes.", resident_memory_bytes);
  registry.callback_gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", virtual_memory_bytes);
  registry.callback_counter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
                            cpu_seconds);
  registry.gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.")
      .with()
      .set(start_time);
  registry.callback_gauge("process_open_fds", "Number of open file descriptors.", open_fds);
  registry.callback_gauge("process_max_fds", "Maximum number of open file descriptors.", max_fds);
  registry.callback_gauge(
      "evolveai_uptime_seconds", "Seconds since the process started.", [registered_at, age_at_registration] {
        const std::chrono::duration<double> since = std::chrono::steady_clock::now() - registered_at;
        return age_at_registration + since.count();
      });
  const std::array<std::string, 2> build{std::move(version), std::move(commit)};
  registry.gauge("evolveai_build_info", "Build of the running binary; the value is always 1.", {"version", "commit"})
      .with(build)
      .set(1);
}

}  // namespace evolveai::obs
