#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <latch>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "obs/metrics.hpp"
#include "obs/process_metrics.hpp"
#include "support/prometheus_parser.hpp"

namespace evolveai::obs {
namespace {

namespace prom = evolveai::testing;

prom::ParsedMetrics scrape(const MetricsRegistry& registry) {
  return prom::parse_prometheus_text(registry.render());
}

/// The parse error `text` produces, or nullopt (and a test failure) when it parses.
std::optional<prom::MetricsParseError> parse_error(std::string_view text) {
  try {
    (void)prom::parse_prometheus_text(text);
  } catch (const prom::MetricsParseError& error) {
    return error;
  }
  ADD_FAILURE() << "parsed without error:\n" << text;
  return std::nullopt;
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

TEST(MetricsRegistry, CounterRendersAndParsesBackWithItsValue) {
  MetricsRegistry registry;
  auto& requests =
      registry.counter("http_requests_total", "HTTP requests by route and status.", {"method", "route", "status"});
  requests.with({"GET", "/api/v1/chat", "200"}).inc();
  requests.with({"GET", "/api/v1/chat", "200"}).inc(2.5);
  requests.with({"POST", "/api/v1/chat", "500"}).inc();

  const auto parsed = scrape(registry);
  const auto* family = parsed.family("http_requests_total");
  ASSERT_NE(family, nullptr);
  EXPECT_EQ(family->type, prom::MetricType::kCounter);
  EXPECT_EQ(family->help, "HTTP requests by route and status.");
  EXPECT_EQ(family->samples.size(), 2U);
  EXPECT_EQ(parsed.value("http_requests_total", {{"method", "GET"}, {"route", "/api/v1/chat"}, {"status", "200"}}),
            3.5);
  EXPECT_EQ(parsed.value("http_requests_total", {{"method", "POST"}, {"route", "/api/v1/chat"}, {"status", "500"}}),
            1.0);
}

TEST(MetricsRegistry, GaugeSetIncAndDecRenderTheCurrentValue) {
  MetricsRegistry registry;
  auto& in_flight = registry.gauge("evolveai_in_flight_requests", "Requests being served.").with();
  in_flight.set(10);
  in_flight.inc();
  in_flight.inc(4);
  in_flight.dec(2.5);

  EXPECT_EQ(in_flight.value(), 12.5);
  const auto parsed = scrape(registry);
  EXPECT_EQ(parsed.family("evolveai_in_flight_requests")->type, prom::MetricType::kGauge);
  EXPECT_EQ(parsed.value("evolveai_in_flight_requests"), 12.5);
}

TEST(MetricsRegistry, UnlabelledMetricsRenderZeroBeforeTheirFirstUpdate) {
  MetricsRegistry registry;
  registry.counter("evolveai_jobs_done_total", "Jobs finished.");
  registry.histogram("evolveai_job_seconds", "Job duration.", {}, std::array{1.0});

  const auto parsed = scrape(registry);
  EXPECT_EQ(parsed.value("evolveai_jobs_done_total"), 0.0);
  EXPECT_EQ(parsed.value("evolveai_job_seconds_count"), 0.0);
  EXPECT_EQ(parsed.value("evolveai_job_seconds_bucket", {{"le", "+Inf"}}), 0.0);
}

TEST(MetricsRegistry, LabelledFamilyWithoutChildrenRendersOnlyHelpAndType) {
  MetricsRegistry registry;
  registry.counter("evolveai_model_tokens_total", "Tokens by model.", {"model"});

  EXPECT_EQ(registry.render(),
            "# HELP evolveai_model_tokens_total Tokens by model.\n"
            "# TYPE evolveai_model_tokens_total counter\n");
}

TEST(MetricsRegistry, HistogramBucketsAreCumulativeWithSumAndCount) {
  MetricsRegistry registry;
  const std::array bounds{0.1, 1.0, 10.0};
  auto& latency =
      registry.histogram("evolveai_model_latency_seconds", "Model call latency.", {"model"}, bounds).with({"small"});
  for (const double seconds : {0.05, 0.1, 0.5, 5.0, 50.0})
    latency.observe(seconds);

  const auto parsed = scrape(registry);
  EXPECT_EQ(parsed.family("evolveai_model_latency_seconds")->type, prom::MetricType::kHistogram);
  const auto bucket = [&](const char* le) {
    return parsed.value("evolveai_model_latency_seconds_bucket", {{"model", "small"}, {"le", le}});
  };
  EXPECT_EQ(bucket("0.1"), 2.0);  // an observation equal to a bound lands in that bucket
  EXPECT_EQ(bucket("1"), 3.0);
  EXPECT_EQ(bucket("10"), 4.0);
  EXPECT_EQ(bucket("+Inf"), 5.0);
  EXPECT_EQ(parsed.value("evolveai_model_latency_seconds_count", {{"model", "small"}}), 5.0);
  EXPECT_DOUBLE_EQ(*parsed.value("evolveai_model_latency_seconds_sum", {{"model", "small"}}), 55.65);

  const HistogramSnapshot snapshot = latency.snapshot();
  EXPECT_EQ(snapshot.cumulative, (std::vector<std::uint64_t>{2, 3, 4, 5}));
  EXPECT_EQ(snapshot.count, 5U);
}

TEST(MetricsRegistry, DefaultHistogramBucketsRunFromHalfAMillisecondToTenSeconds) {
  MetricsRegistry registry;
  registry.histogram("http_request_duration_seconds", "HTTP latency.", {"route"}).with({"/health"}).observe(0.003);

  const auto parsed = scrape(registry);
  EXPECT_EQ(parsed.value("http_request_duration_seconds_bucket", {{"route", "/health"}, {"le", "0.0005"}}), 0.0);
  EXPECT_EQ(parsed.value("http_request_duration_seconds_bucket", {{"route", "/health"}, {"le", "0.005"}}), 1.0);
  EXPECT_EQ(parsed.value("http_request_duration_seconds_bucket", {{"route", "/health"}, {"le", "10"}}), 1.0);
  EXPECT_EQ(parsed.family("http_request_duration_seconds")->samples.size(), kDefaultLatencyBuckets.size() + 3);
}

TEST(MetricsRegistry, HistogramIgnoresNaNObservations) {
  MetricsRegistry registry;
  auto& histogram = registry.histogram("evolveai_tts_seconds", "TTS latency.").with();
  histogram.observe(std::numeric_limits<double>::quiet_NaN());
  histogram.observe(0.2);

  const auto parsed = scrape(registry);
  EXPECT_EQ(parsed.value("evolveai_tts_seconds_count"), 1.0);
  EXPECT_EQ(parsed.value("evolveai_tts_seconds_sum"), 0.2);
}

TEST(MetricsRegistry, LabelValueAndHelpEscapingRoundTripsThroughTheParser) {
  MetricsRegistry registry;
  const std::string tricky = "say \"hi\"\\now\nnext line";
  registry.gauge("evolveai_escape_test", "Help with a \\ backslash\nand a newline.", {"text"}).with({tricky}).set(7);

  const std::string text = registry.render();
  EXPECT_NE(text.find(R"(# HELP evolveai_escape_test Help with a \\ backslash\nand a newline.)"), std::string::npos);
  EXPECT_NE(text.find(R"({text="say \"hi\"\\now\nnext line"} 7)"), std::string::npos);
  const auto parsed = prom::parse_prometheus_text(text);
  EXPECT_EQ(parsed.family("evolveai_escape_test")->help, "Help with a \\ backslash\nand a newline.");
  EXPECT_EQ(parsed.value("evolveai_escape_test", {{"text", tricky}}), 7.0);
}

TEST(MetricsRegistry, InvalidUtf8InLabelValuesIsReplacedSoScrapesKeepWorking) {
  MetricsRegistry registry;
  registry.counter("evolveai_telegram_updates_total", "Updates.", {"kind"}).with({"caf\xC3\xA9\xFF"}).inc();

  const auto parsed = scrape(registry);
  EXPECT_EQ(parsed.value("evolveai_telegram_updates_total", {{"kind", "caf\xC3\xA9\xEF\xBF\xBD"}}), 1.0);
}

TEST(MetricsRegistry, ChildrenAreSortedByLabelValuesAndFamiliesKeepRegistrationOrder) {
  MetricsRegistry registry;
  auto& zeta = registry.counter("zeta_total", "Registered first.", {"status"});
  registry.gauge("alpha", "Registered second.");
  zeta.with({"500"}).inc();
  zeta.with({"200"}).inc();
  zeta.with({"404"}).inc();

  const auto parsed = scrape(registry);
  ASSERT_EQ(parsed.families.size(), 2U);
  EXPECT_EQ(parsed.families[0].name, "zeta_total");
  EXPECT_EQ(parsed.families[1].name, "alpha");
  std::vector<std::string> order;
  for (const auto& sample : parsed.families[0].samples)
    order.push_back(sample.labels.at("status"));
  EXPECT_EQ(order, (std::vector<std::string>{"200", "404", "500"}));
  EXPECT_EQ(registry.render(), registry.render());
}

TEST(MetricsRegistry, WithReturnsTheSameChildForTheSameLabelValues) {
  MetricsRegistry registry;
  auto& family = registry.counter("evolveai_cache_hits_total", "Cache hits.", {"cache", "result"});
  Counter& first = family.with({"prompt", "hit"});
  const std::vector<std::string> held{"prompt", "hit"};

  EXPECT_EQ(&family.with({"prompt", "hit"}), &first);
  EXPECT_EQ(&family.with(held), &first);
  EXPECT_NE(&family.with({"prompt", "miss"}), &first);
}

TEST(MetricsRegistry, WrongNumberOfLabelValuesIsALogicError) {
  MetricsRegistry registry;
  auto& family = registry.counter("evolveai_cache_hits_total", "Cache hits.", {"cache", "result"});

  EXPECT_THROW(family.with({"prompt"}), std::logic_error);
  EXPECT_THROW(family.with({"prompt", "hit", "extra"}), std::logic_error);
  EXPECT_THROW(family.with(), std::logic_error);
}

TEST(MetricsRegistry, ConcurrentUpdatesFromEightThreadsAreExact) {
  constexpr int kThreads = 8;
  constexpr int kIterations = 100000;
  MetricsRegistry registry;
  auto& counter_family = registry.counter("evolveai_concurrent_total", "Concurrent increments.", {"route"});
  auto& gauge = registry.gauge("evolveai_concurrent_gauge", "Concurrent gauge.").with();
  auto& histogram_family =
      registry.histogram("evolveai_concurrent_seconds", "Concurrent observations.", {"route"}, std::array{0.5, 1.0});

  std::atomic<bool> done{false};
  std::atomic<int> scrapes{0};
  // Scrapes taken while updates race must still parse, histograms included.
  std::thread scraper([&] {
    while (!done.load()) {
      EXPECT_NO_THROW((void)scrape(registry));
      scrapes.fetch_add(1);
    }
  });
  std::latch start(kThreads);
  std::vector<std::thread> workers;
  workers.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    workers.emplace_back([&, t] {
      start.arrive_and_wait();  // all threads race from the same moment
      // Every thread creates the same children concurrently, then updates its cached references.
      Counter& counter = counter_family.with({"/api/v1/chat"});
      Histogram& histogram = histogram_family.with({"/api/v1/chat"});
      // Separate tight loops keep the threads hitting the same atomic at the same time.
      for (int i = 0; i < kIterations; ++i)
        counter.inc();
      for (int i = 0; i < kIterations; ++i)
        gauge.inc();
      for (int i = 0; i < kIterations; ++i)
        histogram.observe((i + t) % 2 == 0 ? 0.25 : 0.75);
    });
  }
  for (auto& worker : workers)
    worker.join();
  done.store(true);
  scraper.join();

  constexpr double kTotal = static_cast<double>(kThreads) * kIterations;
  const auto parsed = scrape(registry);
  EXPECT_EQ(parsed.value("evolveai_concurrent_total", {{"route", "/api/v1/chat"}}), kTotal);
  EXPECT_EQ(parsed.value("evolveai_concurrent_gauge"), kTotal);
  EXPECT_EQ(parsed.value("evolveai_concurrent_seconds_count", {{"route", "/api/v1/chat"}}), kTotal);
  EXPECT_EQ(parsed.value("evolveai_concurrent_seconds_bucket", {{"route", "/api/v1/chat"}, {"le", "0.5"}}), kTotal / 2);
  EXPECT_EQ(parsed.value("evolveai_concurrent_seconds_sum", {{"route", "/api/v1/chat"}}), kTotal / 2);
  EXPECT_EQ(parsed.family("evolveai_concurrent_total")->samples.size(), 1U);
  EXPECT_GT(scrapes.load(), 0);
}

TEST(MetricsRegistry, CallbackGaugeIsReadAtRenderTime) {
  MetricsRegistry registry;
  std::atomic<int> open_connections{3};
  registry.callback_gauge("evolveai_open_connections", "Open HTTP connections.",
                          [&] { return static_cast<double>(open_connections.load()); });

  EXPECT_EQ(scrape(registry).value("evolveai_open_connections"), 3.0);
  open_connections = 42;
  EXPECT_EQ(scrape(registry).value("evolveai_open_connections"), 42.0);
}

TEST(MetricsRegistry, LabelledCallbackFamilyRendersEachCallbackAndForgetsRemovedOnes) {
  MetricsRegistry registry;
  auto& breakers =
      registry.callback_gauge_family("evolveai_breaker_state", "0 closed, 1 half-open, 2 open.", {"upstream"});
  breakers.set({"redis"}, [] { return 0.0; });
  breakers.set({"openai"}, [] { return 2.0; });

  auto parsed = scrape(registry);
  EXPECT_EQ(parsed.value("evolveai_breaker_state", {{"upstream", "redis"}}), 0.0);
  EXPECT_EQ(parsed.value("evolveai_breaker_state", {{"upstream", "openai"}}), 2.0);

  breakers.remove({"openai"});
  parsed = scrape(registry);
  EXPECT_EQ(parsed.value("evolveai_breaker_state", {{"upstream", "openai"}}), std::nullopt);
  EXPECT_EQ(parsed.value("evolveai_breaker_state", {{"upstream", "redis"}}), 0.0);
}

TEST(MetricsRegistry, CallbackCounterRendersAsCounter) {
  MetricsRegistry registry;
  registry.callback_counter("evolveai_pool_waits_total", "Waits for a pooled connection.", [] { return 17.0; });

  const auto parsed = scrape(registry);
  EXPECT_EQ(parsed.family("evolveai_pool_waits_total")->type, prom::MetricType::kCounter);
  EXPECT_EQ(parsed.value("evolveai_pool_waits_total"), 17.0);
}

TEST(MetricsRegistry, ThrowingCallbackRendersNaNInsteadOfFailingTheScrape) {
  MetricsRegistry registry;
  registry.callback_gauge("evolveai_pool_in_use", "Pool usage.", []() -> double { throw std::runtime_error("gone"); });
  registry.gauge("evolveai_after", "Rendered after the failing callback.").with().set(1);

  const auto parsed = scrape(registry);
  EXPECT_TRUE(std::isnan(*parsed.value("evolveai_pool_in_use")));
  EXPECT_EQ(parsed.value("evolveai_after"), 1.0);
}

TEST(MetricsRegistry, RegisteringTheSameShapeTwiceReturnsTheSameFamily) {
  MetricsRegistry registry;
  auto& first = registry.counter("evolveai_db_queries_total", "Queries.", {"statement"});
  auto& second = registry.counter("evolveai_db_queries_total", "Queries.", {"statement"});
  auto& histogram = registry.histogram("evolveai_db_seconds", "Query time.", {"statement"});

  EXPECT_EQ(&first, &second);
  EXPECT_EQ(&histogram, &registry.histogram("evolveai_db_seconds", "Query time.", {"statement"}));
  first.with({"load_user"}).inc();
  second.with({"load_user"}).inc();
  EXPECT_EQ(scrape(registry).value("evolveai_db_queries_total", {{"statement", "load_user"}}), 2.0);
}

TEST(MetricsRegistry, RegisteringTheSameNameWithAnotherShapeIsALogicError) {
  MetricsRegistry registry;
  registry.counter("evolveai_db_queries_total", "Queries.", {"statement"});
  registry.histogram("evolveai_db_seconds", "Query time.", {}, std::array{0.1, 1.0});
  registry.gauge("evolveai_pool_size", "Pool size.");

  EXPECT_THROW(registry.counter("evolveai_db_queries_total", "Queries.", {"query"}), std::logic_error);
  EXPECT_THROW(registry.counter("evolveai_db_queries_total", "Queries.", {}), std::logic_error);
  EXPECT_THROW(registry.gauge("evolveai_db_queries_total", "Queries."), std::logic_error);
  EXPECT_THROW(registry.histogram("evolveai_db_seconds", "Query time.", {}, std::array{0.2, 1.0}), std::logic_error);
  EXPECT_THROW(registry.callback_gauge("evolveai_pool_size", "Pool size.", [] { return 1.0; }), std::logic_error);
}

TEST(MetricsRegistry, NamesOutsideThePrometheusGrammarAreRejectedAtRegistration) {
  MetricsRegistry registry;
  EXPECT_THROW(registry.gauge("", "Empty."), std::logic_error);
  EXPECT_THROW(registry.gauge("1st_gauge", "Leading digit."), std::logic_error);
  EXPECT_THROW(registry.gauge("http-requests", "Dash."), std::logic_error);
  EXPECT_THROW(registry.gauge("ok_gauge", "Bad label.", {"bad-label"}), std::logic_error);
  EXPECT_THROW(registry.gauge("ok_gauge", "Reserved label.", {"__name"}), std::logic_error);
  EXPECT_THROW(registry.gauge("ok_gauge", "Label twice.", {"route", "route"}), std::logic_error);
  EXPECT_THROW(registry.histogram("ok_seconds", "le is for buckets.", {"le"}), std::logic_error);
  EXPECT_THROW(registry.counter("requests", "Counters end in _total."), std::logic_error);
  EXPECT_NO_THROW(registry.gauge("namespace:ok_gauge", "Colons are allowed.", {"_private"}));

  EXPECT_TRUE(is_valid_metric_name("evolveai_http_requests_total"));
  EXPECT_FALSE(is_valid_label_name("route:name"));
}

TEST(MetricsRegistry, FamiliesWhoseSamplesWouldCollideAreALogicError) {
  MetricsRegistry registry;
  registry.histogram("evolveai_request_seconds", "Latency.");

  EXPECT_THROW(registry.gauge("evolveai_request_seconds_count", "Collides with the histogram."), std::logic_error);
  EXPECT_THROW(registry.gauge("evolveai_request_seconds_bucket", "Collides with the histogram."), std::logic_error);
}

TEST(MetricsRegistry, BucketBoundsMustBeFiniteAndStrictlyIncreasing) {
  MetricsRegistry registry;
  constexpr double kInf = std::numeric_limits<double>::infinity();
  EXPECT_THROW(registry.histogram("a_seconds", "Unsorted.", {}, std::array{1.0, 0.5}), std::logic_error);
  EXPECT_THROW(registry.histogram("b_seconds", "Repeated.", {}, std::array{1.0, 1.0}), std::logic_error);
  EXPECT_THROW(registry.histogram("c_seconds", "NaN.", {}, std::array{std::nan("")}), std::logic_error);
  EXPECT_THROW(registry.histogram("d_seconds", "Inf inside.", {}, std::array{kInf, 1.0}), std::logic_error);

  // A trailing +Inf is the implicit last bucket and may be spelled out.
  registry.histogram("e_seconds", "Explicit +Inf.", {}, std::array{1.0, kInf}).with().observe(3);
  const auto parsed = scrape(registry);
  EXPECT_EQ(parsed.value("e_seconds_bucket", {{"le", "1"}}), 0.0);
  EXPECT_EQ(parsed.value("e_seconds_bucket", {{"le", "+Inf"}}), 1.0);
  EXPECT_EQ(parsed.family("e_seconds")->samples.size(), 4U);
}

TEST(MetricsRegistry, CounterIgnoresNegativeAndNaNIncrements) {
  MetricsRegistry registry;
  auto& counter = registry.counter("evolveai_bytes_total", "Bytes.").with();
  counter.inc(5);
  counter.inc(-3);
  counter.inc(std::numeric_limits<double>::quiet_NaN());

  EXPECT_EQ(counter.value(), 5.0);
}

TEST(MetricsRegistry, ValuesAreFormattedSoPrometheusParsesThem) {
  EXPECT_EQ(format_metric_value(42), "42");
  EXPECT_EQ(format_metric_value(-3), "-3");
  EXPECT_EQ(format_metric_value(0.25), "0.25");
  EXPECT_EQ(format_metric_value(-0.0), "0");
  EXPECT_EQ(format_metric_value(1e15), "1000000000000000");
  EXPECT_EQ(format_metric_value(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(format_metric_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_metric_value(-std::numeric_limits<double>::infinity()), "-Inf");

  MetricsRegistry registry;
  auto& family = registry.gauge("evolveai_values", "Values.", {"case"});
  const std::vector<std::pair<std::string, double>> cases = {
      {"huge", 1.7976931348623157e308},
      {"tiny", 5e-324},
      {"third", 1.0 / 3.0},
      {"neg_inf", -std::numeric_limits<double>::infinity()},
      {"big_int", 9007199254740993.0},
      {"exp", 1e20},
  };
  for (const auto& [name, value] : cases)
    family.with({name}).set(value);
  const auto parsed = scrape(registry);
  for (const auto& [name, value] : cases)
    EXPECT_EQ(parsed.value("evolveai_values", {{"case", name}}), value) << name;
}

TEST(ProcessMetrics, AreRegisteredAndPlausible) {
  MetricsRegistry registry;
  register_process_metrics(registry, "1.2.3", "abc123def456");

  const auto parsed = scrape(registry);
  const double rss = parsed.value("process_resident_memory_bytes").value_or(0);
  EXPECT_GT(rss, 0);
  EXPECT_GE(parsed.value("process_virtual_memory_bytes").value_or(0), rss);
  EXPECT_EQ(parsed.family("process_cpu_seconds_total")->type, prom::MetricType::kCounter);
  EXPECT_GE(parsed.value("process_cpu_seconds_total").value_or(-1), 0);
  const double start = parsed.value("process_start_time_seconds").value_or(0);
  EXPECT_GT(start, now_seconds() - 24 * 3600);
  EXPECT_LE(start, now_seconds() + 1);
  EXPECT_GE(parsed.value("process_open_fds").value_or(0), 1);
  EXPECT_GT(parsed.value("process_max_fds").value_or(0), 0);
  const double uptime = parsed.value("evolveai_uptime_seconds").value_or(-1);
  EXPECT_GE(uptime, 0);
  EXPECT_LT(uptime, 24 * 3600);
  EXPECT_EQ(parsed.value("evolveai_build_info", {{"version", "1.2.3"}, {"commit", "abc123def456"}}), 1.0);
}

TEST(ProcessMetrics, UptimeAndCpuTimeNeverGoBackwards) {
  MetricsRegistry registry;
  register_process_metrics(registry, "dev", "unknown");

  const auto before = scrape(registry);
  volatile double spin = 0;
  for (int i = 0; i < 2'000'000; ++i)
    spin = spin + 1;
  const auto after = scrape(registry);
  EXPECT_GE(*after.value("evolveai_uptime_seconds"), *before.value("evolveai_uptime_seconds"));
  EXPECT_GE(*after.value("process_cpu_seconds_total"), *before.value("process_cpu_seconds_total"));
}

TEST(ProcessMetrics, OpenFdsCountsANewlyOpenedFile) {
  MetricsRegistry registry;
  register_process_metrics(registry, "dev", "unknown");

  const double before = *scrape(registry).value("process_open_fds");
  std::ifstream held("/proc/self/stat");
  ASSERT_TRUE(held.is_open());
  EXPECT_EQ(*scrape(registry).value("process_open_fds"), before + 1);
}

TEST(ProcessMetrics, CurrentRssBytesGrowsWhenMemoryIsTouched) {
  const std::size_t before = current_rss_bytes();
  ASSERT_GT(before, 0U);
  constexpr std::size_t kBytes = 64U << 20U;
  std::vector<char> block(kBytes);
  std::memset(block.data(), 1, block.size());
  EXPECT_GT(current_rss_bytes(), before + kBytes / 2);
  EXPECT_EQ(block[kBytes / 2], 1);
}

TEST(PrometheusParser, ParsesHelpTypeLabelsTimestampsAndSpecialValues) {
  const auto parsed = prom::parse_prometheus_text(
      "# A plain comment\n"
      "\n"
      "# HELP temps Temperatures \\\\ in \\n C.\n"
      "# TYPE temps gauge\n"
      "temps{room=\"a \\\"b\\\" \\\\ c\\nd\",floor=\"1\",} 21.5 1700000000000\n"
      "temps{room=\"x\"} +Inf\n"
      "temps{room=\"y\"} -Inf\n"
      "temps{room=\"z\"}\tNaN\n"
      "temps 1.5e3 -5\n"
      "# TYPE rpc_seconds summary\n"
      "rpc_seconds{quantile=\"0.5\"} 0.2\n"
      "rpc_seconds_sum 10\n"
      "rpc_seconds_count 40\n");

  ASSERT_EQ(parsed.families.size(), 2U);
  const auto* temps = parsed.family("temps");
  EXPECT_EQ(temps->help, "Temperatures \\ in \n C.");
  EXPECT_EQ(temps->type, prom::MetricType::kGauge);
  const auto* first = parsed.sample("temps", {{"room", "a \"b\" \\ c\nd"}, {"floor", "1"}});
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->value, 21.5);
  EXPECT_EQ(first->timestamp_ms, 1700000000000);
  EXPECT_EQ(first->line, 5U);
  EXPECT_EQ(parsed.value("temps", {{"room", "x"}}), std::numeric_limits<double>::infinity());
  EXPECT_EQ(parsed.value("temps", {{"room", "y"}}), -std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(*parsed.value("temps", {{"room", "z"}})));
  EXPECT_EQ(parsed.value("temps"), 1500.0);
  EXPECT_EQ(parsed.sample("temps")->timestamp_ms, -5);
  EXPECT_EQ(parsed.value("rpc_seconds_count"), 40.0);
  EXPECT_EQ(parsed.value("temps", {{"room", "nowhere"}}), std::nullopt);
}

TEST(PrometheusParser, RejectsInvalidMetricNamesWithTheirLine) {
  auto error = parse_error("# TYPE ok gauge\nok 1\n# TYPE 1bad gauge\n");
  ASSERT_TRUE(error);
  EXPECT_EQ(error->line(), 3U);

  error = parse_error("# TYPE ok gauge\nok 1\nhttp-requests 1\n");
  ASSERT_TRUE(error);
  EXPECT_EQ(error->line(), 3U);
  EXPECT_NE(std::string(error->what()).find("line 3:"), std::string::npos);
}

TEST(PrometheusParser, RejectsASampleWithoutATypeLine) {
  const auto error = parse_error("# TYPE a gauge\na 1\n# HELP b Has help but no type.\nb 2\n");
  ASSERT_TRUE(error);
  EXPECT_EQ(error->line(), 4U);
  EXPECT_NE(std::string(error->what()).find("TYPE"), std::string::npos);
}

TEST(PrometheusParser, RejectsNonCumulativeBuckets) {
  const auto error = parse_error(
      "# TYPE h histogram\n"
      "h_bucket{le=\"0.1\"} 5\n"
      "h_bucket{le=\"1\"} 3\n"
      "h_bucket{le=\"+Inf\"} 5\n"
      "h_sum 2\n"
      "h_count 5\n");
  ASSERT_TRUE(error);
  EXPECT_EQ(error->line(), 3U);
  EXPECT_NE(std::string(error->what()).find("cumulative"), std::string::npos);
}

TEST(PrometheusParser, RejectsBucketsWithoutInfOrDisagreeingWithCount) {
  auto error = parse_error(
      "# TYPE h histogram\n"
      "h_bucket{le=\"1\"} 3\n"
      "h_sum 2\n"
      "h_count 3\n");
  ASSERT_TRUE(error);
  EXPECT_EQ(error->line(), 2U);

  error = parse_error(
      "# TYPE h histogram\n"
      "h_bucket{le=\"1\"} 3\n"
      "h_bucket{le=\"+Inf\"} 4\n"
      "h_sum 2\n"
      "h_count 5\n");
  ASSERT_TRUE(error);
  EXPECT_EQ(error->line(), 5U);

  error = parse_error(
      "# TYPE h histogram\n"
      "h_bucket{le=\"+Inf\"} 4\n"
      "h_count 4\n");
  ASSERT_TRUE(error);
  EXPECT_NE(std::string(error->what()).find("_sum"), std::string::npos);
}

TEST(PrometheusParser, RejectsDuplicateSeries) {
  const auto error = parse_error(
      "# TYPE c_total counter\n"
      "c_total{a=\"1\",b=\"2\"} 1\n"
      "c_total{a=\"2\"} 1\n"
      "c_total{b=\"2\",a=\"1\"} 1\n");
  ASSERT_TRUE(error);
  EXPECT_EQ(error->line(), 4U);
  EXPECT_NE(std::string(error->what()).find("duplicate"), std::string::npos);
}

TEST(PrometheusParser, RejectsTypeLinesAfterSamplesAndFamiliesSplitApart) {
  auto error = parse_error("# TYPE a gauge\na 1\n# TYPE a gauge\n");
  ASSERT_TRUE(error);
  EXPECT_EQ(error->line(), 3U);

  error = parse_error("# TYPE a gauge\na{x=\"1\"} 1\n# TYPE b gauge\nb 1\na{x=\"2\"} 1\n");
  ASSERT_TRUE(error);
  EXPECT_EQ(error->line(), 5U);

  error = parse_error("# TYPE a meter\n");
  ASSERT_TRUE(error);
  EXPECT_EQ(error->line(), 1U);
}

TEST(PrometheusParser, RejectsMalformedSampleLines) {
  const std::vector<std::string> bad_lines = {
      "g{x=\"unterminated} 1",      // label value never closed
      "g{x=\"bad \\t escape\"} 1",  // only \\, \" and \n are escapes
      "g{x=unquoted} 1",            // label value without quotes
      "g{x=\"1\" y=\"2\"} 1",       // missing comma
      "g{x=\"1\",x=\"2\"} 1",       // label twice
      "g{__x=\"1\"} 1",             // reserved label name
      "g{1x=\"1\"} 1",              // invalid label name
      "g",                          // no value
      "g one",                      // not a number
      "g 1 soon",                   // not a timestamp
      "g 1 2 3",                    // trailing text
      "g{x=\"1\"}1",                // no blank before the value
  };
  for (const std::string& line : bad_lines) {
    const auto error = parse_error("# TYPE g gauge\n" + line + "\n");
    ASSERT_TRUE(error) << line;
    EXPECT_EQ(error->line(), 2U) << line << " -> " << error->what();
  }
}

TEST(PrometheusParser, RejectsNegativeCountersAndAMissingFinalLineFeed) {
  auto error = parse_error("# TYPE c_total counter\nc_total -1\n");
  ASSERT_TRUE(error);
  EXPECT_EQ(error->line(), 2U);

  error = parse_error("# TYPE g gauge\ng 1");
  ASSERT_TRUE(error);
  EXPECT_EQ(error->line(), 2U);
}

}  // namespace
}  // namespace evolveai::obs
