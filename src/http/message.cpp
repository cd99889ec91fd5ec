#include "http/message.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

namespace evolveai::http {

std::optional<std::string_view> Request::param(std::string_view name) const {
  for (const auto& [key, value] : path_params) {
    if (key == name) {
      return value;
    }
  }
  return std::nullopt;
}

std::optional<std::string> Request::query_param(std::string_view name) const {
  // A query never holds '#' (RFC 3986): after the '?' below it would start a fragment, and
  // Boost.URL 1.81 overruns the stack iterating an empty query followed by one ("?#").
  if (query.empty() || query.find('#') != std::string::npos) {
    return std::nullopt;
  }
  const std::string relative = "?" + query;
  auto parsed = boost::urls::parse_relative_ref(relative);
  if (!parsed) {
    return std::nullopt;
  }
  for (const auto& param : parsed->params()) {
    if (param.key == name) {
      return std::string(param.value);
    }
  }
  return std::nullopt;
}

Response Response::json(int status, std::string json_body) {
  Response response;
  response.status = status;
  response.headers.set("Content-Type", "application/json");
  response.body = std::move(json_body);
  return response;
}

Response Response::text(int status, std::string text, std::string content_type) {
  Response response;
  response.status = status;
  response.headers.set("Content-Type", std::move(content_type));
  response.body = std::move(text);
  return response;
}

Response Response::empty(int status) {
  Response response;
  response.status = status;
  return response;
}

Response Response::event_stream(StreamBody body) {
  Response response;
  response.status = 200;
  response.headers.set("Content-Type", "text/event-stream");
  response.headers.set("Cache-Control", "no-cache");
  response.headers.set("X-Accel-Buffering", "no");
  response.stream = std::move(body);
  return response;
}

std::string format_sse_event(std::string_view event, std::string_view data) {
  std::string out;
  out.reserve(event.size() + data.size() + 16);
  if (!event.empty()) {
    out.append("event: ").append(event).append("\n");
  }
  std::size_t start = 0;
  while (true) {
    const auto end = data.find_first_of("\r\n", start);
    const auto line = data.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    out.append("data: ").append(line).append("\n");
    if (end == std::string_view::npos) {
      break;
    }
    start = end + 1;
    if (data[end] == '\r' && start < data.size() && data[start] == '\n') {
      ++start;
    }
  }
  out.append("\n");
  return out;
}

std::string format_sse_comment(std::string_view text) {
  std::string out = ": ";
  for (const char c : text) {
    out.push_back(c == '\n' || c == '\r' ? ' ' : c);
  }
  out.append("\n\n");
  return out;
}

}  // namespace evolveai::http
