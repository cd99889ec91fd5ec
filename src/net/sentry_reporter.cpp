#include "net/sentry_reporter.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <mutex>
#include <random>

#include "net/http_client.hpp"
#include "obs/logger.hpp"
#include "obs/metrics.hpp"
#include "obs/sentry_envelope.hpp"

namespace evolveai::net {
namespace {

namespace asio = boost::asio;
using SteadyClock = std::chrono::steady_clock;

constexpr auto kAsTuple = asio::as_tuple(asio::use_awaitable);
/// How long to pause after a 429 that names no delay.
constexpr std::chrono::seconds kDefaultPause{60};
/// The longest pause a collector can ask for.
constexpr std::chrono::seconds kMaxPause{3600};

/// A whole number of seconds at the start of `text`, or nullopt.
std::optional<std::chrono::seconds> leading_seconds(std::string_view text) {
  while (!text.empty() && text.front() == ' ') {
    text.remove_prefix(1);
  }
  std::int64_t seconds = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (error != std::errc() || end == text.data() || seconds < 0) {
    return std::nullopt;
  }
  return std::chrono::seconds(seconds);
}

}  // namespace

std::optional<std::chrono::seconds> sentry_rate_limit_pause(std::string_view value) {
  std::optional<std::chrono::seconds> longest;
  while (!value.empty()) {
    const auto comma = value.find(',');
    const auto entry = value.substr(0, comma);
    value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
    const auto colon = entry.find(':');
    const auto seconds = leading_seconds(entry.substr(0, colon));
    if (!seconds) {
      continue;
    }
    std::string_view categories;
    if (colon != std::string_view::npos) {
      const auto rest = entry.substr(colon + 1);
      categories = rest.substr(0, rest.find(':'));
    }
    bool applies = categories.empty();
    while (!categories.empty() && !applies) {
      const auto semicolon = categories.find(';');
      const auto category = categories.substr(0, semicolon);
      applies = category == "error" || category == "default";
      categories = semicolon == std::string_view::npos ? std::string_view() : categories.substr(semicolon + 1);
    }
    if (applies && (!longest || *seconds > *longest)) {
      longest = seconds;
    }
  }
  return longest;
}

namespace {

/// Tokens refilled evenly: at most `capacity` at once, `capacity` per minute.
class TokenBucket {
 public:
  explicit TokenBucket(int per_minute)
      : capacity_(std::max(1, per_minute)), tokens_(capacity_), refilled_(SteadyClock::now()) {}

  /// Takes a token if one is there.
  bool try_take(SteadyClock::time_point now) {
    const double elapsed = std::chrono::duration<double>(now - refilled_).count();
    if (elapsed > 0) {
      tokens_ = std::min(capacity_, tokens_ + elapsed * capacity_ / 60.0);
      refilled_ = now;
    }
    if (tokens_ < 1.0) {
      return false;
    }
    tokens_ -= 1.0;
    return true;
  }

 private:
  double capacity_;
  double tokens_;
  SteadyClock::time_point refilled_;
};

std::string event_release(const SentryReporterOptions& options) {
  return "evolveai@" + options.version;
}

}  // namespace

/// What the reporter and its sending coroutine share.
struct SentryReporterState {
  using Channel = asio::experimental::concurrent_channel<void(boost::system::error_code, std::string)>;

  SentryReporterState(obs::SentryDsn d, SentryReporterOptions o, std::shared_ptr<HttpClient> c,
                      const asio::any_io_executor& executor, obs::MetricsRegistry& metrics, obs::Logger& l)
      : dsn(std::move(d)),
        options(std::move(o)),
        client(std::move(c)),
        logger(l),
        channel(executor, std::max<std::size_t>(1, options.queue_size)),
        bucket(options.max_events_per_min),
        random(std::random_device{}()),
        context{event_release(options), options.environment, options.server_name, dsn.text()},
        url(dsn.envelope_url()),
        auth(dsn.auth_header(options.version)) {
    auto& dropped = metrics.counter("evolveai_error_reports_dropped_total",
                                    "Error reports not delivered to the collector, by reason", {"reason"});
    sent = &metrics.counter("evolveai_error_reports_total", "Error reports delivered to the collector").with();
    rate_limited = &dropped.with({"rate_limited"});
    collector_limited = &dropped.with({"collector_limited"});
    queue_full = &dropped.with({"queue_full"});
    send_failed = &dropped.with({"send_failed"});
  }

  /// Pauses sending as the collector asked; the longest pause asked wins.
  void pause_for(std::chrono::seconds delay) {
    const auto until = SteadyClock::now() + std::min(delay, kMaxPause);
    const std::scoped_lock lock(mutex);
    paused_until = std::max(paused_until, until);
  }

