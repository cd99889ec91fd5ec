#include "tts/google_tts_engine.hpp"

#include <boost/asio/this_coro.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>

#include "tts/audio_encoding.hpp"

namespace evolveai::tts {
namespace {

namespace json = boost::json;

constexpr double kNormalRate = 175.0;           // words per minute espeak calls normal: speakingRate 1.0
constexpr double kSemitonesPerPitchStep = 0.4;  // pitch 0..100 -> -20..+20 semitones

bool is_success(int status) {
  return status >= 200 && status < 300;
}

/// A log-safe excerpt of an upstream body.
std::string excerpt(std::string_view body) {
  constexpr std::size_t kMax = 200;
  return std::string(body.substr(0, kMax));
}

TtsError error_for_status(const net::HttpResponse& response) {
  const std::string message = "google tts: HTTP " + std::to_string(response.status) + ": " + excerpt(response.body);
  const int status = response.status;
  if (status == 408) {
    return {TtsFailure::kTimeout, message, true};
  }
  if (status == 429 || status == 499 || status >= 500) {
    return {TtsFailure::kUnavailable, message, true};
  }
  return {TtsFailure::kRejected, message, false};
}

TtsError error_for_transport(const net::HttpError& error) {
  const std::string message = std::string("google tts: ") + error.what();
  switch (error.kind()) {
    case net::HttpErrorKind::kTimeout:
      // A call that used its whole time budget is not worth repeating.
      return {TtsFailure::kTimeout, message, error.timeout_kind() != net::TimeoutKind::kTotal};
    case net::HttpErrorKind::kConnect: return {TtsFailure::kUnavailable, message, true};
    case net::HttpErrorKind::kInvalidRequest: return {TtsFailure::kRejected, message, false};
    case net::HttpErrorKind::kTls:
    case net::HttpErrorKind::kProtocol:
    case net::HttpErrorKind::kBodyTooLarge:
    case net::HttpErrorKind::kStatus: break;
  }
  return {TtsFailure::kBadResponse, message, false};
}

/// Failures that say the API itself is unwell (what the breaker counts).
bool is_health_failure(const std::exception& failure) {
  const auto* error = dynamic_cast<const TtsError*>(&failure);
  return error == nullptr || error->failure() != TtsFailure::kRejected;
}

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') {
    return c - 'A';
  }
  if (c >= 'a' && c <= 'z') {
    return c - 'a' + 26;
  }
  if (c >= '0' && c <= '9') {
    return c - '0' + 52;
  }
  if (c == '+') {
    return 62;
  }
  if (c == '/') {
    return 63;
  }
  return -1;
}

}  // namespace

std::optional<std::string> decode_base64(std::string_view text) {
  while (!text.empty() && text.back() == '=') {
    text.remove_suffix(1);
  }
  if (text.size() % 4 == 1) {
    return std::nullopt;
  }
  std::string out;
  out.reserve(text.size() / 4 * 3 + 2);
  std::uint32_t buffer = 0;
  unsigned bits = 0;
  for (const char c : text) {
    const int value = base64_value(c);
    if (value < 0) {
      return std::nullopt;
    }
    buffer = (buffer << 6U) | static_cast<std::uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFFU));
    }
  }
  return out;
}

GoogleTtsEngine::GoogleTtsEngine(GoogleTtsOptions options, std::shared_ptr<net::HttpClient> client)
    : options_(std::move(options)),
      client_(std::move(client)),
      retry_(
          options_.retry,
          [](const std::exception& failure) {
            const auto* error = dynamic_cast<const TtsError*>(&failure);
            return error != nullptr && error->retryable();
          },
          options_.random) {
  while (!options_.base_url.empty() && options_.base_url.back() == '/') {
    options_.base_url.pop_back();
  }
}

