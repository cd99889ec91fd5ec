#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace evolveai::testing {

/// Label name -> unescaped label value of one sample.
using MetricLabels = std::map<std::string, std::string, std::less<>>;

/// The type a `# TYPE` line declares.
enum class MetricType { kCounter, kGauge, kHistogram, kSummary, kUntyped };

/// One sample line.
struct ParsedSample {
  std::string name;  ///< full sample name, e.g. `http_request_duration_seconds_bucket`
  MetricLabels labels;
  double value = 0;
  std::optional<std::int64_t> timestamp_ms;
  std::size_t line = 0;  ///< 1-based
};

/// One metric family: its HELP, TYPE and samples in the order they appeared.
struct ParsedFamily {
  std::string name;
  std::optional<std::string> help;  ///< unescaped
  MetricType type = MetricType::kUntyped;
  bool typed = false;  ///< a TYPE line was seen
  std::vector<ParsedSample> samples;
};

/// Malformed exposition text; what() starts with "line N:".
class MetricsParseError : public std::runtime_error {
 public:
  /// An error at 1-based `line`.
  MetricsParseError(std::size_t line, const std::string& message);
  /// 1-based line of the offending input.
  [[nodiscard]] std::size_t line() const noexcept { return line_; }

 private:
  std::size_t line_;
};

/// The result of parsing a scrape.
struct ParsedMetrics {
  std::vector<ParsedFamily> families;  ///< in order of appearance

  /// The family named `name`, or null.
  [[nodiscard]] const ParsedFamily* family(std::string_view name) const;
  /// The sample with this exact name and exactly these labels, or null.
  [[nodiscard]] const ParsedSample* sample(std::string_view sample_name, const MetricLabels& labels = {}) const;
  /// The value of the sample with this exact name and exactly these labels, or nullopt.
  [[nodiscard]] std::optional<double> value(std::string_view sample_name, const MetricLabels& labels = {}) const;
};

/// Parses Prometheus text exposition format 0.0.4 strictly, as a scraper would plus the rules a
/// well-behaved exporter keeps: every sample's family has a TYPE line before it, a family's lines are
/// contiguous, names are valid, no series appears twice, counters are not negative, and each histogram
/// series has cumulative buckets ending in +Inf equal to its _count, and a _sum.
/// Throws MetricsParseError naming the line.
[[nodiscard]] ParsedMetrics parse_prometheus_text(std::string_view text);

}  // namespace evolveai::testing
