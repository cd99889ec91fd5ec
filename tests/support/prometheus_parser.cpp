#include "support/prometheus_parser.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <set>
#include <system_error>
#include <unordered_map>
#include <utility>

namespace evolveai::testing {

MetricsParseError::MetricsParseError(std::size_t line, const std::string& message)
    : std::runtime_error(fmt::format("line {}: {}", line, message)), line_(line) {}

const ParsedFamily* ParsedMetrics::family(std::string_view name) const {
  const auto found = std::find_if(families.begin(), families.end(), [&](const auto& f) { return f.name == name; });
  return found == families.end() ? nullptr : &*found;
}

const ParsedSample* ParsedMetrics::sample(std::string_view sample_name, const MetricLabels& labels) const {
  for (const ParsedFamily& f : families) {
    for (const ParsedSample& s : f.samples) {
      if (s.name == sample_name && s.labels == labels)
        return &s;
    }
  }
  return nullptr;
}

std::optional<double> ParsedMetrics::value(std::string_view sample_name, const MetricLabels& labels) const {
  const ParsedSample* found = sample(sample_name, labels);
  if (found == nullptr)
    return std::nullopt;
  return found->value;
}

namespace {

bool is_name_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_metric_name_start(char c) {
  return is_name_start(c) || c == ':';
}
bool is_metric_name_char(char c) {
  return is_metric_name_start(c) || is_digit(c);
}
bool is_label_name_char(char c) {
  return is_name_start(c) || is_digit(c);
}
bool is_blank(char c) {
  return c == ' ' || c == '\t';
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
           return lower(x) == lower(y);
         });
}

/// Parses a float the way Prometheus (Go's ParseFloat) reads sample values.
std::optional<double> parse_float(std::string_view text) {
  if (text.empty())
    return std::nullopt;
  bool negative = false;
  std::string_view body = text;
  if (body.front() == '+' || body.front() == '-') {
    negative = body.front() == '-';
    body.remove_prefix(1);
  }
  if (equals_ignoring_case(body, "inf") || equals_ignoring_case(body, "infinity")) {
    return negative ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
  }
  if (equals_ignoring_case(body, "nan")) {
    if (body.size() != text.size())
      return std::nullopt;  // a signed NaN is not accepted
    return std::numeric_limits<double>::quiet_NaN();
  }
  // digits [. digits] or . digits, then an optional exponent.
  std::size_t i = 0;
  std::size_t digits = 0;
  const auto skip_digits = [&] {
    while (i < body.size() && is_digit(body[i])) {
      ++i;
      ++digits;
    }
  };
  skip_digits();
  if (i < body.size() && body[i] == '.') {
    ++i;
    skip_digits();
  }
  if (digits == 0)
    return std::nullopt;
  if (i < body.size() && (body[i] == 'e' || body[i] == 'E')) {
    ++i;
    if (i < body.size() && (body[i] == '+' || body[i] == '-'))
      ++i;
    const std::size_t exponent_start = i;
    while (i < body.size() && is_digit(body[i]))
      ++i;
    if (i == exponent_start)
      return std::nullopt;
  }
  if (i != body.size())
    return std::nullopt;
  double value = 0;
  const auto [end, error] = std::from_chars(body.data(), body.data() + body.size(), value);
  if (error == std::errc::result_out_of_range) {
    // Go rounds overflow to ±Inf and underflow to 0; so do we.
    value = std::numeric_limits<double>::infinity();
    const bool is_underflow = body.find_first_of("eE") != std::string_view::npos &&
                              body.substr(body.find_first_of("eE") + 1).starts_with('-');
    if (is_underflow)
      value = 0;
  } else if (error != std::errc{} || end != body.data() + body.size()) {
    return std::nullopt;
  }
  return negative ? -value : value;
}

std::optional<std::int64_t> parse_timestamp(std::string_view text) {
  if (text.starts_with('+'))
    text.remove_prefix(1);
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size() || text.empty())
    return std::nullopt;
  return value;
}

std::string_view type_name(MetricType type) {
  switch (type) {
    case MetricType::kCounter: return "counter";
    case MetricType::kGauge: return "gauge";
    case MetricType::kHistogram: return "histogram";
    case MetricType::kSummary: return "summary";
    case MetricType::kUntyped: return "untyped";
  }
  return "untyped";
}

std::optional<MetricType> parse_type(std::string_view text) {
  for (const MetricType type :
       {MetricType::kCounter, MetricType::kGauge, MetricType::kHistogram, MetricType::kSummary, MetricType::kUntyped}) {
    if (text == type_name(type))
      return type;
  }
  return std::nullopt;
}

/// Reads one line left to right, throwing with the line number on anything unexpected.
class LineReader {
 public:
  LineReader(std::string_view text, std::size_t line) : text_(text), line_(line) {}

