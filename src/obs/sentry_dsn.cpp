#include "obs/sentry_dsn.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace evolveai::obs {
namespace {

constexpr std::string_view kShape = "expected {scheme}://{public_key}@{host}[:port][/prefix]/{project_id}";

bool is_key_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_';
}

bool is_host_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.';
}

bool all_digits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

SentryDsnParse problem(std::string text) {
  return {std::nullopt, std::move(text)};
}

/// Splits `host[:port]` (or `[v6]:port`) into the DSN; returns a problem or "".
std::string parse_host_port(std::string_view host_port, SentryDsn& dsn) {
  if (host_port.empty()) {
    return "missing host";
  }
  std::string_view port_text;
  bool has_port = false;
  if (host_port.front() == '[') {
    const auto close = host_port.find(']');
    if (close == std::string_view::npos || close == 1) {
      return "malformed IPv6 host";
    }
    const auto inside = host_port.substr(1, close - 1);
    const bool valid = std::all_of(inside.begin(), inside.end(), [](char c) {
      return std::isxdigit(static_cast<unsigned char>(c)) != 0 || c == ':' || c == '.';
    });
    if (!valid) {
      return "malformed IPv6 host";
    }
    dsn.host = std::string(host_port.substr(0, close + 1));
    const auto after = host_port.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        return "malformed IPv6 host";
      }
      has_port = true;
      port_text = after.substr(1);
    }
  } else {
    const auto colon = host_port.rfind(':');
    const auto host = host_port.substr(0, colon);
    if (colon != std::string_view::npos) {
      has_port = true;
      port_text = host_port.substr(colon + 1);
    }
    if (host.empty()) {
      return "missing host";
    }
    if (!std::all_of(host.begin(), host.end(), is_host_char)) {
      return "host has characters a host name cannot have";
    }
    dsn.host = std::string(host);
  }
  if (has_port) {
    if (!all_digits(port_text) || port_text.size() > 5) {
      return "port must be a number from 1 to 65535";
    }
    const int port = std::stoi(std::string(port_text));
    if (port < 1 || port > 65535) {
      return "port must be a number from 1 to 65535";
    }
    dsn.port = static_cast<std::uint16_t>(port);
  }
  return {};
}

}  // namespace

std::string SentryDsn::envelope_url() const {
  const std::string port_part = port ? fmt::format(":{}", *port) : std::string();
  return fmt::format("{}://{}{}{}/api/{}/envelope/", scheme, host, port_part, path_prefix, project_id);
}

std::string SentryDsn::text() const {
  const std::string port_part = port ? fmt::format(":{}", *port) : std::string();
  return fmt::format("{}://{}@{}{}{}/{}", scheme, public_key, host, port_part, path_prefix, project_id);
}

std::string SentryDsn::auth_header(std::string_view client_version) const {
  return fmt::format("Sentry sentry_version=7, sentry_key={}, sentry_client=evolveai/{}", public_key, client_version);
}

SentryDsnParse parse_sentry_dsn(std::string_view text) {
  if (std::any_of(text.begin(), text.end(), [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; })) {
    return problem("must not contain spaces");
  }
  const auto scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) {
    return problem(std::string(kShape));
  }
  SentryDsn dsn;
  dsn.scheme = std::string(text.substr(0, scheme_end));
  std::transform(dsn.scheme.begin(), dsn.scheme.end(), dsn.scheme.begin(),
                 [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); });
  if (dsn.scheme != "http" && dsn.scheme != "https") {
    return problem("scheme must be http or https");
  }
  const auto rest = text.substr(scheme_end + 3);
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return problem("must not have a query or a fragment");
  }
  const auto slash = rest.find('/');
  const auto authority = rest.substr(0, slash);
  const auto at = authority.rfind('@');
  if (at == std::string_view::npos) {
    return problem(fmt::format("missing public key; {}", kShape));
  }
  const auto user_info = authority.substr(0, at);
  const auto key = user_info.substr(0, user_info.find(':'));
  if (key.empty()) {
    return problem(fmt::format("missing public key; {}", kShape));
  }
  if (!std::all_of(key.begin(), key.end(), is_key_char)) {
    return problem("public key may only hold letters, digits, '-' and '_'");
  }
  dsn.public_key = std::string(key);
  if (auto host_problem = parse_host_port(authority.substr(at + 1), dsn); !host_problem.empty()) {
    return problem(std::move(host_problem));
  }
  if (slash == std::string_view::npos) {
    return problem(fmt::format("missing project id; {}", kShape));
  }
  const auto path = rest.substr(slash);  // starts with '/'
  const auto last = path.rfind('/');
  const auto project = path.substr(last + 1);
  if (project.empty()) {
    return problem(fmt::format("missing project id; {}", kShape));
  }
  if (!all_digits(project)) {
    return problem("project id must be a number");
  }
  const auto prefix = path.substr(0, last);
  if (prefix.find("//") != std::string_view::npos || (!prefix.empty() && prefix.back() == '/')) {
    return problem("path has an empty segment");
  }
  dsn.project_id = std::string(project);
  dsn.path_prefix = std::string(prefix);
  return {std::move(dsn), {}};
}

}  // namespace evolveai::obs
