#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "ai/chat_model.hpp"
#include "core/base64.hpp"

namespace evolveai::net {
class HttpError;
struct HttpResponse;
}  // namespace evolveai::net

namespace evolveai::ai {

/// Both providers carry inline media as standard padded base64.
using core::base64_encode;

/// The reply to show when a provider blocked a prompt or a reply for `reason`
/// (kSafety or kRecitation).
[[nodiscard]] std::string friendly_block_text(FinishReason reason);

/// The failure an HTTP status stands for: 408 timeout, 429 rate limited, 500/502/503/504
/// (and 499 from Google) server, other 4xx and 5xx rejected.
[[nodiscard]] ModelFailure failure_for_status(int status) noexcept;

/// A `Retry-After` header value in seconds ("12"); HTTP dates are not honoured.
[[nodiscard]] std::optional<std::chrono::milliseconds> parse_retry_after_seconds(std::string_view value);

/// A google.protobuf.Duration in JSON form ("22s", "1.5s", "0.250s"); nullopt when malformed or
/// longer than a Duration may be (315,576,000,000 s).
[[nodiscard]] std::optional<std::chrono::milliseconds> parse_proto_duration(std::string_view value);

/// A transport failure (anything but a status error) as a ModelError of `provider`.
[[nodiscard]] ModelError model_error_from_transport(const net::HttpError& error, std::string_view provider);

/// A status error of `provider` whose body holds no JSON error object: the failure its status
/// stands for, with the `Retry-After` hint when the response gave one.
[[nodiscard]] ModelError error_without_json_body(const net::HttpResponse& response, std::string_view provider);

/// Shortens upstream text for a log line.
[[nodiscard]] std::string clip_for_log(std::string_view text, std::size_t max = 300);

/// What a provider's reply has said so far; turned into a ChatResult by the same rules for
/// every provider.
struct ReplyAccumulator {
  std::string text;
  std::optional<FinishReason> finish;
  std::string raw_finish;
  Usage usage;
  std::string model;
  bool prompt_blocked = false;
  std::string block_reason;
  bool saw_reply = false;  ///< a recognisable reply object arrived

  /// The result: a blocked prompt is kSafety with friendly text; safety and recitation
  /// stops are flagged blocked; no finish reason means kStop; no text at all (unless
  /// blocked) is kError. Throws ModelError kBadResponse when no reply object arrived.
  [[nodiscard]] ChatResult finalize(std::string_view provider, std::string_view configured_model) const;

  /// The text so far, marked kInterrupted (the caller stopped the stream).
  [[nodiscard]] ChatResult interrupted(std::string_view configured_model) const;
};

}  // namespace evolveai::ai
