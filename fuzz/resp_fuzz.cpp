// Fuzzes the RESP reader that parses what Redis sends: the input is bytes from the socket.
// Checks that malformed input only ever ends in RedisError (kProtocol), that chunking the bytes
// anywhere changes nothing, and that every command we encode reads back as itself.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/redis_protocol.hpp"

namespace {

namespace net = evolveai::net;

/// The replies in `bytes` and whether the parser refused them, fed whole or in chunks.
struct Read {
  std::vector<net::RedisReply> replies;
  bool refused = false;
};

void touch(const net::RedisReply& reply) {
  // Exercise the accessors handlers use; each either answers or throws RedisError.
  try {
    (void)reply.as_optional_string();
  } catch (const net::RedisError&) {
  }
  try {
    (void)reply.as_integer();
  } catch (const net::RedisError&) {
  }
  try {
    reply.throw_if_error();
  } catch (const net::RedisError& error) {
    if (error.kind() != net::RedisErrorKind::kServer) {
      std::abort();
    }
    (void)net::is_redis_unavailable(error);
  }
  for (const auto& element : reply.elements) {
    touch(element);
  }
}

Read read(std::string_view bytes, bool chunked) {
  Read result;
  net::RespParser parser;
  try {
    std::size_t at = 0;
    std::size_t turn = 0;
    while (at < bytes.size()) {
      std::size_t size = bytes.size() - at;
      if (chunked) {
        size = std::min<std::size_t>(size, 1 + static_cast<unsigned char>(bytes[turn % bytes.size()]) % 8);
        ++turn;
      }
      parser.feed(bytes.substr(at, size));
      at += size;
      while (auto reply = parser.next()) {
        result.replies.push_back(std::move(*reply));
      }
    }
  } catch (const net::RedisError& error) {
    if (error.kind() != net::RedisErrorKind::kProtocol) {
      std::abort();
    }
    result.refused = true;
  }
  return result;
}

/// Splits `bytes` at NUL bytes into a command's arguments.
std::vector<std::string> arguments(std::string_view bytes) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= bytes.size() && out.size() < 16) {
    const auto end = std::min(bytes.find('\0', start), bytes.size());
    out.emplace_back(bytes.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

}  // namespace

// NOLINTNEXTLINE(readability-identifier-naming): the entry point libFuzzer calls
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Reading the fuzzer's bytes as characters is allowed aliasing.
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);

  const Read whole = read(bytes, false);
  const Read chunked = read(bytes, true);
  // The parser checks bytes as they come: cutting them changes neither the replies nor a refusal.
  if (whole.refused != chunked.refused || whole.replies != chunked.replies) {
    std::abort();
  }
  for (const auto& reply : whole.replies) {
    touch(reply);
  }

  // Encoding is the other direction: what we send must parse back as the same arguments.
  const auto command = arguments(bytes);
  net::RespParser parser;
  parser.feed(net::encode_command(command));
  const auto echoed = parser.next();
  if (!echoed || echoed->type != net::RedisReply::Type::kArray || echoed->elements.size() != command.size()) {
    std::abort();
  }
  for (std::size_t i = 0; i < command.size(); ++i) {
    if (echoed->elements[i].type != net::RedisReply::Type::kString || echoed->elements[i].text != command[i]) {
      std::abort();
    }
  }
  return 0;
}
