#include "net/redis_protocol.hpp"

#include <hiredis/hiredis.h>

#include <array>

namespace evolveai::net {

namespace {

std::string first_word(std::string_view text) {
  const auto end = text.find(' ');
  return std::string(text.substr(0, end));
}

RedisReply convert(const redisReply& raw) {
  RedisReply reply;
  switch (raw.type) {
    case REDIS_REPLY_STRING:
      reply.type = RedisReply::Type::kString;
      reply.text.assign(raw.str, raw.len);
      break;
    case REDIS_REPLY_STATUS:
      reply.type = RedisReply::Type::kStatus;
      reply.text.assign(raw.str, raw.len);
      break;
    case REDIS_REPLY_ERROR:
      reply.type = RedisReply::Type::kError;
      reply.text.assign(raw.str, raw.len);
      break;
    case REDIS_REPLY_INTEGER:
      reply.type = RedisReply::Type::kInteger;
      reply.integer = raw.integer;
      break;
    case REDIS_REPLY_ARRAY:
      reply.type = RedisReply::Type::kArray;
      reply.elements.reserve(raw.elements);
      for (std::size_t i = 0; i < raw.elements; ++i) {
        reply.elements.push_back(convert(*raw.element[i]));
      }
      break;
    case REDIS_REPLY_NIL:
    default: reply.type = RedisReply::Type::kNil; break;
  }
  return reply;
}

}  // namespace

RedisError::RedisError(RedisErrorKind kind, const std::string& message, std::string server_code)
    : std::runtime_error(message), kind_(kind), server_code_(std::move(server_code)) {}

RedisError RedisError::clone() const {
  return {kind_, std::string(what()), std::string(server_code_)};
}

RedisError RedisError::server(std::string_view reply_text) {
  return {RedisErrorKind::kServer, "redis error reply: " + std::string(reply_text), first_word(reply_text)};
}

RedisError RedisError::handshake(std::string_view step, std::string_view reply_text) {
  return {RedisErrorKind::kConnect, "redis " + std::string(step) + " failed: " + std::string(reply_text),
          first_word(reply_text)};
}

bool is_redis_unavailable(const std::exception& failure) noexcept {
  const auto* error = dynamic_cast<const RedisError*>(&failure);
  if (error == nullptr)
    return false;
  switch (error->kind()) {
    case RedisErrorKind::kConnect:
    case RedisErrorKind::kConnectionLost:
    case RedisErrorKind::kTimeout:
    case RedisErrorKind::kProtocol: return true;
    case RedisErrorKind::kServer: {
      static constexpr std::array<std::string_view, 7> kUnwell = {"LOADING",  "BUSY",        "MASTERDOWN", "READONLY",
                                                                  "TRYAGAIN", "CLUSTERDOWN", "OOM"};
      for (const auto code : kUnwell) {
        if (error->server_code() == code)
          return true;
      }
      return false;
    }
    case RedisErrorKind::kInvalidUrl: return false;
  }
  return false;
}

const RedisReply& RedisReply::throw_if_error() const {
  if (type == Type::kError)
    throw RedisError::server(text);
  return *this;
}

std::optional<std::string> RedisReply::as_optional_string() const {
  switch (type) {
    case Type::kNil: return std::nullopt;
    case Type::kString:
    case Type::kStatus: return text;
    case Type::kError: throw RedisError::server(text);
    default: throw RedisError(RedisErrorKind::kProtocol, "redis reply is not a string");
  }
}

std::int64_t RedisReply::as_integer() const {
  if (type == Type::kInteger)
    return integer;
  if (type == Type::kError)
    throw RedisError::server(text);
  throw RedisError(RedisErrorKind::kProtocol, "redis reply is not an integer");
}

void append_command(std::string& out, std::span<const std::string> command) {
  out += '*';
  out += std::to_string(command.size());
  out += "\r\n";
  for (const auto& argument : command) {
    out += '$';
    out += std::to_string(argument.size());
    out += "\r\n";
    out += argument;
    out += "\r\n";
  }
}

std::string encode_command(std::span<const std::string> command) {
  std::string out;
  append_command(out, command);
  return out;
}

void RespParser::ReaderDeleter::operator()(redisReader* reader) const noexcept {
  redisReaderFree(reader);
}

namespace {

/// The most elements one reply array may announce: hiredis allocates the whole array when it
/// reads the header, before any element arrives, so `*1000000000` would ask for gigabytes.
constexpr int kMaxArrayElements = 1024 * 1024;

using ArrayFactory = void* (*)(const redisReadTask*, int);

/// Refuses oversized arrays (hiredis then fails the read as out of memory), else builds as usual.
void* create_bounded_array(const redisReadTask* task, int elements) {
  if (elements > kMaxArrayElements) {
    return nullptr;
  }
  return (*static_cast<const ArrayFactory*>(task->privdata))(task, elements);
}

}  // namespace

struct RespParser::ReplyFunctions {
  redisReplyObjectFunctions bounded{};
  ArrayFactory create_array = nullptr;  ///< hiredis' own, called for arrays within the bound
};

RespParser::RespParser() : functions_(std::make_unique<ReplyFunctions>()), reader_(redisReaderCreate()) {
  if (!reader_)
    throw std::bad_alloc();
  functions_->bounded = *reader_->fn;
  functions_->create_array = functions_->bounded.createArray;
  functions_->bounded.createArray = create_bounded_array;
  reader_->fn = &functions_->bounded;
  reader_->privdata = &functions_->create_array;
}

RespParser::~RespParser() = default;

void RespParser::feed(std::string_view bytes) {
  if (bytes.empty())
    return;
  if (redisReaderFeed(reader_.get(), bytes.data(), bytes.size()) != REDIS_OK) {
    throw RedisError(RedisErrorKind::kProtocol, std::string("redis protocol error: ") + reader_->errstr);
  }
}

std::optional<RedisReply> RespParser::next() {
  void* raw = nullptr;
  if (redisReaderGetReply(reader_.get(), &raw) != REDIS_OK) {
    throw RedisError(RedisErrorKind::kProtocol, std::string("redis protocol error: ") + reader_->errstr);
  }
  if (raw == nullptr)
    return std::nullopt;
  const std::unique_ptr<redisReply, void (*)(void*)> owned(static_cast<redisReply*>(raw), freeReplyObject);
  return convert(*owned);
}

}  // namespace evolveai::net
