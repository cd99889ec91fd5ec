#pragma once

#include <span>
#include <string>
#include <string_view>

#include "obs/tracer.hpp"

namespace evolveai::obs {

/// The scope name exported spans carry.
inline constexpr std::string_view kTraceScopeName = "evolveai";

/// An OTLP/HTTP JSON `ExportTraceServiceRequest` body for `spans` of one service: one resource
/// (`service.name`), one scope, ids as lowercase hex, times as decimal strings of nanoseconds.
[[nodiscard]] std::string encode_otlp_traces(std::span<const SpanData> spans, std::string_view service_name);

}  // namespace evolveai::obs
