// Tracing end to end: a chat turn (unary and streamed) through HTTP with the fake Gemini as its
// model and a fake OTLP collector receiving the spans: one connected trace per turn, rooted at
// the server span, whose ids also reach the model as `traceparent`.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <chrono>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "fakes/fake_otlp_collector.hpp"
#include "net/http_client.hpp"
#include "net/otlp_exporter.hpp"
#include "obs/logger.hpp"
#include "obs/metrics.hpp"
#include "obs/trace_context.hpp"
#include "obs/tracer.hpp"
#include "support/chat_test_env.hpp"
#include "support/prometheus_parser.hpp"

namespace evolveai {
namespace {

using namespace std::chrono_literals;
using testing::ChatAppTest;
using testing::CollectedSpan;
using testing::FakeGemini;

constexpr const char* kIncomingTraceId = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr const char* kIncomingSpanId = "00f067aa0ba902b7";
constexpr const char* kIncoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
constexpr int kServerKind = 2;
constexpr int kClientKind = 3;

/// The spans of a chat turn's trace, by name, checked to form one tree under the server span.
struct TurnTrace {
  std::vector<CollectedSpan> spans;

  [[nodiscard]] std::multiset<std::string> names() const {
    std::multiset<std::string> out;
    for (const auto& span : spans) {
      out.insert(span.name);
    }
    return out;
  }

  [[nodiscard]] const CollectedSpan* find(const std::string& name) const {
    for (const auto& span : spans) {
      if (span.name == name) {
        return &span;
      }
    }
    return nullptr;
  }
};

/// Asserts that every span of `trace` reaches `root` through parent links and that `root`'s own
/// parent is `root_parent` ("" for a new trace).
void expect_one_tree(const TurnTrace& trace, const CollectedSpan& root, const std::string& root_parent) {
  EXPECT_EQ(root.parent_span_id, root_parent);
  std::map<std::string, const CollectedSpan*> by_id;
  for (const auto& span : trace.spans) {
    EXPECT_TRUE(by_id.emplace(span.span_id, &span).second) << "span id used twice: " << span.span_id;
  }
  for (const auto& span : trace.spans) {
    const CollectedSpan* at = &span;
    std::size_t hops = 0;
    while (at->span_id != root.span_id && hops++ < trace.spans.size()) {
      const auto parent = by_id.find(at->parent_span_id);
      ASSERT_NE(parent, by_id.end()) << span.name << " does not reach the server span (missing parent "
                                     << at->parent_span_id << " of " << at->name << ")";
      at = parent->second;
    }
    EXPECT_EQ(at->span_id, root.span_id) << span.name;
  }
}

class Tracing : public ChatAppTest {
 protected:
  void SetUp() override {
    ChatAppTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) {
      return;
    }
    config_.observability.otlp_endpoint = collector_.endpoint();
    config_.observability.otlp_flush_interval = 100ms;
  }

  /// The spans of `trace_id` the collector holds (call after stop(): the exporter flushes on shutdown).
  TurnTrace trace_of(const std::string& trace_id) { return TurnTrace{collector_.spans_of_trace(trace_id)}; }

  /// The server span of the last POST /api/v1/chat the collector received.
  std::optional<CollectedSpan> chat_server_span() {
    std::optional<CollectedSpan> found;
    for (const auto& span : collector_.spans()) {
      if (span.name == "POST /api/v1/chat") {
        found = span;
      }
    }
    return found;
  }

  /// The `traceparent` the fake Gemini received with its last request, parsed.
  std::optional<obs::TraceContext> model_traceparent() {
    const auto requests = gemini_.requests();
    if (requests.empty()) {
      return std::nullopt;
    }
    return obs::TraceContext::parse(requests.back().header("traceparent"));
  }

  testing::FakeOtlpCollector collector_;
};

TEST_P(Tracing, ATurnWithATraceparentIsOneTraceUnderTheCallersSpan) {
  start();
  const auto token = sign_in(7001);
  gemini_.enqueue(FakeGemini::text_reply("Traced hello.", 7, 5));
  const auto reply = testing::post_chat(port(), token, {{"message", "Hello, tracing"}}, {{"traceparent", kIncoming}});
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->status, 200) << reply->body;
  stop();

  const auto trace = trace_of(kIncomingTraceId);
  const auto names = trace.names();
  for (const auto* name : {"POST /api/v1/chat", "chat.prepare", "store.insert_message", "store.take_quota_unit",
                           "store.load_turn_context", "model.generate", "chat.store_reply", "chat.reply"}) {
    EXPECT_TRUE(names.contains(name)) << "no span " << name;
  }
  const auto* server = trace.find("POST /api/v1/chat");
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(server->kind, kServerKind);
  EXPECT_EQ(server->service_name, "evolveai");
  EXPECT_EQ(server->attributes.at("http.route"), "/api/v1/chat");
  EXPECT_EQ(server->attributes.at("http.status_code"), "200");
  EXPECT_TRUE(server->attributes.contains("enduser.id"));
  expect_one_tree(trace, *server, kIncomingSpanId);

