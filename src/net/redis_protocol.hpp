#pragma once

#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

struct redisReader;

namespace evolveai::net {

/// Why a Redis call failed.
enum class RedisErrorKind {
  kInvalidUrl,      ///< the configured URL cannot be used
  kConnect,         ///< name resolution or TCP connect failed, or AUTH/SELECT was refused (server_code() set)
  kConnectionLost,  ///< the connection broke (or was closed) before the reply came
  kTimeout,         ///< connect or command timeout
  kProtocol,        ///< the server sent something that is not RESP (or not what was asked)
  kServer,          ///< the server answered with an error reply (see server_code())
};

/// A failed Redis call. Error replies (`-ERR …`, `-NOSCRIPT …`) are kServer and carry their code.
class RedisError : public std::runtime_error {
 public:
  RedisError(RedisErrorKind kind, const std::string& message, std::string server_code = {});

  [[nodiscard]] RedisErrorKind kind() const noexcept { return kind_; }
  /// The first word of a server error reply ("ERR", "NOSCRIPT", "WRONGTYPE", …); empty otherwise.
  [[nodiscard]] const std::string& server_code() const noexcept { return server_code_; }
  /// A copy that shares no storage with this one (std::runtime_error copies share their
  /// message), for handing the same failure to callers on other threads.
  [[nodiscard]] RedisError clone() const;
  /// An error for a server error reply with this text.
  static RedisError server(std::string_view reply_text);
  /// A kConnect error for a login step (AUTH, SELECT) the server refused with this reply.
  static RedisError handshake(std::string_view step, std::string_view reply_text);

 private:
  RedisErrorKind kind_;
  std::string server_code_;
};

/// True when `failure` means Redis is unreachable or unwell (transport failures, timeouts,
/// and the LOADING/BUSY/MASTERDOWN/READONLY/TRYAGAIN/CLUSTERDOWN/OOM replies) — what a
/// circuit breaker should count. Ordinary error replies mean Redis answered and are not counted.
[[nodiscard]] bool is_redis_unavailable(const std::exception& failure) noexcept;

/// One RESP2 reply, with nested arrays.
struct RedisReply {
  enum class Type { kNil, kString, kStatus, kInteger, kError, kArray };

  Type type = Type::kNil;
  std::string text;  ///< bulk string bytes (binary-safe), status text or error text
  std::int64_t integer = 0;
  std::vector<RedisReply> elements;

  [[nodiscard]] bool is_nil() const noexcept { return type == Type::kNil; }
  [[nodiscard]] bool is_error() const noexcept { return type == Type::kError; }
  /// Throws RedisError (kServer) when this is an error reply.
  const RedisReply& throw_if_error() const;
  /// The bytes of a bulk string or status reply; nullopt for nil; throws RedisError (kProtocol) for other types.
  [[nodiscard]] std::optional<std::string> as_optional_string() const;
  /// The value of an integer reply; throws RedisError (kProtocol) for other types.
  [[nodiscard]] std::int64_t as_integer() const;

  bool operator==(const RedisReply&) const = default;
};

/// A command as its arguments, e.g. {"SET", "key", "value", "PX", "1000"}; binary-safe.
using RedisCommand = std::vector<std::string>;

/// Appends `command` to `out` as a RESP array of bulk strings.
void append_command(std::string& out, std::span<const std::string> command);
/// `command` as a RESP array of bulk strings.
[[nodiscard]] std::string encode_command(std::span<const std::string> command);

/// Incremental RESP parser over hiredis' reader: feed it bytes as they arrive (in pieces
/// of any size), take complete replies out in order.
class RespParser {
 public:
  RespParser();
  ~RespParser();
  RespParser(const RespParser&) = delete;
  RespParser& operator=(const RespParser&) = delete;

  /// Adds received bytes.
  void feed(std::string_view bytes);
  /// The next complete reply, or nullopt when more bytes are needed. Throws RedisError
  /// (kProtocol) on malformed input; the parser is unusable afterwards.
  [[nodiscard]] std::optional<RedisReply> next();

 private:
  struct ReaderDeleter {
    void operator()(redisReader* reader) const noexcept;
  };
  struct ReplyFunctions;  ///< hiredis' reply builders, with a bound on array sizes
  std::unique_ptr<ReplyFunctions> functions_;
  std::unique_ptr<redisReader, ReaderDeleter> reader_;
};

}  // namespace evolveai::net
