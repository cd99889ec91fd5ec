#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace evolveai::obs {

/// Upper bounds (seconds) of the default latency histogram: 0.5 ms to 10 s, suited to HTTP handlers.
inline constexpr std::array<double, 14> kDefaultLatencyBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                                  0.1,    0.25,  0.5,    1.0,   2.5,  5.0,   10.0};

/// The Prometheus type a family is exposed as.
enum class MetricKind { kCounter, kGauge, kHistogram };

/// True when `name` matches the Prometheus metric name grammar `[a-zA-Z_:][a-zA-Z0-9_:]*`.
[[nodiscard]] bool is_valid_metric_name(std::string_view name) noexcept;

/// True when `name` matches the label name grammar `[a-zA-Z_][a-zA-Z0-9_]*` and is not reserved (`__` prefix).
[[nodiscard]] bool is_valid_label_name(std::string_view name) noexcept;

/// Formats a sample value the way Prometheus parses it: exact integers without exponent, NaN, +Inf, -Inf.
[[nodiscard]] std::string format_metric_value(double value);

/// A monotonically increasing value; updates are lock-free.
class Counter {
 public:
  /// Adds `amount`; negative or NaN amounts are ignored so the counter never goes down.
  void inc(double amount = 1.0) noexcept;
  /// The current value.
  [[nodiscard]] double value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

/// A value that goes up and down; updates are lock-free.
class Gauge {
 public:
  /// Replaces the value.
  void set(double value) noexcept { value_.store(value, std::memory_order_relaxed); }
  /// Adds `amount`.
  void inc(double amount = 1.0) noexcept;
  /// Subtracts `amount`.
  void dec(double amount = 1.0) noexcept;
  /// The current value.
  [[nodiscard]] double value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

/// A point-in-time copy of a histogram's state.
struct HistogramSnapshot {
  std::vector<double> upper_bounds;       ///< finite bounds; the +Inf bucket is implicit
  std::vector<std::uint64_t> cumulative;  ///< one per bound plus one for +Inf
  double sum = 0.0;
  std::uint64_t count = 0;  ///< equals cumulative.back()
};

/// Counts observations into fixed buckets; updates are lock-free.
class Histogram {
 public:
  /// `upper_bounds` must be finite, strictly increasing and outlive the histogram (its family owns them).
  explicit Histogram(std::span<const double> upper_bounds);

  /// Records one observation; NaN is ignored.
  void observe(double value) noexcept;
  /// A copy whose buckets are cumulative and whose count equals the +Inf bucket.
  [[nodiscard]] HistogramSnapshot snapshot() const;

 private:
  std::span<const double> upper_bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> bucket_counts_;  // per bucket, not cumulative; last is +Inf
  std::atomic<double> sum_{0.0};
};

namespace detail {

/// Orders label value tuples lexicographically; transparent so lookups need not allocate.
struct LabelValuesLess {
  using is_transparent = void;
  bool operator()(const std::vector<std::string>& a, const std::vector<std::string>& b) const noexcept;
  bool operator()(const std::vector<std::string>& a, std::span<const std::string_view> b) const noexcept;
  bool operator()(std::span<const std::string_view> a, const std::vector<std::string>& b) const noexcept;
};

/// What every family has in common: identity, shape and rendering.
class FamilyBase {
 public:
  virtual ~FamilyBase() = default;
  FamilyBase(const FamilyBase&) = delete;
  FamilyBase& operator=(const FamilyBase&) = delete;

  /// The metric name (for histograms, the base of `_bucket`, `_sum` and `_count`).
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  /// The HELP text, unescaped.
  [[nodiscard]] const std::string& help() const noexcept { return help_; }
  /// The exposed TYPE.
  [[nodiscard]] MetricKind kind() const noexcept { return kind_; }
  /// True when values come from callbacks at render time.
  [[nodiscard]] bool is_callback() const noexcept { return is_callback_; }
  /// Label names in the order `with()` takes their values.
  [[nodiscard]] const std::vector<std::string>& label_names() const noexcept { return label_names_; }
  /// Finite histogram bucket bounds; empty for other kinds.
  [[nodiscard]] const std::vector<double>& upper_bounds() const noexcept { return upper_bounds_; }

  /// Appends the family's HELP, TYPE and sample lines.
  void render(std::string& out) const;

 protected:
  FamilyBase(MetricKind kind, bool is_callback, std::string name, std::string help,
             std::vector<std::string> label_names, std::vector<double> upper_bounds);
  /// Throws std::logic_error unless `count` label values were given.
  void check_label_count(std::size_t count) const;
  /// Appends the sample lines only.
  virtual void render_samples(std::string& out) const = 0;

