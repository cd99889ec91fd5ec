#include "fakes/fake_sentry.hpp"

#include <fmt/format.h>

#include <boost/json/parse.hpp>

namespace evolveai::testing {
namespace {

/// Line `index` (0-based) of `text` split at '\n', or nullopt.
std::optional<std::string_view> line_at(std::string_view text, std::size_t index) {
  for (std::size_t i = 0; i < index; ++i) {
    const auto end = text.find('\n');
    if (end == std::string_view::npos) {
      return std::nullopt;
    }
    text.remove_prefix(end + 1);
  }
  return text.substr(0, text.find('\n'));
}

std::optional<boost::json::object> json_object(std::string_view text) {
  boost::system::error_code ec;
  auto value = boost::json::parse(text, ec);
  if (ec || !value.is_object()) {
    return std::nullopt;
  }
  return std::move(value.as_object());
}

bool is_envelope_path(std::string_view path) {
  return path.find("/api/") != std::string_view::npos && path.ends_with("/envelope/");
}

}  // namespace

std::string ReceivedEnvelope::tag(std::string_view name) const {
  const auto* tags = event.if_contains("tags");
  if (tags == nullptr || !tags->is_object()) {
    return {};
  }
  const auto* value = tags->as_object().if_contains(name);
  return value != nullptr && value->is_string() ? std::string(value->as_string()) : std::string();
}

FakeSentry::FakeSentry() {
  set_responder([](const RecordedRequest& request) {
    if (request.method != "POST" || !is_envelope_path(request.path)) {
      return FakeReply::json(404, R"({"detail":"not found"})");
    }
    const auto envelope = parse(request);
    if (!envelope) {
      return FakeReply::json(400, R"({"detail":"malformed envelope"})");
    }
    const auto* id = envelope->header.if_contains("event_id");
    const std::string event_id = id != nullptr && id->is_string() ? std::string(id->as_string()) : std::string();
    return FakeReply::json(200, fmt::format(R"({{"id":"{}"}})", event_id));
  });
}

std::string FakeSentry::dsn(std::string_view key, std::string_view prefix, std::string_view project) const {
  return fmt::format("http://{}@127.0.0.1:{}{}/{}", key, port(), prefix, project);
}

std::optional<ReceivedEnvelope> FakeSentry::parse(const RecordedRequest& request) {
  const std::string_view body = request.body;
  const auto first = line_at(body, 0);
  const auto second = line_at(body, 1);
  const auto third = line_at(body, 2);
  if (!first || !second || !third) {
    return std::nullopt;
  }
  ReceivedEnvelope envelope;
  auto header = json_object(*first);
  auto item_header = json_object(*second);
  auto event = json_object(*third);
  if (!header || !item_header || !event) {
    return std::nullopt;
  }
  const auto* length = item_header->if_contains("length");
  if (length == nullptr || !length->is_number() || length->to_number<std::size_t>() != third->size()) {
    return std::nullopt;
  }
  envelope.raw = request.body;
  envelope.auth = request.header("x-sentry-auth");
  envelope.content_type = request.header("content-type");
  envelope.path = request.path;
  envelope.header = std::move(*header);
  envelope.item_header = std::move(*item_header);
  envelope.payload = std::string(*third);
  envelope.event = std::move(*event);
  return envelope;
}

std::vector<ReceivedEnvelope> FakeSentry::envelopes() const {
  std::vector<ReceivedEnvelope> out;
  for (const auto& request : requests()) {
    if (request.method == "POST" && is_envelope_path(request.path)) {
      if (auto envelope = parse(request)) {
        out.push_back(std::move(*envelope));
      }
    }
  }
  return out;
}

std::vector<std::string> FakeSentry::malformed() const {
  std::vector<std::string> out;
  for (const auto& request : requests()) {
    if (!parse(request)) {
      out.push_back(request.body);
    }
  }
  return out;
}

FakeReply FakeSentry::too_many(std::chrono::seconds retry_after) {
  auto reply = FakeReply::json(429, R"({"detail":"rate limited"})");
  reply.headers.emplace_back("Retry-After", std::to_string(retry_after.count()));
  return reply;
}

}  // namespace evolveai::testing