  [[noreturn]] void fail(const std::string& message) const { throw MetricsParseError(line_, message); }

  [[nodiscard]] bool at_end() const { return pos_ >= text_.size(); }
  [[nodiscard]] char peek() const { return at_end() ? '\0' : text_[pos_]; }
  void advance() { ++pos_; }
  [[nodiscard]] std::string_view rest() const { return text_.substr(std::min(pos_, text_.size())); }

  /// Skips spaces and tabs; returns how many were skipped.
  std::size_t skip_blanks() {
    const std::size_t start = pos_;
    while (!at_end() && is_blank(peek()))
      advance();
    return pos_ - start;
  }

  /// A run of characters up to the next blank.
  std::string_view token() {
    const std::size_t start = pos_;
    while (!at_end() && !is_blank(peek()))
      advance();
    return text_.substr(start, pos_ - start);
  }

  /// A metric name that must end at a blank, `{` or the end of the line.
  std::string metric_name() {
    const std::size_t start = pos_;
    if (at_end() || !is_metric_name_start(peek()))
      fail(fmt::format("invalid metric name at '{}'", rest()));
    while (!at_end() && is_metric_name_char(peek()))
      advance();
    if (!at_end() && !is_blank(peek()) && peek() != '{') {
      fail(fmt::format("invalid character '{}' in metric name", peek()));
    }
    return std::string(text_.substr(start, pos_ - start));
  }

  std::string label_name() {
    const std::size_t start = pos_;
    if (at_end() || !is_name_start(peek()))
      fail(fmt::format("invalid label name at '{}'", rest()));
    while (!at_end() && is_label_name_char(peek()))
      advance();
    std::string name(text_.substr(start, pos_ - start));
    if (name.starts_with("__"))
      fail(fmt::format("label name '{}' is reserved", name));
    return name;
  }

  /// A double-quoted label value with `\\`, `\"` and `\n` escapes.
  std::string quoted_label_value() {
    if (peek() != '"')
      fail("expected '\"' to open a label value");
    advance();
    std::string value;
    while (true) {
      if (at_end())
        fail("unterminated label value");
      const char c = peek();
      advance();
      if (c == '"')
        return value;
      if (c != '\\') {
        value += c;
        continue;
      }
      if (at_end())
        fail("unterminated escape in label value");
      const char escaped = peek();
      advance();
      if (escaped == '\\') {
        value += '\\';
      } else if (escaped == '"') {
        value += '"';
      } else if (escaped == 'n') {
        value += '\n';
      } else {
        fail(fmt::format("invalid escape '\\{}' in label value", escaped));
      }
    }
  }

  /// `{name="value",...}` with an optional trailing comma.
  MetricLabels labels() {
    MetricLabels labels;
    advance();  // '{'
    skip_blanks();
    while (peek() != '}') {
      std::string name = label_name();
      skip_blanks();
      if (peek() != '=')
        fail(fmt::format("expected '=' after label name '{}'", name));
      advance();
      skip_blanks();
      std::string value = quoted_label_value();
      if (!labels.emplace(name, std::move(value)).second)
        fail(fmt::format("label '{}' appears twice", name));
      skip_blanks();
      if (peek() == ',') {
        advance();
        skip_blanks();
      } else if (peek() != '}') {
        fail("expected ',' or '}' in label set");
      }
    }
    advance();  // '}'
    return labels;
  }

 private:
  std::string_view text_;
  std::size_t line_;
  std::size_t pos_ = 0;
};

std::string unescape_help(const LineReader& reader, std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\') {
      out += text[i];
      continue;
    }
    if (i + 1 >= text.size())
      reader.fail("unterminated escape in HELP");
    const char escaped = text[++i];
    if (escaped == '\\') {
      out += '\\';
    } else if (escaped == 'n') {
      out += '\n';
    } else {
      reader.fail(fmt::format("invalid escape '\\{}' in HELP", escaped));
    }
  }
  return out;
}

std::string series_key(const std::string& name, const MetricLabels& labels) {
  std::string key = name;
  for (const auto& [label, value] : labels) {
    key += '\0';
    key += label;
    key += '\0';
    key += value;
  }
  return key;
}

/// Builds the result line by line and keeps the cross-line rules.
class Parser {
 public:
  void parse_line(std::string_view text, std::size_t line) {
    LineReader reader(text, line);
    reader.skip_blanks();
    if (reader.at_end())
      return;
    if (reader.peek() == '#') {
      parse_comment(reader);
    } else {
      parse_sample(reader, line);
    }
  }

  ParsedMetrics finish() {
    for (const ParsedFamily& family : result_.families) {
      if (family.type == MetricType::kHistogram)
        check_histogram(family);
    }
    return std::move(result_);
  }

