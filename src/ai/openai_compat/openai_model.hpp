#pragma once

#include <memory>
#include <string>

#include "ai/http_chat_model.hpp"

namespace evolveai::ai::openai_compat {

/// Where and how to call an OpenAI-compatible chat completions API (OpenAI, Ollama,
/// llama.cpp server, vLLM, OpenRouter).
struct OpenAiSettings {
  /// The API root including its version: requests go to `{base_url}/chat/completions`
  /// (e.g. "https://api.openai.com/v1", "http://localhost:11434/v1").
  std::string base_url = "https://api.openai.com/v1";
  std::string model = "gpt-4o-mini";
  std::string api_key;  ///< sent as `Authorization: Bearer` when set; secret
  /// "max_tokens" (most compatible servers) or "max_completion_tokens" (newer OpenAI models).
  std::string max_tokens_field = "max_tokens";
  bool include_usage = true;  ///< send `stream_options.include_usage` when streaming
};

/// The chat completions wire format: messages with a system message first, content parts
/// for media (image_url data URLs, input_audio for WAV/MP3), `stream: true` with a
/// `[DONE]` terminator, `choices: null` or `[]` tolerated (usage-only chunks), errors as
/// `{"error":{message,type,code}}` bodies or chunks, Retry-After honoured.
[[nodiscard]] std::unique_ptr<ProviderDialect> make_dialect(OpenAiSettings settings);

/// An OpenAI-compatible chat model over `client`.
[[nodiscard]] std::unique_ptr<ChatModel> make_model(OpenAiSettings settings, std::shared_ptr<net::HttpClient> client,
                                                    ModelCallOptions options);

/// Maps a finish_reason: stop stop, length length, content_filter safety, anything else
/// (tool_calls, function_call, unknown) error.
[[nodiscard]] FinishReason map_finish_reason(std::string_view reason) noexcept;

}  // namespace evolveai::ai::openai_compat
