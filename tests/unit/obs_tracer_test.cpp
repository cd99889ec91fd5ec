#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include <string>
#include <vector>

#include "fakes/fake_otlp_collector.hpp"
#include "obs/metrics.hpp"
#include "obs/otlp_json.hpp"
#include "obs/tracer.hpp"
#include "support/prometheus_parser.hpp"

namespace evolveai::obs {
namespace {

double dropped_spans(const MetricsRegistry& metrics) {
  const auto parsed = testing::parse_prometheus_text(metrics.render());
  return parsed.value("evolveai_trace_spans_dropped_total").value_or(-1.0);
}

TEST(Tracer, ChildSpansShareTheTraceAndPointAtTheirParent) {
  MetricsRegistry metrics;
  Tracer tracer({true, 16}, metrics);
  const auto incoming = TraceContext::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").value();
  TraceContext server_context;
  {
    auto server = tracer.start_span("POST /api/v1/chat", SpanKind::kServer, incoming);
    server_context = server.context();
    auto child = tracer.start_span("store.insert_message", SpanKind::kClient, server.context());
    child.set_string("db.statement.name", "insert_message");
    child.set_error("boom");
  }
  auto spans = tracer.take(10);
  ASSERT_EQ(spans.size(), 2U);
  // The child ended first.
  EXPECT_EQ(spans[0].name, "store.insert_message");
  EXPECT_EQ(spans[0].context.trace_id, incoming.trace_id);
  EXPECT_EQ(spans[0].parent_span_id, server_context.span_id);
  EXPECT_TRUE(spans[0].error);
  EXPECT_EQ(spans[1].parent_span_id, incoming.span_id);
  EXPECT_EQ(spans[1].kind, SpanKind::kServer);
  EXPECT_LE(spans[1].start_unix_nano, spans[1].end_unix_nano);
  EXPECT_TRUE(tracer.take(10).empty());
}

TEST(Tracer, WithoutExportItKeepsIdsButRecordsNothing) {
  MetricsRegistry metrics;
  Tracer tracer({false, 16}, metrics);
  const auto root = TraceContext::new_root();
  {
    auto span = tracer.start_span("work", SpanKind::kInternal, root);
    EXPECT_FALSE(span.recording());
    EXPECT_TRUE(span.context().valid());
    EXPECT_EQ(span.context().trace_id, root.trace_id);
  }
  EXPECT_EQ(tracer.queued(), 0U);
}

TEST(Tracer, AnUnsampledParentIsPropagatedButNotRecorded) {
  MetricsRegistry metrics;
  Tracer tracer({true, 16}, metrics);
  const auto parent = TraceContext::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00").value();
  {
    auto span = tracer.start_span("work", SpanKind::kServer, parent);
    EXPECT_FALSE(span.recording());
    EXPECT_FALSE(span.context().sampled);
  }
  EXPECT_EQ(tracer.queued(), 0U);
}

TEST(Tracer, AFullQueueDropsSpansAndCountsThem) {
  MetricsRegistry metrics;
  Tracer tracer({true, 2}, metrics);
  for (int i = 0; i < 5; ++i) {
    auto span = tracer.start_span("work", SpanKind::kInternal, TraceContext{});
  }
  EXPECT_EQ(tracer.queued(), 2U);
  EXPECT_EQ(dropped_spans(metrics), 3.0);
}

TEST(OtlpJson, EncodesSpansAsTheCollectorReadsThem) {
  SpanData span;
  span.context = TraceContext::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").value();
  span.parent_span_id = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};
  span.name = "model.generate";
  span.kind = SpanKind::kClient;
  span.start_unix_nano = 1700000000123456789ULL;
  span.end_unix_nano = 1700000000223456789ULL;
  span.attributes.push_back({"gen_ai.request.model", std::string("gemini:flash")});
  span.attributes.push_back({"gen_ai.usage.input_tokens", std::int64_t{42}});
  span.attributes.push_back({"chat.streamed", true});
  span.error = true;
  span.status_message = "upstream timeout";
  SpanData root;
  root.context = TraceContext::new_root();
  root.name = "GET /healthz";
  root.kind = SpanKind::kServer;
  const std::vector<SpanData> spans{span, root};

  const auto body = encode_otlp_traces(spans, "evolveai-test");

  const auto json = boost::json::parse(body);
  const auto& resource_spans = json.at("resourceSpans").as_array().at(0);
  const auto& scope_spans = resource_spans.at("scopeSpans").as_array().at(0);
  EXPECT_EQ(scope_spans.at("scope").at("name").as_string(), "evolveai");
  const auto& first = scope_spans.at("spans").as_array().at(0).as_object();
  // Times are decimal strings (64-bit integers in protobuf JSON), the kind is OTLP's number.
  EXPECT_EQ(first.at("startTimeUnixNano").as_string(), "1700000000123456789");
  EXPECT_EQ(first.at("kind").as_int64(), 3);
  EXPECT_EQ(first.at("status").at("code").as_int64(), 2);
  EXPECT_EQ(first.at("status").at("message").as_string(), "upstream timeout");

  const auto parsed = testing::parse_otlp_spans(body);
  ASSERT_EQ(parsed.size(), 2U);
  EXPECT_EQ(parsed[0].service_name, "evolveai-test");
  EXPECT_EQ(parsed[0].trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(parsed[0].span_id, "00f067aa0ba902b7");
  EXPECT_EQ(parsed[0].parent_span_id, "1122334455667788");
  EXPECT_EQ(parsed[0].name, "model.generate");
  EXPECT_EQ(parsed[0].end_time_unix_nano, "1700000000223456789");
  EXPECT_EQ(parsed[0].attributes.at("gen_ai.request.model"), "gemini:flash");
  EXPECT_EQ(parsed[0].attributes.at("gen_ai.usage.input_tokens"), "42");
  EXPECT_EQ(parsed[0].attributes.at("chat.streamed"), "true");
  // A root span has no parent id; a span that went well has status unset.
  EXPECT_EQ(parsed[1].parent_span_id, "");
  EXPECT_EQ(parsed[1].kind, 2);
  EXPECT_EQ(parsed[1].status_code, 0);
  EXPECT_EQ(parsed[1].trace_id, root.context.trace_id_hex());
}

}  // namespace
}  // namespace evolveai::obs
