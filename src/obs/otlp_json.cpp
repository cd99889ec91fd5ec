#include "obs/otlp_json.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>

namespace evolveai::obs {
namespace {

namespace json = boost::json;

/// OTLP `Status.code`: unset or error (spans that went well stay unset, as the specification advises).
constexpr int kStatusUnset = 0;
constexpr int kStatusError = 2;

json::object any_value(const SpanAttribute::Value& value) {
  json::object out;
  if (const auto* text = std::get_if<std::string>(&value)) {
    out["stringValue"] = *text;
  } else if (const auto* integer = std::get_if<std::int64_t>(&value)) {
    // Protobuf's JSON mapping writes 64-bit integers as strings.
    out["intValue"] = std::to_string(*integer);
  } else if (const auto* real = std::get_if<double>(&value)) {
    out["doubleValue"] = *real;
  } else {
    out["boolValue"] = std::get<bool>(value);
  }
  return out;
}

json::object key_value(std::string_view key, json::object value) {
  json::object out;
  out["key"] = key;
  out["value"] = std::move(value);
  return out;
}

json::object span_json(const SpanData& span) {
  json::object out;
  out["traceId"] = span.context.trace_id_hex();
  out["spanId"] = span.context.span_id_hex();
  const bool has_parent =
      std::any_of(span.parent_span_id.begin(), span.parent_span_id.end(), [](std::uint8_t b) { return b != 0; });
  if (has_parent) {
    out["parentSpanId"] = to_hex(span.parent_span_id.data(), span.parent_span_id.size());
  }
  out["name"] = span.name;
  out["kind"] = static_cast<int>(span.kind);
  out["startTimeUnixNano"] = std::to_string(span.start_unix_nano);
  out["endTimeUnixNano"] = std::to_string(span.end_unix_nano);
  json::array attributes;
  attributes.reserve(span.attributes.size());
  for (const auto& attribute : span.attributes) {
    attributes.push_back(key_value(attribute.key, any_value(attribute.value)));
  }
  out["attributes"] = std::move(attributes);
  json::object status;
  status["code"] = span.error ? kStatusError : kStatusUnset;
  if (span.error && !span.status_message.empty()) {
    status["message"] = span.status_message;
  }
  out["status"] = std::move(status);
  return out;
}

}  // namespace

std::string encode_otlp_traces(std::span<const SpanData> spans, std::string_view service_name) {
  json::array span_list;
  span_list.reserve(spans.size());
  for (const auto& span : spans) {
    span_list.push_back(span_json(span));
  }
  json::object service_value;
  service_value["stringValue"] = service_name;
  json::object resource;
  json::array resource_attributes;
  resource_attributes.push_back(key_value("service.name", std::move(service_value)));
  resource["attributes"] = std::move(resource_attributes);
  json::object scope;
  scope["name"] = kTraceScopeName;
  json::object scope_spans;
  scope_spans["scope"] = std::move(scope);
  scope_spans["spans"] = std::move(span_list);
  json::object resource_spans;
  resource_spans["resource"] = std::move(resource);
  json::array scope_list;
  scope_list.push_back(std::move(scope_spans));
  resource_spans["scopeSpans"] = std::move(scope_list);
  json::array resource_list;
  resource_list.push_back(std::move(resource_spans));
  json::object body;
  body["resourceSpans"] = std::move(resource_list);
  return json::serialize(body);
}

}  // namespace evolveai::obs
