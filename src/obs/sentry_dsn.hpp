#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace evolveai::obs {

/// A parsed Sentry DSN, `{scheme}://{public_key}@{host}[:port][/prefix]/{project_id}`:
/// where error reports go and the key they are sent with.
struct SentryDsn {
  std::string scheme;      ///< "http" or "https"
  std::string public_key;  ///< the key part before '@' (a legacy ":secret" suffix is dropped)
  std::string host;        ///< a name, an IPv4 address or a bracketed IPv6 address
  std::optional<std::uint16_t> port;
  std::string path_prefix;  ///< "" or "/some/prefix", never with a trailing '/'
  std::string project_id;

  /// The envelope endpoint: `{scheme}://{host}[:port]{prefix}/api/{project_id}/envelope/`.
  [[nodiscard]] std::string envelope_url() const;
  /// The DSN again, in canonical form (what the envelope header's `dsn` carries).
  [[nodiscard]] std::string text() const;
  /// The `X-Sentry-Auth` header value for a client of this version.
  [[nodiscard]] std::string auth_header(std::string_view client_version) const;
};

/// What parsing a DSN came to: the DSN, or why it is malformed (never echoing the key).
struct SentryDsnParse {
  std::optional<SentryDsn> dsn;
  std::string problem;  ///< empty when `dsn` is set
};

/// Parses a DSN; a malformed one yields a problem in words fit for a config error.
[[nodiscard]] SentryDsnParse parse_sentry_dsn(std::string_view text);

}  // namespace evolveai::obs
