#include "ai/sse_parser.hpp"

#include <algorithm>
#include <stdexcept>

namespace evolveai::ai {

namespace {

constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";

}  // namespace

SseParser::SseParser(std::size_t max_event_bytes) : max_event_bytes_(max_event_bytes) {}

void SseParser::feed(std::string_view bytes, std::vector<SseEvent>& out) {
  if (!started_) {
    // Hold back a possible partial byte order mark until it can be told apart.
    line_.append(bytes);
    if (line_.size() < kByteOrderMark.size() && kByteOrderMark.starts_with(line_)) {
      return;
    }
    started_ = true;
    std::string pending;
    pending.swap(line_);
    std::string_view rest = pending;
    if (rest.starts_with(kByteOrderMark)) {
      rest.remove_prefix(kByteOrderMark.size());
    }
    feed(rest, out);
    return;
  }
  while (!bytes.empty()) {
    if (skip_lf_) {
      skip_lf_ = false;
      if (bytes.front() == '\n') {
        bytes.remove_prefix(1);
        continue;
      }
    }
    const auto end = bytes.find_first_of("\r\n");
    if (end == std::string_view::npos) {
      if (line_.size() + bytes.size() > max_event_bytes_) {
        throw std::length_error("server-sent event line over the limit");
      }
      line_.append(bytes);
      return;
    }
    if (line_.size() + end > max_event_bytes_) {
      throw std::length_error("server-sent event line over the limit");
    }
    skip_lf_ = bytes[end] == '\r';
    if (line_.empty()) {
      line(bytes.substr(0, end), out);
    } else {
      line_.append(bytes.substr(0, end));
      std::string complete;
      complete.swap(line_);
      line(complete, out);
    }
    bytes.remove_prefix(end + 1);
  }
}

void SseParser::finish(std::vector<SseEvent>& out) {
  if (!started_) {
    started_ = true;
    if (line_ == kByteOrderMark.substr(0, line_.size())) {
      line_.clear();
    }
  }
  if (!line_.empty()) {
    std::string last;
    last.swap(line_);
    line(last, out);
  }
  dispatch(out);
}

void SseParser::line(std::string_view text, std::vector<SseEvent>& out) {
  if (text.empty()) {
    dispatch(out);
    return;
  }
  if (text.front() == ':') {
    ++comments_;
    return;
  }
  const auto colon = text.find(':');
  const std::string_view field = text.substr(0, colon);
  std::string_view value;
  if (colon != std::string_view::npos) {
    value = text.substr(colon + 1);
    if (value.starts_with(' ')) {
      value.remove_prefix(1);
    }
  }
  if (field == "data") {
    if (data_.size() + value.size() + 1 > max_event_bytes_) {
      throw std::length_error("server-sent event over the limit");
    }
    if (has_data_) {
      data_.push_back('\n');
    }
    data_.append(value);
    has_data_ = true;
  } else if (field == "event") {
    type_ = std::string(value);
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) {
      last_event_id_ = std::string(value);
    }
  } else if (field == "retry") {
    if (!value.empty() && value.size() < 10 &&
        std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      retry_ = std::chrono::milliseconds(std::stoll(std::string(value)));
    }
  } else {
    if (stray_.size() + text.size() + 1 > max_event_bytes_) {
      throw std::length_error("stray server-sent-event text over the limit");
    }
    stray_.append(text);
    stray_.push_back('\n');
  }
}

void SseParser::dispatch(std::vector<SseEvent>& out) {
  if (!has_data_) {
    type_.clear();
    return;
  }
  SseEvent event;
  event.type = type_.empty() ? "message" : type_;
  event.data = std::move(data_);
  event.id = last_event_id_;
  out.push_back(std::move(event));
  data_.clear();
  type_.clear();
  has_data_ = false;
}

}  // namespace evolveai::ai
