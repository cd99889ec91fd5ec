#include "support/http_test_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace evolveai::testing {

std::string HttpReply::header(const std::string& lower_name) const {
  const auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

RawConnection::RawConnection(std::uint16_t port, std::chrono::milliseconds timeout) : timeout_(timeout) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ < 0) {
    throw std::runtime_error("socket() failed");
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    ::close(fd_);
    fd_ = -1;
    throw std::runtime_error("connect() failed");
  }
  const int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

RawConnection::~RawConnection() {
  close();
}

void RawConnection::close() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

void RawConnection::reset() {
  if (fd_ >= 0) {
    const ::linger abort{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
  }
  close();
}

bool RawConnection::send(const std::string& bytes) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const auto n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      return false;
    }
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

bool RawConnection::fill(std::chrono::milliseconds wait) {
  pollfd descriptor{fd_, POLLIN, 0};
  if (::poll(&descriptor, 1, static_cast<int>(wait.count())) <= 0) {
    return false;
  }
  char chunk[16384];
  const auto n = ::recv(fd_, chunk, sizeof(chunk), 0);
  if (n <= 0) {
    return false;
  }
  buffer_.append(chunk, static_cast<std::size_t>(n));
  return true;
}

std::optional<std::string> RawConnection::read_line() {
  while (true) {
    if (const auto end = buffer_.find("\r\n"); end != std::string::npos) {
      std::string line = buffer_.substr(0, end);
      buffer_.erase(0, end + 2);
      return line;
    }
    if (!fill(timeout_)) {
      return std::nullopt;
    }
  }
}

std::optional<std::string> RawConnection::read_exact(std::size_t count) {
  while (buffer_.size() < count) {
    if (!fill(timeout_)) {
      return std::nullopt;
    }
  }
  std::string out = buffer_.substr(0, count);
  buffer_.erase(0, count);
  return out;
}

std::optional<HttpReply> RawConnection::read_head() {
  auto status_line = read_line();
  if (!status_line || status_line->size() < 12) {
    return std::nullopt;
  }
  HttpReply reply;
  reply.status = std::stoi(status_line->substr(9, 3));
  while (true) {
    auto line = read_line();
    if (!line) {
      return std::nullopt;
    }
    if (line->empty()) {
      break;
    }
    const auto colon = line->find(':');
    if (colon == std::string::npos) {
      continue;
    }
    std::string name = line->substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::string value = line->substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    reply.headers[name] = value;
  }
  return reply;
}

std::optional<std::string> RawConnection::read_chunk() {
  auto size_line = read_line();
  if (!size_line) {
    return std::nullopt;
  }
  const auto size = std::stoul(*size_line, nullptr, 16);
  if (size == 0) {
    read_line();
    return std::nullopt;
  }
  auto data = read_exact(size);
  if (!data || !read_line()) {
    return std::nullopt;
  }
  return data;
}

std::optional<HttpReply> RawConnection::read_reply() {
  auto reply = read_head();
  if (!reply) {
    return std::nullopt;
  }
  if (reply->header("transfer-encoding") == "chunked") {
    while (auto chunk = read_chunk()) {
      reply->body += *chunk;
      reply->chunks.push_back(std::move(*chunk));
    }
    return reply;
  }
  const auto length = reply->header("content-length");
  if (!length.empty()) {
    auto body = read_exact(std::stoul(length));
    if (!body) {
      return std::nullopt;
    }
    reply->body = std::move(*body);
  }
  return reply;
}

bool RawConnection::closed_within(std::chrono::milliseconds wait) {
  const auto until = std::chrono::steady_clock::now() + wait;
  while (std::chrono::steady_clock::now() < until) {
    pollfd descriptor{fd_, POLLIN, 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    if (::poll(&descriptor, 1, static_cast<int>(std::max<long>(1, left.count()))) <= 0) {
      continue;
    }
    char chunk[4096];
    const auto n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n <= 0) {
      return true;
    }
  }
  return false;
}

std::optional<HttpReply> http_request(std::uint16_t port, const std::string& method, const std::string& target,
                                      const std::string& body, const std::map<std::string, std::string>& headers) {
  RawConnection connection(port);
  std::string request = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  for (const auto& [name, value] : headers) {
    request += name + ": " + value + "\r\n";
  }
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
    request += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  request += "\r\n" + body;
  if (!connection.send(request)) {
    return std::nullopt;
  }
  return connection.read_reply();
}

}  // namespace evolveai::testing
