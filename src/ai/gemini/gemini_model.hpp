#pragma once

#include <memory>
#include <string>

#include "ai/http_chat_model.hpp"

namespace evolveai::ai::gemini {

/// Where and how to call the Gemini REST API (generativelanguage).
struct GeminiSettings {
  /// The API root, version included; requests go to `{base_url}/models/{model}:…`.
  std::string base_url = "https://generativelanguage.googleapis.com/v1beta";
  std::string model = "gemini-2.5-flash";
  std::string api_key;  ///< sent as `x-goog-api-key`; secret
  /// Threshold sent for the four adjustable harm categories; empty sends no safetySettings.
  std::string safety_threshold = "BLOCK_MEDIUM_AND_ABOVE";
};

/// The Gemini wire format: `generateContent` and `streamGenerateContent?alt=sse` with
/// systemInstruction, contents (inline_data for media), generationConfig and
/// safetySettings; replies read from candidates, promptFeedback and usageMetadata
/// (the last event's when streaming); error bodies `{"error":{code,message,status,details}}`
/// with RetryInfo honoured.
[[nodiscard]] std::unique_ptr<ProviderDialect> make_dialect(GeminiSettings settings);

/// A Gemini chat model over `client`.
[[nodiscard]] std::unique_ptr<ChatModel> make_model(GeminiSettings settings, std::shared_ptr<net::HttpClient> client,
                                                    ModelCallOptions options);

/// Maps a Gemini finishReason to ours: STOP stop, MAX_TOKENS length, SAFETY, BLOCKLIST,
/// PROHIBITED_CONTENT, SPII and IMAGE_SAFETY safety, RECITATION recitation, anything
/// else (OTHER, LANGUAGE, unknown values) error.
[[nodiscard]] FinishReason map_finish_reason(std::string_view reason) noexcept;

}  // namespace evolveai::ai::gemini
