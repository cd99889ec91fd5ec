#include "obs/metrics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace evolveai::obs {

namespace {

// Integers up to 2^53 are exact in a double and print without exponent.
constexpr double kLargestExactInteger = 9007199254740992.0;

bool is_name_start(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

std::string_view kind_name(MetricKind kind) noexcept {
  switch (kind) {
    case MetricKind::kCounter: return "counter";
    case MetricKind::kGauge: return "gauge";
    case MetricKind::kHistogram: return "histogram";
  }
  return "untyped";
}

// Length of the valid UTF-8 sequence starting at text[i], or 0 when it is not valid.
std::size_t utf8_sequence_length(std::string_view text, std::size_t i) noexcept {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  std::size_t length = 0;
  unsigned char min_second = 0x80;
  unsigned char max_second = 0xBF;
  if (lead < 0x80) {
    return 1;
  } else if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0)
      min_second = 0xA0;  // no overlong forms
    if (lead == 0xED)
      max_second = 0x9F;  // no surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0)
      min_second = 0x90;
    if (lead == 0xF4)
      max_second = 0x8F;  // nothing above U+10FFFF
  } else {
    return 0;
  }
  if (i + length > text.size())
    return 0;
  if (byte(i + 1) < min_second || byte(i + 1) > max_second)
    return 0;
  for (std::size_t k = 2; k < length; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF)
      return 0;
  }
  return length;
}

// Escapes a label value (backslash, double quote, newline). Prometheus rejects invalid UTF-8, and label
// values may come from traffic, so each invalid byte becomes U+FFFD instead of breaking the scrape.
void append_label_value(std::string& out, std::string_view value) {
  for (std::size_t i = 0; i < value.size();) {
    const char c = value[i];
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      const std::size_t length = utf8_sequence_length(value, i);
      if (length == 0) {
        out += "\xEF\xBF\xBD";
        ++i;
        continue;
      }
      out.append(value.substr(i, length));
      i += length;
      continue;
    }
    ++i;
  }
}

// Escapes HELP text (backslash, newline).
void append_help_text(std::string& out, std::string_view help) {
  for (const char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

/// An optional extra label (histogram `le`) appended after the family's own labels.
struct ExtraLabel {
  std::string_view name;
  std::string_view value;
};

void append_sample(std::string& out, std::string_view name, std::string_view suffix,
                   const std::vector<std::string>& label_names, const std::vector<std::string>& label_values,
                   const ExtraLabel* extra, std::string_view value) {
  out += name;
  out += suffix;
  if (!label_names.empty() || extra != nullptr) {
    out += '{';
    bool first = true;
    const auto add = [&](std::string_view label, std::string_view label_value) {
      if (!first)
        out += ',';
      first = false;
      out += label;
      out += "=\"";
      append_label_value(out, label_value);
      out += '"';
    };
    for (std::size_t i = 0; i < label_names.size(); ++i)
      add(label_names[i], label_values[i]);
    if (extra != nullptr)
      add(extra->name, extra->value);
    out += '}';
  }
  out += ' ';
  out += value;
  out += '\n';
}

void append_value_sample(std::string& out, const detail::FamilyBase& family,
                         const std::vector<std::string>& label_values, double value) {
  append_sample(out, family.name(), "", family.label_names(), label_values, nullptr, format_metric_value(value));
}

void append_histogram_samples(std::string& out, const detail::FamilyBase& family,
                              const std::vector<std::string>& label_values, const Histogram& histogram) {
  const HistogramSnapshot snapshot = histogram.snapshot();
  for (std::size_t i = 0; i < snapshot.cumulative.size(); ++i) {
    const std::string le =
        i < snapshot.upper_bounds.size() ? format_metric_value(snapshot.upper_bounds[i]) : std::string("+Inf");
    const ExtraLabel extra{"le", le};
    append_sample(out, family.name(), "_bucket", family.label_names(), label_values, &extra,
                  fmt::format("{}", snapshot.cumulative[i]));
  }
  append_sample(out, family.name(), "_sum", family.label_names(), label_values, nullptr,
                format_metric_value(snapshot.sum));
  append_sample(out, family.name(), "_count", family.label_names(), label_values, nullptr,
                fmt::format("{}", snapshot.count));
}

bool less_values(std::string_view a, std::string_view b) noexcept {
  return a < b;
}

[[noreturn]] void fail(const std::string& message) {
  throw std::logic_error(message);
}

}  // namespace

bool is_valid_metric_name(std::string_view name) noexcept {
  if (name.empty())
    return false;
  if (!is_name_start(name.front()) && name.front() != ':')
    return false;
  return std::all_of(name.begin() + 1, name.end(), [](char c) { return is_name_start(c) || is_digit(c) || c == ':'; });
}

bool is_valid_label_name(std::string_view name) noexcept {
  if (name.empty() || !is_name_start(name.front()))
    return false;
  if (name.starts_with("__"))
    return false;
  return std::all_of(name.begin() + 1, name.end(), [](char c) { return is_name_start(c) || is_digit(c); });
}

std::string format_metric_value(double value) {
  if (std::isnan(value))
    return "NaN";
  if (std::isinf(value))
    return value > 0 ? "+Inf" : "-Inf";
  if (std::fabs(value) <= kLargestExactInteger && value == std::trunc(value)) {
    return fmt::format("{}", static_cast<std::int64_t>(value));
  }
  // Shortest text that reads back as the same double; Prometheus (Go ParseFloat) accepts its exponent form.
  return fmt::format("{}", value);
}

void Counter::inc(double amount) noexcept {
  if (!(amount >= 0.0))
    return;
  value_.fetch_add(amount, std::memory_order_relaxed);
}

void Gauge::inc(double amount) noexcept {
  value_.fetch_add(amount, std::memory_order_relaxed);
}

void Gauge::dec(double amount) noexcept {
  value_.fetch_sub(amount, std::memory_order_relaxed);
}

static_assert(std::atomic<double>::is_always_lock_free, "metric updates must not take locks");
static_assert(std::atomic<std::uint64_t>::is_always_lock_free, "metric updates must not take locks");

Histogram::Histogram(std::span<const double> upper_bounds)
    : upper_bounds_(upper_bounds),
      bucket_counts_(std::make_unique<std::atomic<std::uint64_t>[]>(upper_bounds.size() + 1)) {}

void Histogram::observe(double value) noexcept {
  if (std::isnan(value))
    return;
  // Bucket i counts values <= upper_bounds_[i] that exceed the previous bound; the last one is +Inf.
  const auto bucket = std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), value) - upper_bounds_.begin();
  bucket_counts_[static_cast<std::size_t>(bucket)].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