 private:
  void parse_comment(LineReader& reader) {
    reader.advance();  // '#'
    if (reader.skip_blanks() == 0)
      return;  // "#comment" is a plain comment
    const std::string_view keyword = reader.token();
    if (keyword != "HELP" && keyword != "TYPE")
      return;
    if (reader.skip_blanks() == 0)
      reader.fail(fmt::format("expected a metric name after {}", keyword));
    const std::string name = reader.metric_name();
    if (!reader.at_end() && !is_blank(reader.peek()))
      reader.fail(fmt::format("invalid metric name in {}", keyword));
    ParsedFamily& family = enter_family(reader, name);
    if (keyword == "HELP") {
      if (family.help)
        reader.fail(fmt::format("second HELP line for {}", name));
      // One blank separates the name from the text; everything after it belongs to the text.
      if (!reader.at_end())
        reader.advance();
      family.help = unescape_help(reader, reader.rest());
      return;
    }
    if (family.typed)
      reader.fail(fmt::format("second TYPE line for {}", name));
    if (!family.samples.empty())
      reader.fail(fmt::format("TYPE line for {} after its samples", name));
    reader.skip_blanks();
    const std::string_view type_text = reader.token();
    const auto type = parse_type(type_text);
    if (!type)
      reader.fail(fmt::format("unknown metric type '{}'", type_text));
    reader.skip_blanks();
    if (!reader.at_end())
      reader.fail(fmt::format("unexpected text '{}' after TYPE", reader.rest()));
    family.type = *type;
    family.typed = true;
  }

  void parse_sample(LineReader& reader, std::size_t line) {
    ParsedSample sample;
    sample.line = line;
    sample.name = reader.metric_name();
    if (reader.peek() == '{')
      sample.labels = reader.labels();
    if (reader.skip_blanks() == 0)
      reader.fail("expected a blank before the value");
    const std::string_view value_text = reader.token();
    const auto value = parse_float(value_text);
    if (!value)
      reader.fail(fmt::format("invalid sample value '{}'", value_text));
    sample.value = *value;
    reader.skip_blanks();
    if (!reader.at_end()) {
      const std::string_view timestamp_text = reader.token();
      sample.timestamp_ms = parse_timestamp(timestamp_text);
      if (!sample.timestamp_ms)
        reader.fail(fmt::format("invalid timestamp '{}'", timestamp_text));
      reader.skip_blanks();
      if (!reader.at_end())
        reader.fail(fmt::format("unexpected text '{}' after the sample", reader.rest()));
    }

    const std::string family_name = family_of(reader, sample.name);
    ParsedFamily& family = enter_family(reader, family_name);
    check_sample_for_type(reader, family, sample);
    if (!series_.insert(series_key(sample.name, sample.labels)).second) {
      reader.fail(fmt::format("duplicate series {}", sample.name));
    }
    family.samples.push_back(std::move(sample));
  }

  /// The family a sample belongs to: its own name, or a histogram/summary base name.
  std::string family_of(const LineReader& reader, const std::string& sample_name) const {
    if (const ParsedFamily* own = find(sample_name); own != nullptr && own->typed)
      return sample_name;
    for (const std::string_view suffix : {"_bucket", "_sum", "_count"}) {
      if (!std::string_view(sample_name).ends_with(suffix))
        continue;
      std::string base = sample_name.substr(0, sample_name.size() - suffix.size());
      const ParsedFamily* family = find(base);
      if (family == nullptr || !family->typed)
        continue;
      if (family->type == MetricType::kHistogram || (family->type == MetricType::kSummary && suffix != "_bucket")) {
        return base;
      }
    }
    reader.fail(fmt::format("sample {} has no TYPE line before it", sample_name));
  }

  static void check_sample_for_type(const LineReader& reader, const ParsedFamily& family, const ParsedSample& sample) {
    const bool is_bucket = sample.name == family.name + "_bucket";
    const bool is_sum = sample.name == family.name + "_sum";
    const bool is_count = sample.name == family.name + "_count";
    switch (family.type) {
      case MetricType::kCounter:
        if (sample.value < 0)
          reader.fail(fmt::format("counter {} is negative", sample.name));
        break;
      case MetricType::kHistogram: {
        if (!is_bucket && !is_sum && !is_count) {
          reader.fail(fmt::format("histogram {} sample must be _bucket, _sum or _count", family.name));
        }
        const auto le = sample.labels.find("le");
        if (is_bucket) {
          if (le == sample.labels.end())
            reader.fail(fmt::format("{} has no 'le' label", sample.name));
          if (!parse_float(le->second))
            reader.fail(fmt::format("invalid le '{}'", le->second));
          if (sample.value < 0)
            reader.fail(fmt::format("{} is negative", sample.name));
        } else if (le != sample.labels.end()) {
          reader.fail(fmt::format("{} must not have an 'le' label", sample.name));
        }
        if (is_count && sample.value < 0)
          reader.fail(fmt::format("{} is negative", sample.name));
        break;
      }
      case MetricType::kSummary: {
        const auto quantile = sample.labels.find("quantile");
        if (!is_sum && !is_count) {
          if (quantile == sample.labels.end())
            reader.fail(fmt::format("{} has no 'quantile' label", sample.name));
          if (!parse_float(quantile->second))
            reader.fail(fmt::format("invalid quantile '{}'", quantile->second));
        }
        break;
      }
      case MetricType::kGauge:
      case MetricType::kUntyped: break;
    }
  }

