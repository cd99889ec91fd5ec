#pragma once

#include <boost/json/object.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fakes/fake_upstream.hpp"

namespace evolveai::testing {

/// One envelope as the fake collector received it, split into its three lines.
struct ReceivedEnvelope {
  std::string raw;                  ///< the whole body, byte for byte
  std::string auth;                 ///< the X-Sentry-Auth header
  std::string content_type;         ///< the Content-Type header
  std::string path;                 ///< the request path
  boost::json::object header;       ///< line 1: event_id, sent_at, dsn
  boost::json::object item_header;  ///< line 2: type, length
  std::string payload;              ///< line 3 as sent
  boost::json::object event;        ///< line 3 parsed

  /// A tag of the event, or "" when it has none by that name.
  [[nodiscard]] std::string tag(std::string_view name) const;
};

/// A fake Sentry collector (`POST /api/{project}/envelope/`) on loopback: it answers 200 with
/// the event id, or whatever is scripted (e.g. 429 with Retry-After), and records every
/// envelope it could parse. A body that is not a well-formed three-line event envelope is
/// answered 400 and recorded in `malformed()`.
class FakeSentry : public FakeUpstream {
 public:
  FakeSentry();

  /// A DSN pointing here: "http://<key>@127.0.0.1:PORT<prefix>/<project>".
  [[nodiscard]] std::string dsn(std::string_view key = "publickey1", std::string_view prefix = "",
                                std::string_view project = "42") const;

  /// Every envelope parsed so far, in arrival order.
  [[nodiscard]] std::vector<ReceivedEnvelope> envelopes() const;
  /// Bodies that were not well-formed envelopes.
  [[nodiscard]] std::vector<std::string> malformed() const;

  /// Splits and parses an envelope; nullopt when it is not three JSON lines with a matching length.
  static std::optional<ReceivedEnvelope> parse(const RecordedRequest& request);
  /// HTTP 429 with `Retry-After: <seconds>`.
  static FakeReply too_many(std::chrono::seconds retry_after);
};

}  // namespace evolveai::testing
