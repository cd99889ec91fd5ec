#include "obs/sentry_envelope.hpp"

#include <fmt/format.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "core/time_format.hpp"

namespace evolveai::obs {
namespace {

constexpr std::string_view kRedacted = "[redacted]";

void redact(std::string& text, std::span<const std::string> secrets) {
  for (const auto& secret : secrets) {
    if (secret.empty()) {
      continue;
    }
    for (auto at = text.find(secret); at != std::string::npos; at = text.find(secret, at + kRedacted.size())) {
      text.replace(at, secret.size(), kRedacted);
    }
  }
}

}  // namespace

std::string new_event_id(std::mt19937_64& random) {
  const std::uint64_t high = random();
  std::uint64_t low = random();
  // Version 4 in the high word's nibble 12, variant 10xx in the low word's top bits.
  const std::uint64_t versioned = (high & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;
  low = (low & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
  return fmt::format("{:016x}{:016x}", versioned, low);
}

ErrorReport scrub_report(ErrorReport report, std::span<const std::string> secrets) {
  if (const auto query = report.request_url.find_first_of("?#"); query != std::string::npos) {
    report.request_url.resize(query);
  }
  redact(report.message, secrets);
  redact(report.exception_type, secrets);
  redact(report.exception_value, secrets);
  redact(report.request_url, secrets);
  for (auto& [name, value] : report.tags) {
    redact(value, secrets);
  }
  return report;
}

std::string encode_envelope(const ErrorReport& report, const SentryEventContext& context, std::string_view event_id,
                            std::chrono::system_clock::time_point now) {
  const std::string timestamp = core::format_rfc3339(now);
  boost::json::object event;
  event["event_id"] = event_id;
  event["timestamp"] = timestamp;
  event["platform"] = "native";
  event["level"] = "error";
  event["logger"] = report.logger;
  event["release"] = context.release;
  event["environment"] = context.environment;
  event["server_name"] = context.server_name;
  if (!report.exception_type.empty() || !report.exception_value.empty()) {
    boost::json::object exception;
    exception["type"] = report.exception_type.empty() ? std::string("error") : report.exception_type;
    exception["value"] = report.exception_value;
    boost::json::array values;
    values.emplace_back(std::move(exception));
    boost::json::object exceptions;
    exceptions["values"] = std::move(values);
    event["exception"] = std::move(exceptions);
  }
  if (!report.message.empty()) {
    event["message"] = report.message;
  }
  boost::json::object tags;
  for (const auto& [name, value] : report.tags) {
    tags[name] = value;
  }
  event["tags"] = std::move(tags);
  if (!report.request_method.empty() || !report.request_url.empty()) {
    boost::json::object request;
    request["method"] = report.request_method;
    request["url"] = report.request_url;
    event["request"] = std::move(request);
  }
  const std::string payload = boost::json::serialize(event);

  boost::json::object envelope_header;
  envelope_header["event_id"] = event_id;
  envelope_header["sent_at"] = timestamp;
  envelope_header["dsn"] = context.dsn;
  boost::json::object item_header;
  item_header["type"] = "event";
  item_header["length"] = payload.size();
  return fmt::format("{}\n{}\n{}\n", boost::json::serialize(envelope_header), boost::json::serialize(item_header),
                     payload);
}

}  // namespace evolveai::obs
