#include "fakes/fake_google_tts.hpp"

#include <boost/json.hpp>

#include <atomic>
#include <cmath>
#include <numbers>

#include "core/base64.hpp"
#include "tts/audio_encoding.hpp"

namespace evolveai::testing {

namespace {

namespace json = boost::json;

constexpr double kToneHz = 440.0;
constexpr double kToneAmplitude = 8000.0;

}  // namespace

/// Shared with the responder, which runs on the server's thread.
struct FakeGoogleTts::State {
  std::string api_key;
  std::chrono::milliseconds ms_per_char;
  std::atomic<Mode> mode{Mode::kHealthy};
  std::atomic<std::size_t> audio_replies{0};
};

FakeGoogleTts::FakeGoogleTts(std::string api_key, std::chrono::milliseconds ms_per_char)
    : state_(std::make_shared<State>()) {
  state_->api_key = std::move(api_key);
  state_->ms_per_char = ms_per_char;
  set_responder([state = state_](const RecordedRequest& request) { return answer(*state, request); });
}

FakeGoogleTts::~FakeGoogleTts() = default;

void FakeGoogleTts::set_mode(Mode mode) {
  state_->mode = mode;
}

std::size_t FakeGoogleTts::audio_replies() const {
  return state_->audio_replies.load();
}

FakeReply FakeGoogleTts::audio_reply(const std::vector<std::int16_t>& samples, int sample_rate) {
  tts::Pcm pcm;
  pcm.samples = samples;
  pcm.sample_rate = sample_rate;
  const json::object body{{"audioContent", core::base64_encode(tts::encode_wav(pcm))}};
  return FakeReply::json(200, json::serialize(body));
}

FakeReply FakeGoogleTts::error(int status, std::string_view grpc_status, std::string_view message) {
  const json::object body{{"error", json::object{{"code", status}, {"message", message}, {"status", grpc_status}}}};
  return FakeReply::json(status, json::serialize(body));
}

FakeReply FakeGoogleTts::answer(State& state, const RecordedRequest& request) {
  switch (state.mode.load()) {
    case Mode::kServerError: return error(500, "INTERNAL", "Internal error encountered.");
    case Mode::kUnavailable: return error(503, "UNAVAILABLE", "The service is currently unavailable.");
    case Mode::kStall: {
      FakeReply never;
      never.first_byte_delay = std::chrono::hours(1);
      return never;
    }
    case Mode::kHealthy: break;
  }
  if (request.method != "POST" || request.path != "/v1/text:synthesize") {
    return error(404, "NOT_FOUND", "Method not found.");
  }
  if (request.header("x-goog-api-key") != state.api_key) {
    return error(403, "PERMISSION_DENIED", "Method doesn't allow unregistered callers.");
  }
  boost::system::error_code ec;
  const json::value body = json::parse(request.body, ec);
  const json::value* text = nullptr;
  const json::value* rate = nullptr;
  if (!ec && body.is_object()) {
    if (const auto* input = body.as_object().if_contains("input"); input != nullptr && input->is_object()) {
      text = input->as_object().if_contains("text");
    }
    if (const auto* config = body.as_object().if_contains("audioConfig"); config != nullptr && config->is_object()) {
      rate = config->as_object().if_contains("sampleRateHertz");
      const auto* encoding = config->as_object().if_contains("audioEncoding");
      if (encoding == nullptr || !encoding->is_string() || encoding->as_string() != "LINEAR16") {
        return error(400, "INVALID_ARGUMENT", "This fake only speaks LINEAR16.");
      }
    }
  }
  const auto* voice = !ec && body.is_object() ? body.as_object().if_contains("voice") : nullptr;
  if (text == nullptr || !text->is_string() || text->as_string().empty() || voice == nullptr || !voice->is_object() ||
      !voice->as_object().contains("languageCode")) {
    return error(400, "INVALID_ARGUMENT", "Invalid request: input.text and voice.languageCode are required.");
  }
  const int sample_rate = rate != nullptr && rate->is_int64() ? static_cast<int>(rate->as_int64()) : 24000;
  const auto characters = static_cast<double>(text->as_string().size());
  const auto count =
      static_cast<std::size_t>(characters * static_cast<double>(state.ms_per_char.count()) * sample_rate / 1000.0);
  std::vector<std::int16_t> samples(count);
  for (std::size_t i = 0; i < count; ++i) {
    samples[i] = static_cast<std::int16_t>(
        kToneAmplitude * std::sin(2.0 * std::numbers::pi * kToneHz * static_cast<double>(i) / sample_rate));
  }
  ++state.audio_replies;
  return audio_reply(samples, sample_rate);
}

}  // namespace evolveai::testing
