#include "services/voice_replies.hpp"

#include <utility>

#include "core/utf8.hpp"
#include "services/user_settings.hpp"
#include "storage/store.hpp"

namespace evolveai::services {
namespace {

/// The reply without Markdown marks a voice would read out: code fences, emphasis stars,
/// backticks, doubled underscores and heading hashes at the start of a line.
std::string without_markdown(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool line_start = true;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '*' || c == '`') {
      continue;
    }
    if (c == '_' && i + 1 < text.size() && text[i + 1] == '_') {
      ++i;
      continue;
    }
    if (c == '#' && line_start) {
      while (i + 1 < text.size() && (text[i + 1] == '#' || text[i + 1] == ' ')) {
        ++i;
      }
      continue;
    }
    line_start = c == '\n';
    out.push_back(c);
  }
  return out;
}

bool ends_sentence(char c) {
  return c == '.' || c == '!' || c == '?' || c == '\n';
}

}  // namespace

std::string speakable_excerpt(std::string_view reply, std::size_t max_chars) {
  std::string plain = without_markdown(reply);
  const std::string_view text = plain;
  const std::string_view head = core::utf8_prefix(text, max_chars);
  if (head.size() == text.size()) {
    return plain;
  }
  // Prefer the last sentence end, then the last space; cut hard only for one endless word.
  std::size_t cut = std::string_view::npos;
  for (std::size_t i = head.size(); i-- > 0;) {
    if (ends_sentence(head[i])) {
      cut = i + 1;
      break;
    }
  }
  if (cut == std::string_view::npos || cut < head.size() / 2) {
    const auto space = head.rfind(' ');
    if (space != std::string_view::npos && space > 0) {
      cut = cut == std::string_view::npos ? space : std::max(cut, space);
    }
  }
  if (cut == std::string_view::npos) {
    cut = head.size();
  }
  std::string out(head.substr(0, cut));
  while (!out.empty() && (out.back() == ' ' || out.back() == '\n')) {
    out.pop_back();
  }
  return out;
}

VoiceReplies::VoiceReplies(storage::Store& store, TtsService& tts, VoiceRepliesGate gate)
    : store_(store), tts_(tts), gate_(std::move(gate)) {}

Task<std::optional<VoiceReply>> VoiceReplies::reply_to(storage::UserId user_id, std::optional<bool> requested,
                                                       std::string_view reply, AudioFormat format,
                                                       obs::TraceContext trace) {
  const auto user = co_await store_.find_user(user_id);
  const auto settings = user ? parse_stored_settings(user->settings_json) : UserSettings{};
  bool want = requested.value_or(settings.voice_replies);
  if (want && gate_) {
    want = co_await gate_(user_id);
  }
  if (!want) {
    co_return std::nullopt;
  }
  SpeechRequest request;
  request.user_id = user_id;
  request.text = speakable_excerpt(reply, tts_.limits().max_chars);
  request.format = std::string(audio_format_name(format));
  request.voice = settings.voice;
  request.trace = trace;
  VoiceReply result;
  try {
    result.speech = co_await tts_.speak(request);
  } catch (const core::Error& error) {
    result.refused = error;
  }
  co_return result;
}

}  // namespace evolveai::services
