// Redis replies as a node reads them: net::RespParser (hiredis' reader) over a pipelined batch
// of 100 replies of the kinds the product gets back (status, integers, cached JSON bulk strings,
// rate-limit script arrays, MGET arrays with nils), fed in 16 KiB socket reads.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "net/redis_protocol.hpp"

namespace {

namespace net = evolveai::net;

constexpr std::size_t kReadBytes = std::size_t{16} * 1024;
constexpr std::size_t kGroups = 20;  ///< each group holds kRepliesPerGroup replies
constexpr std::size_t kRepliesPerGroup = 5;
constexpr std::size_t kMgetKeys = 10;

std::string bulk(std::string_view bytes) {
  return "$" + std::to_string(bytes.size()) + "\r\n" + std::string(bytes) + "\r\n";
}

/// A cached value as the cache stores it: a JSON document of about 600 bytes.
std::string cached_json(std::size_t seed) {
  std::string text = R"({"user_id":)" + std::to_string(1000 + seed) +
                     R"(,"persona":"friend","reply_language":"auto","voice":"default","premium_until":null,)"
                     R"("facts":[)";
  for (std::size_t i = 0; i < 8; ++i) {
    text += (i == 0 ? "" : ",");
    text += R"("likes jazz records and long evening walks by the river, fact )" + std::to_string(i) + "\"";
  }
  text += "]}";
  return text;
}

/// The batch: per group SET's +OK, INCR's integer, GET's cached JSON, a rate-limit script's
/// [allowed, remaining, reset_ms] and an MGET of 10 small values (every fourth one missing).
std::string pipelined_batch() {
  std::string batch;
  for (std::size_t group = 0; group < kGroups; ++group) {
    batch += "+OK\r\n";
    batch += ":" + std::to_string(17 + group) + "\r\n";
    batch += bulk(cached_json(group));
    batch += "*3\r\n:1\r\n:" + std::to_string(19 - group % 20) + "\r\n:60000\r\n";
    batch += "*" + std::to_string(kMgetKeys) + "\r\n";
    for (std::size_t key = 0; key < kMgetKeys; ++key) {
      batch += key % 4 == 3 ? std::string("$-1\r\n") : bulk("session:" + std::to_string(group * 100 + key));
    }
  }
  return batch;
}

/// Feeds the batch in socket-sized reads and takes every complete reply; returns how many came.
std::size_t read_batch(net::RespParser& parser, std::string_view batch, net::RedisReply& last) {
  std::size_t replies = 0;
  for (std::size_t offset = 0; offset < batch.size(); offset += kReadBytes) {
    parser.feed(batch.substr(offset, std::min(kReadBytes, batch.size() - offset)));
    while (auto reply = parser.next()) {
      last = std::move(*reply);
      ++replies;
    }
  }
  return replies;
}

// Parsing one pipelined batch of 100 replies on a long-lived connection's parser.
void micro_resp_parse_pipelined(benchmark::State& state) {
  const auto batch = pipelined_batch();
  net::RespParser parser;
  net::RedisReply last;

  const auto replies = read_batch(parser, batch, last);
  if (replies != kGroups * kRepliesPerGroup || last.type != net::RedisReply::Type::kArray ||
      last.elements.size() != kMgetKeys || !last.elements[3].is_nil() ||
      last.elements[0].text != "session:" + std::to_string((kGroups - 1) * 100)) {
    state.SkipWithError("the pipelined batch did not parse into the replies it holds");
    return;
  }
  for ([[maybe_unused]] auto iteration : state) {
    auto count = read_batch(parser, batch, last);
    benchmark::DoNotOptimize(count);
    benchmark::DoNotOptimize(last);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(batch.size()));
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(replies));
  state.counters["batch_bytes"] = static_cast<double>(batch.size());
}
BENCHMARK(micro_resp_parse_pipelined);

}  // namespace