HistogramSnapshot Histogram::snapshot() const {
  HistogramSnapshot snapshot;
  snapshot.upper_bounds.assign(upper_bounds_.begin(), upper_bounds_.end());
  snapshot.cumulative.reserve(upper_bounds_.size() + 1);
  // The count is the sum of the buckets read here, so a scrape racing with observe() stays self-consistent.
  std::uint64_t running = 0;
  for (std::size_t i = 0; i <= upper_bounds_.size(); ++i) {
    running += bucket_counts_[i].load(std::memory_order_relaxed);
    snapshot.cumulative.push_back(running);
  }
  snapshot.count = running;
  snapshot.sum = sum_.load(std::memory_order_relaxed);
  return snapshot;
}

namespace detail {

bool LabelValuesLess::operator()(const std::vector<std::string>& a, const std::vector<std::string>& b) const noexcept {
  return a < b;
}

bool LabelValuesLess::operator()(const std::vector<std::string>& a,
                                 std::span<const std::string_view> b) const noexcept {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(), less_values);
}

bool LabelValuesLess::operator()(std::span<const std::string_view> a,
                                 const std::vector<std::string>& b) const noexcept {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(), less_values);
}

FamilyBase::FamilyBase(MetricKind kind, bool is_callback, std::string name, std::string help,
                       std::vector<std::string> label_names, std::vector<double> upper_bounds)
    : kind_(kind),
      is_callback_(is_callback),
      name_(std::move(name)),
      help_(std::move(help)),
      label_names_(std::move(label_names)),
      upper_bounds_(std::move(upper_bounds)) {}

void FamilyBase::check_label_count(std::size_t count) const {
  if (count != label_names_.size()) {
    fail(fmt::format("metric {} takes {} label values, got {}", name_, label_names_.size(), count));
  }
}

void FamilyBase::render(std::string& out) const {
  out += "# HELP ";
  out += name_;
  if (!help_.empty()) {
    out += ' ';
    append_help_text(out, help_);
  }
  out += "\n# TYPE ";
  out += name_;
  out += ' ';
  out += kind_name(kind_);
  out += '\n';
  render_samples(out);
}

}  // namespace detail

template <typename Metric>
Family<Metric>::Family(MetricKind kind, std::string name, std::string help, std::vector<std::string> label_names,
                       std::vector<double> upper_bounds)
    : FamilyBase(kind, false, std::move(name), std::move(help), std::move(label_names), std::move(upper_bounds)) {}

template <typename Metric>
Metric& Family<Metric>::with(std::initializer_list<std::string_view> label_values) {
  return find_or_create(std::span<const std::string_view>(label_values.begin(), label_values.size()));
}

