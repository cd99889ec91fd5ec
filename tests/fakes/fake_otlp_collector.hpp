#pragma once

#include <map>
#include <string>
#include <vector>

#include "fakes/fake_upstream.hpp"

namespace evolveai::testing {

/// One span as an OTLP/HTTP JSON export carried it.
struct CollectedSpan {
  std::string service_name;  ///< the resource's `service.name`
  std::string scope_name;
  std::string trace_id;
  std::string span_id;
  std::string parent_span_id;  ///< "" for a root span
  std::string name;
  int kind = 0;
  std::string start_time_unix_nano;
  std::string end_time_unix_nano;
  std::map<std::string, std::string> attributes;  ///< every value as text (ints as their digits)
  int status_code = 0;
};

/// A fake OpenTelemetry collector (OTLP/HTTP JSON, `POST /v1/traces`) on 127.0.0.1, port 0:
/// it records every export and answers 200 `{}`, or `failure_status` when one is set.
class FakeOtlpCollector : public FakeUpstream {
 public:
  /// `failure_status` 0: accept every export; else answer every export with that status.
  explicit FakeOtlpCollector(int failure_status = 0);

  /// The `observability.otlp_endpoint` to configure: "http://127.0.0.1:PORT".
  [[nodiscard]] std::string endpoint() const { return origin(); }
  /// Every span of every export received so far, in arrival order. Throws on a body that is
  /// not an OTLP JSON export (so a wrong encoding fails the test).
  [[nodiscard]] std::vector<CollectedSpan> spans() const;
  /// The spans of one trace.
  [[nodiscard]] std::vector<CollectedSpan> spans_of_trace(const std::string& trace_id) const;
};

/// Parses one OTLP/HTTP JSON `ExportTraceServiceRequest` body into its spans.
std::vector<CollectedSpan> parse_otlp_spans(const std::string& body);

}  // namespace evolveai::testing