  const auto* model = trace.find("model.generate");
  ASSERT_NE(model, nullptr);
  EXPECT_EQ(model->kind, kClientKind);
  EXPECT_NE(model->attributes.at("gen_ai.request.model").find("gemini"), std::string::npos);
  EXPECT_EQ(model->attributes.at("gen_ai.usage.input_tokens"), "7");
  EXPECT_EQ(model->attributes.at("gen_ai.usage.output_tokens"), "5");
  const auto* statement = trace.find("store.take_quota_unit");
  ASSERT_NE(statement, nullptr);
  EXPECT_EQ(statement->attributes.at("db.statement.name"), "take_quota_unit");

  // The model was called in the same trace, with the model span as the parent.
  const auto sent = model_traceparent();
  ASSERT_TRUE(sent) << "the fake Gemini got no valid traceparent";
  EXPECT_EQ(sent->trace_id_hex(), kIncomingTraceId);
  EXPECT_EQ(sent->span_id_hex(), model->span_id);
}

TEST_P(Tracing, ATurnWithoutATraceparentStartsATraceOfItsOwn) {
  start();
  const auto token = sign_in(7002);
  gemini_.enqueue(FakeGemini::text_reply("A new trace."));
  const auto reply = testing::post_chat(port(), token, {{"message", "No header here"}});
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->status, 200) << reply->body;
  stop();

  const auto server = chat_server_span();
  ASSERT_TRUE(server);
  EXPECT_NE(server->trace_id, kIncomingTraceId);
  const auto trace = trace_of(server->trace_id);
  EXPECT_TRUE(trace.find("model.generate") != nullptr);
  expect_one_tree(trace, *server, "");
  const auto sent = model_traceparent();
  ASSERT_TRUE(sent);
  EXPECT_EQ(sent->trace_id_hex(), server->trace_id);
}

TEST_P(Tracing, AMalformedTraceparentIsIgnored) {
  start();
  const auto token = sign_in(7003);
  gemini_.enqueue(FakeGemini::text_reply("Still fine."));
  // Upper-case hex is not allowed by the specification.
  const auto reply = testing::post_chat(port(), token, {{"message", "Odd header"}},
                                        {{"traceparent", "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01"}});
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->status, 200) << reply->body;
  stop();

  const auto server = chat_server_span();
  ASSERT_TRUE(server);
  EXPECT_EQ(server->parent_span_id, "");
  EXPECT_NE(server->trace_id, kIncomingTraceId);
  expect_one_tree(trace_of(server->trace_id), *server, "");
}

TEST_P(Tracing, AStreamedTurnIsOneConnectedTraceToo) {
  start();
  const auto token = sign_in(7004);
  gemini_.enqueue(FakeGemini::stream_reply({"Streamed ", "and ", "traced."}));
  const auto reply =
      testing::post_chat(port(), token, {{"message", "Stream it"}, {"stream", true}}, {{"traceparent", kIncoming}});
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->status, 200) << reply->body;
  const auto events = testing::parse_sse(testing::joined_chunks(*reply));
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().event, "end");
  stop();

  const auto trace = trace_of(kIncomingTraceId);
  const auto names = trace.names();
  for (const auto* name : {"POST /api/v1/chat", "chat.prepare", "store.load_turn_context", "model.stream",
                           "chat.store_reply", "chat.reply"}) {
    EXPECT_TRUE(names.contains(name)) << "no span " << name;
  }
  const auto* server = trace.find("POST /api/v1/chat");
  ASSERT_NE(server, nullptr);
  expect_one_tree(trace, *server, kIncomingSpanId);
  // The server span lasts until the stream is written.
  const auto* written = trace.find("chat.reply");
  ASSERT_NE(written, nullptr);
  EXPECT_GE(std::stoull(server->end_time_unix_nano), std::stoull(written->end_time_unix_nano));
  const auto* model = trace.find("model.stream");
  ASSERT_NE(model, nullptr);
  const auto sent = model_traceparent();
  ASSERT_TRUE(sent);
  EXPECT_EQ(sent->trace_id_hex(), kIncomingTraceId);
  EXPECT_EQ(sent->span_id_hex(), model->span_id);
}

TEST_P(Tracing, WithoutACollectorIdsStillReachTheModel) {
  config_.observability.otlp_endpoint.clear();
  start();
  const auto token = sign_in(7005);
  gemini_.enqueue(FakeGemini::text_reply("Untraced but linked."));
  const auto reply = testing::post_chat(port(), token, {{"message", "Hi"}}, {{"traceparent", kIncoming}});
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->status, 200) << reply->body;
  stop();

  EXPECT_EQ(collector_.request_count(), 0U);
  const auto sent = model_traceparent();
  ASSERT_TRUE(sent);
  EXPECT_EQ(sent->trace_id_hex(), kIncomingTraceId);
  EXPECT_NE(sent->span_id_hex(), kIncomingSpanId);
}

