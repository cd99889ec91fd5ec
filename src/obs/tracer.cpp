#include "obs/tracer.hpp"

#include <algorithm>
#include <chrono>
#include <utility>

#include "obs/metrics.hpp"

namespace evolveai::obs {

std::uint64_t unix_nanos_now() noexcept {
  const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch).count());
}

Span::~Span() {
  end();
}

Span::Span(Span&& other) noexcept
    : tracer_(std::exchange(other.tracer_, nullptr)), context_(other.context_), data_(std::move(other.data_)) {}

Span& Span::operator=(Span&& other) noexcept {
  if (this != &other) {
    end();
    tracer_ = std::exchange(other.tracer_, nullptr);
    context_ = other.context_;
    data_ = std::move(other.data_);
  }
  return *this;
}

void Span::set_name(std::string_view name) {
  if (data_) {
    data_->name = std::string(name);
  }
}

void Span::set_string(std::string_view key, std::string_view value) {
  if (data_) {
    data_->attributes.push_back(SpanAttribute{std::string(key), std::string(value)});
  }
}

void Span::set_int(std::string_view key, std::int64_t value) {
  if (data_) {
    data_->attributes.push_back(SpanAttribute{std::string(key), value});
  }
}

void Span::set_bool(std::string_view key, bool value) {
  if (data_) {
    data_->attributes.push_back(SpanAttribute{std::string(key), value});
  }
}

void Span::set_error(std::string_view message) {
  if (data_) {
    data_->error = true;
    data_->status_message = std::string(message);
  }
}

void Span::end() {
  if (data_ && tracer_ != nullptr) {
    data_->end_unix_nano = unix_nanos_now();
    tracer_->finish(std::move(data_));
  }
  data_.reset();
  tracer_ = nullptr;
}

Tracer::Tracer(TracerOptions options, MetricsRegistry& metrics)
    : options_(options),
      dropped_(metrics
                   .counter("evolveai_trace_spans_dropped_total",
                            "Finished spans dropped because the export queue was full", {})
                   .with()) {}

Tracer::~Tracer() = default;

Span Tracer::start_span(std::string_view name, SpanKind kind, const TraceContext& parent) {
  const bool has_parent = parent.valid();
  const TraceContext context = has_parent ? parent.child() : TraceContext::new_root();
  if (!options_.export_enabled || !context.sampled) {
    return Span(nullptr, context, nullptr);
  }
  auto data = std::make_unique<SpanData>();
  data->context = context;
  if (has_parent) {
    data->parent_span_id = parent.span_id;
  }
  data->name = std::string(name);
  data->kind = kind;
  data->start_unix_nano = unix_nanos_now();
  return Span(this, context, std::move(data));
}

std::vector<SpanData> Tracer::take(std::size_t max) {
  std::vector<SpanData> out;
  const std::scoped_lock lock(mutex_);
  const std::size_t count = std::min(max, queue_.size());
  out.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    out.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  return out;
}

std::size_t Tracer::queued() const {
  const std::scoped_lock lock(mutex_);
  return queue_.size();
}

void Tracer::finish(std::unique_ptr<SpanData> span) {
  {
    const std::scoped_lock lock(mutex_);
    if (queue_.size() < options_.max_queue) {
      queue_.push_back(std::move(*span));
      return;
    }
  }
  dropped_.inc();
}

}  // namespace evolveai::obs