template <typename Metric>
Metric& Family<Metric>::with(std::span<const std::string> label_values) {
  const std::vector<std::string_view> views(label_values.begin(), label_values.end());
  return find_or_create(views);
}

template <typename Metric>
Metric& Family<Metric>::find_or_create(std::span<const std::string_view> label_values) {
  check_label_count(label_values.size());
  {
    const std::shared_lock lock(mutex_);
    if (const auto found = children_.find(label_values); found != children_.end())
      return *found->second;
  }
  const std::unique_lock lock(mutex_);
  if (const auto found = children_.find(label_values); found != children_.end())
    return *found->second;
  std::unique_ptr<Metric> child;
  if constexpr (std::is_same_v<Metric, Histogram>) {
    child = std::make_unique<Histogram>(std::span<const double>(upper_bounds()));
  } else {
    child = std::make_unique<Metric>();
  }
  Metric& result = *child;
  children_.emplace(std::vector<std::string>(label_values.begin(), label_values.end()), std::move(child));
  return result;
}

template <typename Metric>
void Family<Metric>::render_samples(std::string& out) const {
  const std::shared_lock lock(mutex_);
  for (const auto& [label_values, child] : children_) {
    if constexpr (std::is_same_v<Metric, Histogram>) {
      append_histogram_samples(out, *this, label_values, *child);
    } else {
      append_value_sample(out, *this, label_values, child->value());
    }
  }
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

CallbackFamily::CallbackFamily(MetricKind kind, std::string name, std::string help,
                               std::vector<std::string> label_names)
    : FamilyBase(kind, true, std::move(name), std::move(help), std::move(label_names), {}) {}

void CallbackFamily::set(std::initializer_list<std::string_view> label_values, ValueCallback read) {
  check_label_count(label_values.size());
  if (!read)
    fail(fmt::format("metric {}: empty callback", name()));
  const std::unique_lock lock(mutex_);
  callbacks_.insert_or_assign(std::vector<std::string>(label_values.begin(), label_values.end()), std::move(read));
}

void CallbackFamily::remove(std::initializer_list<std::string_view> label_values) {
  check_label_count(label_values.size());
  const std::unique_lock lock(mutex_);
  const auto found = callbacks_.find(std::span<const std::string_view>(label_values.begin(), label_values.size()));
  if (found != callbacks_.end())
    callbacks_.erase(found);
}

void CallbackFamily::render_samples(std::string& out) const {
  // Held shared while callbacks run, so remove() waits for a scrape in progress.
  const std::shared_lock lock(mutex_);
  for (const auto& [label_values, read] : callbacks_) {
    double value = std::numeric_limits<double>::quiet_NaN();
    try {
      value = read();
    } catch (const std::exception&) {
      // A failing reader must not take the whole scrape down; NaN shows the gap on the dashboard.
    }
    append_value_sample(out, *this, label_values, value);
  }
}

/// Everything that identifies a family; two registrations match when all but help agree.
struct MetricsRegistry::Shape {
  MetricKind kind;
  bool is_callback;
  std::string name;
  std::string help;
  std::vector<std::string> label_names;
  std::vector<double> upper_bounds;

  [[nodiscard]] std::vector<std::string> sample_names() const {
    if (kind == MetricKind::kHistogram)
      return {name + "_bucket", name + "_sum", name + "_count"};
    return {name};
  }
};

namespace {

void validate(MetricKind kind, std::string_view name, const std::vector<std::string>& label_names) {
  if (!is_valid_metric_name(name))
    fail(fmt::format("invalid metric name '{}'", name));
  if (kind == MetricKind::kCounter && !name.ends_with("_total")) {
    fail(fmt::format("counter '{}' must be named ..._total", name));
  }
  for (std::size_t i = 0; i < label_names.size(); ++i) {
    const std::string& label = label_names[i];
    if (!is_valid_label_name(label))
      fail(fmt::format("metric {}: invalid label name '{}'", name, label));
    if (kind == MetricKind::kHistogram && label == "le") {
      fail(fmt::format("histogram {}: label 'le' is reserved for buckets", name));
    }
    if (std::find(label_names.begin(), label_names.begin() + static_cast<std::ptrdiff_t>(i), label) !=
        label_names.begin() + static_cast<std::ptrdiff_t>(i)) {
      fail(fmt::format("metric {}: label '{}' declared twice", name, label));
    }
  }
}

std::vector<double> validated_bounds(std::string_view name, std::span<const double> upper_bounds) {
  std::vector<double> bounds(upper_bounds.begin(), upper_bounds.end());
  if (!bounds.empty() && std::isinf(bounds.back()) && bounds.back() > 0)
    bounds.pop_back();
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    if (!std::isfinite(bounds[i]))
      fail(fmt::format("histogram {}: bucket bounds must be finite", name));
    if (i > 0 && !(bounds[i - 1] < bounds[i])) {
      fail(fmt::format("histogram {}: bucket bounds must be strictly increasing", name));
    }
  }
  return bounds;
}

}  // namespace