 private:
  MetricKind kind_;
  bool is_callback_;
  std::string name_;
  std::string help_;
  std::vector<std::string> label_names_;
  std::vector<double> upper_bounds_;
};

}  // namespace detail

/// All children of one metric name, one per tuple of label values.
template <typename Metric>
class Family final : public detail::FamilyBase {
 public:
  /// The child for these label values (in declared order), created on first use. The reference stays
  /// valid as long as the registry lives, so hot paths look it up once and then update it lock-free.
  /// Throws std::logic_error when the number of values differs from the number of label names.
  Metric& with(std::initializer_list<std::string_view> label_values = {});
  /// Same, for label values held in strings.
  Metric& with(std::span<const std::string> label_values);

 private:
  friend class MetricsRegistry;
  Family(MetricKind kind, std::string name, std::string help, std::vector<std::string> label_names,
         std::vector<double> upper_bounds);
  Metric& find_or_create(std::span<const std::string_view> label_values);
  void render_samples(std::string& out) const override;

  mutable std::shared_mutex mutex_;
  std::map<std::vector<std::string>, std::unique_ptr<Metric>, detail::LabelValuesLess> children_;
};

extern template class Family<Counter>;
extern template class Family<Gauge>;
extern template class Family<Histogram>;

using CounterFamily = Family<Counter>;
using GaugeFamily = Family<Gauge>;
using HistogramFamily = Family<Histogram>;

/// Reads a value at scrape time; it runs on the scraping thread under the registry's lock, so it must be
/// cheap, thread-safe and must not register metrics. An exception it throws renders as NaN.
using ValueCallback = std::function<double()>;

/// A gauge or counter family whose values are read by callbacks when the registry renders
/// (open connections, breaker states, pool usage, process figures).
class CallbackFamily final : public detail::FamilyBase {
 public:
  /// Sets (or replaces) the callback for these label values.
  void set(std::initializer_list<std::string_view> label_values, ValueCallback read);
  /// Removes the callback for these label values; once this returns the callback is never called again,
  /// so an owner destroyed before the registry calls this from its destructor.
  void remove(std::initializer_list<std::string_view> label_values);

 private:
  friend class MetricsRegistry;
  CallbackFamily(MetricKind kind, std::string name, std::string help, std::vector<std::string> label_names);
  void render_samples(std::string& out) const override;

  mutable std::shared_mutex mutex_;
  std::map<std::vector<std::string>, ValueCallback, detail::LabelValuesLess> callbacks_;
};

/// Every metric of the process, rendered as Prometheus text exposition format 0.0.4.
/// The composition root owns one and passes it by reference; families and children it hands out
/// live as long as it does. Registering the same name again with the same shape returns the same
/// family; a different shape, a bad name or a bad bucket list throws std::logic_error.
class MetricsRegistry {
 public:
  /// An empty registry.
  MetricsRegistry();
  /// Destroys every family; references handed out become dangling.
  ~MetricsRegistry();
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  /// A counter family; its name must end in `_total`.
  CounterFamily& counter(std::string_view name, std::string_view help, std::vector<std::string> label_names = {});
  /// A gauge family.
  GaugeFamily& gauge(std::string_view name, std::string_view help, std::vector<std::string> label_names = {});
  /// A histogram family with finite, strictly increasing bucket bounds (a trailing +Inf is implied and may be given).
  HistogramFamily& histogram(std::string_view name, std::string_view help, std::vector<std::string> label_names = {},
                             std::span<const double> upper_bounds = kDefaultLatencyBuckets);
  /// A gauge family whose values come from callbacks.
  CallbackFamily& callback_gauge_family(std::string_view name, std::string_view help,
                                        std::vector<std::string> label_names);
  /// A counter family whose values come from callbacks; its name must end in `_total`.
  CallbackFamily& callback_counter_family(std::string_view name, std::string_view help,
                                          std::vector<std::string> label_names);
  /// An unlabelled gauge read by `read` at render time.
  void callback_gauge(std::string_view name, std::string_view help, ValueCallback read);
  /// An unlabelled counter read by `read` at render time; its name must end in `_total`.
  void callback_counter(std::string_view name, std::string_view help, ValueCallback read);

  /// The text exposition of every family, in registration order, children sorted by label values.
  [[nodiscard]] std::string render() const;

 private:
  struct Shape;
  detail::FamilyBase* find_compatible(const Shape& shape);
  void check_sample_names_free(const Shape& shape) const;
  template <typename FamilyType>
  FamilyType& get_or_add(Shape shape);

  mutable std::shared_mutex mutex_;
  std::vector<std::unique_ptr<detail::FamilyBase>> families_;
  // Every sample name a family emits (histograms emit three) -> that family's name.
  std::map<std::string, std::string, std::less<>> sample_names_;
};

}  // namespace evolveai::obs
