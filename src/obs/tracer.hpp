#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "obs/trace_context.hpp"

namespace evolveai::obs {

class Counter;
class MetricsRegistry;

/// What a span stands for, with the numbers OTLP gives them.
enum class SpanKind : int { kInternal = 1, kServer = 2, kClient = 3 };

/// One key/value of a span (`http.route`, `enduser.id`, `gen_ai.request.model`, …).
struct SpanAttribute {
  using Value = std::variant<std::string, std::int64_t, double, bool>;
  std::string key;
  Value value;
};

/// A finished span as it is exported.
struct SpanData {
  TraceContext context;
  std::array<std::uint8_t, 8> parent_span_id{};  ///< all zero: a root span
  std::string name;
  SpanKind kind = SpanKind::kInternal;
  std::uint64_t start_unix_nano = 0;
  std::uint64_t end_unix_nano = 0;
  std::vector<SpanAttribute> attributes;
  bool error = false;
  std::string status_message;
};

class Tracer;

/// A span in progress. It always has ids (so they can be propagated); it records attributes
/// and is queued for export only when its tracer exports and the trace is sampled. Ends on
/// end() or when destroyed, whichever comes first; move-only.
class Span {
 public:
  /// A span that records nothing and has no ids.
  Span() = default;
  ~Span();
  Span(Span&& other) noexcept;
  Span& operator=(Span&& other) noexcept;
  Span(const Span&) = delete;
  Span& operator=(const Span&) = delete;

  /// The ids to hand to children and to send in `traceparent`.
  [[nodiscard]] const TraceContext& context() const noexcept { return context_; }
  /// True when attributes are kept and the span will be exported.
  [[nodiscard]] bool recording() const noexcept { return data_ != nullptr; }

  /// Renames the span (when the name is only known later, e.g. the route).
  void set_name(std::string_view name);
  /// Sets a text attribute (ignored when not recording).
  void set_string(std::string_view key, std::string_view value);
  /// Sets an integer attribute (ignored when not recording).
  void set_int(std::string_view key, std::int64_t value);
  /// Sets a boolean attribute (ignored when not recording).
  void set_bool(std::string_view key, bool value);
  /// Marks the span failed with a short description.
  void set_error(std::string_view message);
  /// Ends the span now and queues it for export; later calls do nothing.
  void end();

 private:
  friend class Tracer;
  Span(Tracer* tracer, TraceContext context, std::unique_ptr<SpanData> data)
      : tracer_(tracer), context_(context), data_(std::move(data)) {}

  Tracer* tracer_ = nullptr;
  TraceContext context_;
  std::unique_ptr<SpanData> data_;
};

/// How the tracer records.
struct TracerOptions {
  bool export_enabled = false;   ///< false: ids only, nothing is recorded (no `otlp_endpoint`)
  std::size_t max_queue = 4096;  ///< finished spans waiting for export; more are dropped and counted
};

/// Starts spans and holds the finished ones in a bounded queue until the exporter takes them.
/// Built once by the composition root and passed to whoever opens spans; thread-safe.
class Tracer {
 public:
  Tracer(TracerOptions options, MetricsRegistry& metrics);
  Tracer(const Tracer&) = delete;
  Tracer& operator=(const Tracer&) = delete;
  ~Tracer();

  /// Starts a span: a child of `parent` when it is valid, else the root of a new trace.
  [[nodiscard]] Span start_span(std::string_view name, SpanKind kind, const TraceContext& parent);
  /// True when spans are recorded for export.
  [[nodiscard]] bool exporting() const noexcept { return options_.export_enabled; }
  /// Takes up to `max` finished spans, oldest first.
  [[nodiscard]] std::vector<SpanData> take(std::size_t max);
  /// Finished spans waiting now.
  [[nodiscard]] std::size_t queued() const;

 private:
  friend class Span;
  void finish(std::unique_ptr<SpanData> span);

  TracerOptions options_;
  Counter& dropped_;
  mutable std::mutex mutex_;
  std::deque<SpanData> queue_;
};

/// Nanoseconds since the Unix epoch, now.
[[nodiscard]] std::uint64_t unix_nanos_now() noexcept;

}  // namespace evolveai::obs