MetricsRegistry::MetricsRegistry() = default;
MetricsRegistry::~MetricsRegistry() = default;

detail::FamilyBase* MetricsRegistry::find_compatible(const Shape& shape) {
  const auto found = std::find_if(families_.begin(), families_.end(),
                                  [&](const auto& family) { return family->name() == shape.name; });
  if (found == families_.end())
    return nullptr;
  const detail::FamilyBase& existing = **found;
  if (existing.kind() != shape.kind || existing.is_callback() != shape.is_callback ||
      existing.label_names() != shape.label_names || existing.upper_bounds() != shape.upper_bounds) {
    fail(fmt::format("metric {} registered again with a different type, labels or buckets", shape.name));
  }
  return found->get();
}

void MetricsRegistry::check_sample_names_free(const Shape& shape) const {
  for (const std::string& sample_name : shape.sample_names()) {
    if (const auto taken = sample_names_.find(sample_name); taken != sample_names_.end()) {
      fail(fmt::format("metric {} would expose '{}', which metric {} already exposes", shape.name, sample_name,
                       taken->second));
    }
  }
}

template <typename FamilyType>
FamilyType& MetricsRegistry::get_or_add(Shape shape) {
  validate(shape.kind, shape.name, shape.label_names);
  const std::unique_lock lock(mutex_);
  if (detail::FamilyBase* existing = find_compatible(shape))
    return static_cast<FamilyType&>(*existing);
  check_sample_names_free(shape);
  for (std::string& sample_name : shape.sample_names())
    sample_names_.emplace(std::move(sample_name), shape.name);
  std::unique_ptr<FamilyType> family;
  if constexpr (std::is_same_v<FamilyType, CallbackFamily>) {
    family.reset(
        new CallbackFamily(shape.kind, std::move(shape.name), std::move(shape.help), std::move(shape.label_names)));
  } else {
    family.reset(new FamilyType(shape.kind, std::move(shape.name), std::move(shape.help), std::move(shape.label_names),
                                std::move(shape.upper_bounds)));
    // An unlabelled metric exists from the start and renders as zero before its first update.
    if (family->label_names().empty())
      family->with();
  }
  FamilyType& result = *family;
  families_.push_back(std::move(family));
  return result;
}

CounterFamily& MetricsRegistry::counter(std::string_view name, std::string_view help,
                                        std::vector<std::string> label_names) {
  return get_or_add<CounterFamily>(
      Shape{MetricKind::kCounter, false, std::string(name), std::string(help), std::move(label_names), {}});
}

GaugeFamily& MetricsRegistry::gauge(std::string_view name, std::string_view help,
                                    std::vector<std::string> label_names) {
  return get_or_add<GaugeFamily>(
      Shape{MetricKind::kGauge, false, std::string(name), std::string(help), std::move(label_names), {}});
}

HistogramFamily& MetricsRegistry::histogram(std::string_view name, std::string_view help,
                                            std::vector<std::string> label_names,
                                            std::span<const double> upper_bounds) {
  return get_or_add<HistogramFamily>(Shape{MetricKind::kHistogram, false, std::string(name), std::string(help),
                                           std::move(label_names), validated_bounds(name, upper_bounds)});
}

CallbackFamily& MetricsRegistry::callback_gauge_family(std::string_view name, std::string_view help,
                                                       std::vector<std::string> label_names) {
  return get_or_add<CallbackFamily>(
      Shape{MetricKind::kGauge, true, std::string(name), std::string(help), std::move(label_names), {}});
}

CallbackFamily& MetricsRegistry::callback_counter_family(std::string_view name, std::string_view help,
                                                         std::vector<std::string> label_names) {
  return get_or_add<CallbackFamily>(
      Shape{MetricKind::kCounter, true, std::string(name), std::string(help), std::move(label_names), {}});
}

void MetricsRegistry::callback_gauge(std::string_view name, std::string_view help, ValueCallback read) {
  callback_gauge_family(name, help, {}).set({}, std::move(read));
}

void MetricsRegistry::callback_counter(std::string_view name, std::string_view help, ValueCallback read) {
  callback_counter_family(name, help, {}).set({}, std::move(read));
}

std::string MetricsRegistry::render() const {
  std::string out;
  const std::shared_lock lock(mutex_);
  out.reserve(families_.size() * 256);
  for (const auto& family : families_)
    family->render(out);
  return out;
}

}  // namespace evolveai::obs