  /// Makes `name` the current family, creating it if new; a family's lines must be contiguous.
  ParsedFamily& enter_family(const LineReader& reader, const std::string& name) {
    if (current_ && result_.families[*current_].name == name)
      return result_.families[*current_];
    if (const auto known = index_.find(name); known != index_.end()) {
      reader.fail(fmt::format("lines of {} are not grouped together", name));
    }
    index_.emplace(name, result_.families.size());
    current_ = result_.families.size();
    ParsedFamily& family = result_.families.emplace_back();
    family.name = name;
    return family;
  }

  [[nodiscard]] const ParsedFamily* find(const std::string& name) const {
    const auto found = index_.find(name);
    return found == index_.end() ? nullptr : &result_.families[found->second];
  }

  /// Buckets of one histogram series (its labels without `le`).
  struct HistogramSeries {
    std::vector<std::pair<double, const ParsedSample*>> buckets;
    const ParsedSample* sum = nullptr;
    const ParsedSample* count = nullptr;
  };

  static void check_histogram(const ParsedFamily& family) {
    std::map<MetricLabels, HistogramSeries> series;
    for (const ParsedSample& sample : family.samples) {
      MetricLabels labels = sample.labels;
      HistogramSeries* entry = nullptr;
      if (sample.name == family.name + "_bucket") {
        const double le = *parse_float(labels.at("le"));
        labels.erase("le");
        entry = &series[labels];
        entry->buckets.emplace_back(le, &sample);
      } else if (sample.name == family.name + "_sum") {
        series[labels].sum = &sample;
      } else {
        series[labels].count = &sample;
      }
    }
    for (auto& [labels, entry] : series) {
      const std::size_t first_line = !entry.buckets.empty()   ? entry.buckets.front().second->line
                                     : entry.count != nullptr ? entry.count->line
                                                              : entry.sum->line;
      if (entry.buckets.empty())
        throw MetricsParseError(first_line, fmt::format("{} has no buckets", family.name));
      std::stable_sort(entry.buckets.begin(), entry.buckets.end(),
                       [](const auto& a, const auto& b) { return a.first < b.first; });
      for (std::size_t i = 1; i < entry.buckets.size(); ++i) {
        const auto& [le, bucket] = entry.buckets[i];
        const auto& [previous_le, previous] = entry.buckets[i - 1];
        if (le == previous_le) {
          throw MetricsParseError(bucket->line, fmt::format("{} has two buckets with le={}", family.name, le));
        }
        if (bucket->value < previous->value) {
          throw MetricsParseError(bucket->line,
                                  fmt::format("{} buckets are not cumulative: le={} has {} < {}", family.name,
                                              bucket->labels.at("le"), bucket->value, previous->value));
        }
      }
      const auto& [last_le, last] = entry.buckets.back();
      if (!std::isinf(last_le) || last_le < 0) {
        throw MetricsParseError(last->line, fmt::format("{} buckets do not end with le=\"+Inf\"", family.name));
      }
      if (entry.count == nullptr)
        throw MetricsParseError(first_line, fmt::format("{} has no _count", family.name));
      if (entry.sum == nullptr)
        throw MetricsParseError(first_line, fmt::format("{} has no _sum", family.name));
      if (entry.count->value != last->value) {
        throw MetricsParseError(entry.count->line, fmt::format("{}_count {} differs from the +Inf bucket {}",
                                                               family.name, entry.count->value, last->value));
      }
    }
  }

  ParsedMetrics result_;
  std::unordered_map<std::string, std::size_t> index_;
  std::optional<std::size_t> current_;
  std::set<std::string> series_;
};

}  // namespace

ParsedMetrics parse_prometheus_text(std::string_view text) {
  Parser parser;
  std::size_t line = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    ++line;
    const std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos)
      throw MetricsParseError(line, "the last line does not end with a line feed");
    parser.parse_line(text.substr(start, end - start), line);
    start = end + 1;
  }
  return parser.finish();
}

}  // namespace evolveai::testing
