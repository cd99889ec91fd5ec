#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/errors.hpp"
#include "core/task.hpp"
#include "services/tts_service.hpp"
#include "storage/records.hpp"

namespace evolveai::storage {
class Store;
}

namespace evolveai::services {

/// The part of a reply that is spoken: the whole text when it has at most `max_chars`
/// characters, else its beginning cut after the last sentence end (or, failing that, the last
/// space) that fits, so speech never stops mid-word. Markdown emphasis and code fences are
/// dropped, since a voice cannot show them.
[[nodiscard]] std::string speakable_excerpt(std::string_view reply, std::size_t max_chars);

/// A voice reply, or why there is none (e.g. 402 `premium_required` when the free allowance
/// of speech is used up): the text reply stands either way.
struct VoiceReply {
  std::optional<Speech> speech;
  std::optional<core::Error> refused;
};

/// Decides per user whether a reply also comes as voice. False disables voice replies for the user
/// (a feature flag); an empty function allows them for everyone.
using VoiceRepliesGate = std::function<Task<bool>(storage::UserId)>;

/// Voice replies to chat turns, for both front doors: whether the user wants one (the request's
/// own flag, else the user's `voice_replies` setting) and the reply spoken in the user's chosen
/// voice through TtsService, which applies the daily speech allowance and the audio cache.
class VoiceReplies {
 public:
  VoiceReplies(storage::Store& store, TtsService& tts, VoiceRepliesGate gate = {});

  /// The reply spoken for the user when it should be (`requested` when the client said, else the
  /// user's `voice_replies` setting; never when the gate says no), in the user's chosen voice;
  /// nullopt when no voice reply is wanted. Every core::Error from TTS (allowance used up,
  /// nothing speakable, synthesis unavailable) comes back in `refused`, so a text reply is never
  /// lost to it. The user is read once for both decisions.
  /// `trace` is the reply's span, passed on to a cloud speech engine.
  Task<std::optional<VoiceReply>> reply_to(storage::UserId user_id, std::optional<bool> requested,
                                           std::string_view reply, AudioFormat format = AudioFormat::kOgg,
                                           obs::TraceContext trace = {});

 private:
  storage::Store& store_;
  TtsService& tts_;
  VoiceRepliesGate gate_;
};

}  // namespace evolveai::services