  [[nodiscard]] bool paused(SteadyClock::time_point now) {
    const std::scoped_lock lock(mutex);
    return now < paused_until;
  }

  obs::SentryDsn dsn;
  SentryReporterOptions options;
  std::shared_ptr<HttpClient> client;
  obs::Logger& logger;
  Channel channel;
  std::mutex mutex;  ///< guards bucket, random and paused_until
  TokenBucket bucket;
  std::mt19937_64 random;
  SteadyClock::time_point paused_until{};
  obs::SentryEventContext context;
  std::string url;
  std::string auth;
  obs::Counter* sent = nullptr;
  obs::Counter* rate_limited = nullptr;
  obs::Counter* collector_limited = nullptr;
  obs::Counter* queue_full = nullptr;
  obs::Counter* send_failed = nullptr;
};

namespace {

/// Honours the collector's rate limit headers; a 429 without them pauses for a minute.
void apply_limits(SentryReporterState& s, const HttpResponse& response) {
  if (const auto limits = response.headers.get("X-Sentry-Rate-Limits")) {
    if (const auto pause = sentry_rate_limit_pause(*limits)) {
      s.pause_for(*pause);
      return;
    }
  }
  if (response.status == 429) {
    const auto retry_after = response.headers.get("Retry-After");
    const auto pause = retry_after ? leading_seconds(*retry_after) : std::nullopt;
    s.pause_for(pause.value_or(kDefaultPause));
  }
}

/// Takes envelopes off the queue and posts them one at a time until the queue closes.
Task<void> send_loop(std::shared_ptr<SentryReporterState> s) {
  for (;;) {
    auto [ec, envelope] = co_await s->channel.async_receive(kAsTuple);
    if (ec) {
      co_return;
    }
    if (s->paused(SteadyClock::now())) {
      s->collector_limited->inc();
      continue;
    }
    HttpRequest request;
    request.method = "POST";
    request.url = s->url;
    request.headers.set("Content-Type", "application/x-sentry-envelope");
    request.headers.set("X-Sentry-Auth", s->auth);
    request.body = std::move(envelope);
    try {
      auto sending = s->client->request(std::move(request));
      const HttpResponse response = co_await std::move(sending);
      apply_limits(*s, response);
      if (response.status >= 200 && response.status < 300) {
        s->sent->inc();
      } else if (response.status == 429) {
        s->collector_limited->inc();
        s->logger.warn("error_report_rate_limited", {{"status", response.status}});
      } else {
        s->send_failed->inc();
        s->logger.warn("error_report_failed", {{"status", response.status}});
      }
    } catch (const HttpError& e) {
      s->send_failed->inc();
      s->logger.warn("error_report_failed", {{"error", e.what()}});
    } catch (const boost::system::system_error& e) {
      if (e.code() == asio::error::operation_aborted) {
        co_return;
      }
      s->send_failed->inc();
      s->logger.warn("error_report_failed", {{"error", e.what()}});
    } catch (const std::exception& e) {
      s->send_failed->inc();
      s->logger.warn("error_report_failed", {{"error", e.what()}});
    }
  }
}

}  // namespace

SentryReporter::SentryReporter(obs::SentryDsn dsn, SentryReporterOptions options, std::shared_ptr<HttpClient> client,
                               const asio::any_io_executor& executor, obs::MetricsRegistry& metrics,
                               obs::Logger& logger)
    : state_(std::make_shared<SentryReporterState>(std::move(dsn), std::move(options), std::move(client), executor,
                                                   metrics, logger)) {
  asio::co_spawn(executor, send_loop(state_), asio::detached);
}

SentryReporter::~SentryReporter() {
  state_->channel.close();
}

void SentryReporter::report(obs::ErrorReport report) noexcept {
  auto& s = *state_;
  try {
    std::string event_id;
    {
      const auto now = SteadyClock::now();
      const std::scoped_lock lock(s.mutex);
      if (now < s.paused_until) {
        s.collector_limited->inc();
        return;
      }
      if (!s.bucket.try_take(now)) {
        s.rate_limited->inc();
        return;
      }
      event_id = obs::new_event_id(s.random);
    }
    const auto clean = obs::scrub_report(std::move(report), s.options.secrets);
    auto envelope = obs::encode_envelope(clean, s.context, event_id, std::chrono::system_clock::now());
    if (!s.channel.try_send(boost::system::error_code(), std::move(envelope))) {
      s.queue_full->inc();
    }
  } catch (const std::exception& e) {
    s.send_failed->inc();
    s.logger.warn("error_report_failed", {{"error", e.what()}});
  }
}

}  // namespace evolveai::net