TEST_P(Tracing, AFailingCollectorLeavesRequestsAloneAndIsCounted) {
  testing::FakeOtlpCollector failing(503);
  config_.observability.otlp_endpoint = failing.endpoint();
  start();
  const auto token = sign_in(7006);
  gemini_.enqueue(FakeGemini::text_reply("Fine anyway."));
  const auto reply = testing::post_chat(port(), token, {{"message", "Collector is down"}});
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200) << reply->body;

  // The exporter posts every flush interval; wait for the failure to be counted.
  ASSERT_TRUE(failing.wait_for_requests(1, 10s));
  double failures = 0;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (failures < 1 && std::chrono::steady_clock::now() < deadline) {
    const auto scraped = testing::http_request(port(), "GET", "/metrics");
    ASSERT_TRUE(scraped);
    failures = testing::parse_prometheus_text(scraped->body).value("evolveai_trace_export_failures_total").value_or(0);
    if (failures < 1) {
      std::this_thread::sleep_for(20ms);
    }
  }
  EXPECT_GE(failures, 1.0);
  // Requests keep working while exports fail.
  gemini_.enqueue(FakeGemini::text_reply("Still fine."));
  const auto again = testing::post_chat(port(), token, {{"message", "And again"}});
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200) << again->body;
  stop();
}

INSTANTIATE_TEST_SUITE_P(Engines, Tracing, ::testing::Values(testing::Engine::kSqlite, testing::Engine::kPostgres),
                         testing::engine_param_name);

}  // namespace
}  // namespace evolveai

namespace evolveai {
namespace {

/// An exporter with its own io_context; the client goes before the context it ran on.
class TracingExporter : public ::testing::Test {
 protected:
  /// Runs `exporter.flush()` to completion against `endpoint`; returns what it said.
  bool flush_to(const std::string& endpoint) {
    net::OtlpExporterOptions options;
    options.endpoint = endpoint + "/";  // a trailing slash is not doubled
    options.service_name = "evolveai-exporter-test";
    options.batch_size = 2;
    boost::asio::io_context io;
    bool flushed = false;
    {
      net::OtlpExporter exporter(tracer_, options, std::make_shared<net::HttpClient>(), logger_, metrics_);
      auto future = boost::asio::co_spawn(io, exporter.flush(), boost::asio::use_future);
      io.run();
      flushed = future.get();
    }
    return flushed;
  }

  void finish_spans(int count) {
    for (int i = 0; i < count; ++i) {
      auto span = tracer_.start_span("work " + std::to_string(i), obs::SpanKind::kInternal, obs::TraceContext{});
      span.set_int("index", i);
    }
  }

  double metric(const std::string& name) {
    return testing::parse_prometheus_text(metrics_.render()).value(name).value_or(-1.0);
  }

  std::ostringstream log_;
  obs::Logger logger_{obs::LogLevel::kInfo, obs::Logger::Format::kJson, log_};
  obs::MetricsRegistry metrics_;
  obs::Tracer tracer_{obs::TracerOptions{true, 100}, metrics_};
};

TEST_F(TracingExporter, PostsEveryQueuedSpanInBatchesAsOtlpJson) {
  testing::FakeOtlpCollector collector;
  finish_spans(5);
  EXPECT_TRUE(flush_to(collector.endpoint()));
  EXPECT_EQ(collector.request_count(), 3U);  // batches of 2, 2 and 1
  const auto spans = collector.spans();
  ASSERT_EQ(spans.size(), 5U);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(spans[i].name, "work " + std::to_string(i));
    EXPECT_EQ(spans[i].service_name, "evolveai-exporter-test");
    EXPECT_EQ(spans[i].scope_name, "evolveai");
    EXPECT_EQ(spans[i].attributes.at("index"), std::to_string(i));
  }
  EXPECT_EQ(collector.requests().front().path, "/v1/traces");
  EXPECT_EQ(metric("evolveai_trace_spans_exported_total"), 5.0);
  EXPECT_EQ(tracer_.queued(), 0U);
}

TEST_F(TracingExporter, AFailedExportIsCountedAndLoggedOnce) {
  testing::FakeOtlpCollector failing(500);
  finish_spans(5);
  EXPECT_FALSE(flush_to(failing.endpoint()));
  EXPECT_EQ(metric("evolveai_trace_export_failures_total"), 1.0);
  EXPECT_EQ(metric("evolveai_trace_spans_exported_total"), 0.0);
  const auto log = log_.str();
  EXPECT_NE(log.find("trace_export_failed"), std::string::npos);
  EXPECT_EQ(log.find("trace_export_failed"), log.rfind("trace_export_failed"));
}

}  // namespace
}  // namespace evolveai
