#include "fakes/fake_otlp_collector.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <stdexcept>

namespace evolveai::testing {
namespace {

namespace json = boost::json;

std::string text_of(const json::value& any_value) {
  const auto& value = any_value.as_object();
  if (const auto* text = value.if_contains("stringValue")) {
    return std::string(text->as_string());
  }
  if (const auto* integer = value.if_contains("intValue")) {
    // Protobuf JSON gives 64-bit integers as strings; accept numbers too.
    return integer->is_string() ? std::string(integer->as_string()) : json::serialize(*integer);
  }
  if (const auto* boolean = value.if_contains("boolValue")) {
    return boolean->as_bool() ? "true" : "false";
  }
  if (const auto* real = value.if_contains("doubleValue")) {
    return json::serialize(*real);
  }
  throw std::runtime_error("unsupported attribute value: " + json::serialize(any_value));
}

std::string optional_string(const json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  return value == nullptr ? std::string() : std::string(value->as_string());
}

}  // namespace

std::vector<CollectedSpan> parse_otlp_spans(const std::string& body) {
  std::vector<CollectedSpan> out;
  const auto root = json::parse(body).as_object();
  for (const auto& resource_spans : root.at("resourceSpans").as_array()) {
    std::string service;
    for (const auto& attribute : resource_spans.at("resource").at("attributes").as_array()) {
      if (attribute.at("key").as_string() == "service.name") {
        service = text_of(attribute.at("value"));
      }
    }
    for (const auto& scope_spans : resource_spans.at("scopeSpans").as_array()) {
      const auto scope = std::string(scope_spans.at("scope").at("name").as_string());
      for (const auto& item : scope_spans.at("spans").as_array()) {
        const auto& span = item.as_object();
        CollectedSpan collected;
        collected.service_name = service;
        collected.scope_name = scope;
        collected.trace_id = std::string(span.at("traceId").as_string());
        collected.span_id = std::string(span.at("spanId").as_string());
        collected.parent_span_id = optional_string(span, "parentSpanId");
        collected.name = std::string(span.at("name").as_string());
        collected.kind = static_cast<int>(span.at("kind").as_int64());
        collected.start_time_unix_nano = std::string(span.at("startTimeUnixNano").as_string());
        collected.end_time_unix_nano = std::string(span.at("endTimeUnixNano").as_string());
        for (const auto& attribute : span.at("attributes").as_array()) {
          collected.attributes[std::string(attribute.at("key").as_string())] = text_of(attribute.at("value"));
        }
        if (const auto* status = span.if_contains("status")) {
          if (const auto* code = status->as_object().if_contains("code")) {
            collected.status_code = static_cast<int>(code->as_int64());
          }
        }
        out.push_back(std::move(collected));
      }
    }
  }
  return out;
}

FakeOtlpCollector::FakeOtlpCollector(int failure_status) {
  set_responder([failure_status](const RecordedRequest& request) {
    if (request.method != "POST" || request.path != "/v1/traces") {
      return FakeReply::json(404, R"({"error":"not found"})");
    }
    if (failure_status != 0) {
      return FakeReply::json(failure_status, R"({"error":"collector failure"})");
    }
    return FakeReply::json(200, "{}");
  });
}

std::vector<CollectedSpan> FakeOtlpCollector::spans() const {
  std::vector<CollectedSpan> out;
  for (const auto& request : requests()) {
    if (request.path != "/v1/traces") {
      continue;
    }
    if (request.header("content-type") != "application/json") {
      throw std::runtime_error("an export without Content-Type application/json");
    }
    auto spans = parse_otlp_spans(request.body);
    out.insert(out.end(), spans.begin(), spans.end());
  }
  return out;
}

std::vector<CollectedSpan> FakeOtlpCollector::spans_of_trace(const std::string& trace_id) const {
  std::vector<CollectedSpan> out;
  for (auto& span : spans()) {
    if (span.trace_id == trace_id) {
      out.push_back(std::move(span));
    }
  }
  return out;
}

}  // namespace evolveai::testing
