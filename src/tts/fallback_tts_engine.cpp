#include "tts/fallback_tts_engine.hpp"

#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>

#include "net/circuit_breaker.hpp"
#include "obs/logger.hpp"
#include "obs/metrics.hpp"

namespace evolveai::tts {
namespace {

obs::CounterFamily& fallbacks(obs::MetricsRegistry& metrics) {
  return metrics.counter("evolveai_tts_fallbacks_total",
                         "Speech requests the local engine served because the configured one failed.",
                         {"from", "reason"});
}

}  // namespace

FallbackTtsEngine::FallbackTtsEngine(TtsEngine& primary, TtsEngine& fallback, obs::MetricsRegistry& metrics,
                                     obs::Logger& logger)
    : primary_(primary),
      fallback_(fallback),
      logger_(logger),
      breaker_open_(fallbacks(metrics).with({primary.name(), "breaker_open"})),
      failed_(fallbacks(metrics).with({primary.name(), "failed"})) {}

Task<Pcm> FallbackTtsEngine::synthesize(const std::string& text, const VoiceOptions& options) {
  std::string reason;
  std::string detail;
  try {
    auto first = primary_.synthesize(text, options);
    co_return co_await std::move(first);
  } catch (const boost::system::system_error& error) {
    if (error.code() == boost::asio::error::operation_aborted) {
      throw;  // the caller went away: nobody wants the fallback's audio either
    }
    reason = "failed";
    detail = error.what();
  } catch (const net::CircuitOpenError& error) {
    reason = "breaker_open";
    detail = error.what();
  } catch (const std::exception& error) {
    reason = "failed";
    detail = error.what();
  }
  (reason == "breaker_open" ? breaker_open_ : failed_).inc();
  logger_.warn("tts_fallback",
               {{"from", primary_.name()}, {"to", fallback_.name()}, {"reason", reason}, {"error", detail}});
  auto second = fallback_.synthesize(text, options);
  co_return co_await std::move(second);
}

}  // namespace evolveai::tts