std::string GoogleTtsEngine::request_body(const std::string& text, const VoiceOptions& options) const {
  const CloudVoice voice = google_voice(options, options_.voice);
  const double speaking_rate = std::clamp(options.rate / kNormalRate, 0.25, 4.0);
  const double pitch = std::clamp((options.pitch - 50) * kSemitonesPerPitchStep, -20.0, 20.0);
  const json::object body{{"input", json::object{{"text", text}}},
                          {"voice", json::object{{"languageCode", voice.language_code}, {"name", voice.name}}},
                          {"audioConfig", json::object{{"audioEncoding", "LINEAR16"},
                                                       {"sampleRateHertz", options_.sample_rate},
                                                       {"speakingRate", std::round(speaking_rate * 100) / 100},
                                                       {"pitch", std::round(pitch * 10) / 10}}}};
  return json::serialize(body);
}

Pcm GoogleTtsEngine::read_response(std::string_view body) const {
  boost::system::error_code ec;
  const json::value value = json::parse(body, ec);
  if (ec || !value.is_object()) {
    throw TtsError(TtsFailure::kBadResponse, "google tts: the response is not a JSON object: " + excerpt(body));
  }
  const auto* content = value.as_object().if_contains("audioContent");
  if (content == nullptr || !content->is_string()) {
    throw TtsError(TtsFailure::kBadResponse, "google tts: the response has no audioContent");
  }
  const auto bytes = decode_base64(content->as_string());
  if (!bytes) {
    throw TtsError(TtsFailure::kBadResponse, "google tts: audioContent is not base64");
  }
  Pcm pcm;
  if (auto wav = decode_wav(*bytes)) {
    pcm = std::move(*wav);
  } else if (bytes->size() >= 4 && bytes->compare(0, 4, "RIFF") == 0) {
    throw TtsError(TtsFailure::kBadResponse, "google tts: audioContent is a WAV file that is not 16-bit PCM");
  } else {
    // Raw LINEAR16 at the rate asked for.
    pcm.sample_rate = options_.sample_rate;
    pcm.samples.resize(bytes->size() / 2);
    for (std::size_t i = 0; i < pcm.samples.size(); ++i) {
      const auto low = static_cast<unsigned char>((*bytes)[2 * i]);
      const auto high = static_cast<unsigned char>((*bytes)[2 * i + 1]);
      pcm.samples[i] = static_cast<std::int16_t>(static_cast<std::uint16_t>(low | (high << 8U)));
    }
  }
  if (pcm.samples.empty()) {
    throw TtsError(TtsFailure::kBadResponse, "google tts: audioContent holds no audio");
  }
  pcm.engine = "google";
  return pcm;
}

Task<Pcm> GoogleTtsEngine::attempt(const net::HttpRequest& request) {
  net::HttpResponse response;
  try {
    auto call = client_->request(request);
    response = co_await std::move(call);
  } catch (const net::HttpError& error) {
    throw error_for_transport(error);
  }
  if (!is_success(response.status)) {
    throw error_for_status(response);
  }
  co_return read_response(response.body);
}

Task<Pcm> GoogleTtsEngine::synthesize(const std::string& text, const VoiceOptions& options) {
  net::HttpRequest request;
  request.method = "POST";
  request.url = options_.base_url + "/v1/text:synthesize";
  request.headers.set("Content-Type", "application/json; charset=utf-8");
  request.headers.set("x-goog-api-key", options_.api_key);
  if (options.trace.valid()) {
    request.headers.set("traceparent", options.trace.traceparent());
  }
  request.body = request_body(text, options);
  const auto executor = co_await boost::asio::this_coro::executor;
  auto sleeper = options_.sleeper ? options_.sleeper : net::timer_sleeper(executor);
  // Tasks are made first and awaited after: GCC 12 mishandles temporaries inside co_await.
  auto retried = retry_.run(std::move(sleeper), [&]() -> Task<Pcm> {
    auto call = attempt(request);
    if (options_.breaker == nullptr) {
      co_return co_await std::move(call);
    }
    auto guarded = options_.breaker->run(std::move(call), is_health_failure);
    co_return co_await std::move(guarded);
  });
  co_return co_await std::move(retried);
}

}  // namespace evolveai::tts
