// evolveai_sse_load: holds N concurrent server-sent-event chat streams open against one
// `evolveai serve` (POST /api/v1/chat with "stream": true) or, for the baseline, against the fake
// model itself (POST …:streamGenerateContent?alt=sse), and prints one JSON line: how many
// streams completed, time to the first response byte and to the first token (p50/p99/max), the
// most streams that were open at once, and what went wrong.
//
// All N connections are opened first (a bounded number of connects in flight), then every
// request is written at once, so that the N streams overlap as much as the machine allows.
//
//   evolveai_sse_load --port P --clients N [--tokens FILE] [--mode server|fake] [--timeout-s S]
#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

/// What the command line asks for.
struct Options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::size_t clients = 10'000;
  std::string tokens_file;
  bool fake_mode = false;  ///< talk to the fake model directly (the baseline)
  std::size_t connects_in_flight = 256;
  std::chrono::seconds timeout{120};
};

/// What happened to one stream.
struct StreamResult {
  Clock::time_point sent{};
  Clock::time_point first_byte{};
  Clock::time_point first_token{};
  bool connected = false;
  bool got_first_byte = false;
  bool got_first_token = false;
  bool completed = false;
  std::string failure;  ///< empty when nothing went wrong
};

/// The shared state of one run (owned by main, passed by reference).
struct Run {
  explicit Run(Options opts) : options(std::move(opts)), results(options.clients) {}

  Options options;
  asio::io_context io;
  std::vector<StreamResult> results;
  std::vector<std::string> requests;
  std::size_t connects_started = 0;
  std::size_t connects_done = 0;
  std::size_t finished = 0;
  std::size_t streaming_now = 0;
  std::size_t streaming_peak = 0;
  std::unique_ptr<asio::steady_timer> gate;  ///< cancelled when every connection is ready
  Clock::time_point start_sending{};
};

/// The request one client writes, as bytes.
std::string build_request(const Options& options, std::string_view token, std::size_t index) {
  std::string body;
  std::string target;
  if (options.fake_mode) {
    target = "/v1beta/models/gemini-fake:streamGenerateContent?alt=sse";
    body = R"({"contents":[{"role":"user","parts":[{"text":"Hello there"}]}]})";
  } else {
    target = "/api/v1/chat";
    body = R"({"message": "Tell me about your day, stream )" + std::to_string(index) + R"(", "stream": true})";
  }
  std::ostringstream out;
  out << "POST " << target << " HTTP/1.1\r\nHost: " << options.host << "\r\nContent-Type: application/json\r\n"
      << "Accept: text/event-stream\r\nContent-Length: " << body.size() << "\r\n";
  if (!token.empty()) {
    out << "Authorization: Bearer " << token << "\r\n";
  }
  out << "\r\n" << body;
  return out.str();
}

/// Reads the stream until its end marker, an error event, the server closing, or a failure.
asio::awaitable<void> read_stream(Run& run, tcp::socket& socket, StreamResult& result) {
  const std::string_view first_marker = run.options.fake_mode ? "data: " : "event: delta";
  const std::string_view end_marker = run.options.fake_mode ? "finishReason" : "event: end";
  const std::string_view error_marker = "event: error";
  constexpr std::size_t kKeep = 32;  // bytes kept between reads so a marker cut in two is still seen
  std::string window;
  std::array<char, 4096> buffer{};
  bool counted_streaming = false;
  for (;;) {
    auto [error, size] = co_await socket.async_read_some(asio::buffer(buffer), kNoThrow);
    if (error) {
      result.failure = size == 0 && error == asio::error::eof ? "closed before end" : "read: " + error.message();
      break;
    }
    const auto now = Clock::now();
    if (!result.got_first_byte) {
      result.got_first_byte = true;
      result.first_byte = now;
      const std::string_view head(buffer.data(), size);
      if (!head.starts_with("HTTP/1.1 200")) {
        result.failure = "status " + std::string(head.substr(9, 3));
        break;
      }
      ++run.streaming_now;
      counted_streaming = true;
      run.streaming_peak = std::max(run.streaming_peak, run.streaming_now);
    }
    window.append(buffer.data(), size);
    if (!result.got_first_token && window.find(first_marker) != std::string::npos) {
      result.got_first_token = true;
      result.first_token = now;
    }
    if (window.find(error_marker) != std::string::npos) {
      result.failure = "error event";
      break;
    }
    if (window.find(end_marker) != std::string::npos) {
      result.completed = result.got_first_token;
      if (!result.completed) {
        result.failure = "ended without a token";
      }
      break;
    }
    if (window.size() > kKeep) {
      window.erase(0, window.size() - kKeep);
    }
  }
  if (counted_streaming) {
    --run.streaming_now;
  }
}

/// One client: connect, wait at the gate, write the request, read the stream.
asio::awaitable<void> client(Run& run, std::size_t index) {
  StreamResult& result = run.results[index];
  tcp::socket socket(run.io);
  const tcp::endpoint endpoint(asio::ip::make_address(run.options.host), run.options.port);
  auto [connect_error] = co_await socket.async_connect(endpoint, kNoThrow);
  ++run.connects_done;
  const bool last = run.connects_done == run.options.clients;
  if (last) {
    run.start_sending = Clock::now();
    run.gate->cancel();
  }
  if (connect_error) {
    result.failure = "connect: " + connect_error.message();
    ++run.finished;
    co_return;
  }
  result.connected = true;
  if (!last) {
    auto [gate_error] = co_await run.gate->async_wait(kNoThrow);
    (void)gate_error;  // cancelled is the signal to go
  }
  result.sent = Clock::now();
  auto [write_error, written] = co_await asio::async_write(socket, asio::buffer(run.requests[index]), kNoThrow);
  (void)written;
  if (write_error) {
    result.failure = "write: " + write_error.message();
  } else {
    co_await read_stream(run, socket, result);
  }
  ++run.finished;
  boost::system::error_code ignored;
  socket.close(ignored);
}

/// Starts the clients with at most `connects_in_flight` connects pending at once.
asio::awaitable<void> launch(Run& run) {
  asio::steady_timer pause(run.io);
  while (run.connects_started < run.options.clients) {
    if (run.connects_started - run.connects_done >= run.options.connects_in_flight) {
      pause.expires_after(std::chrono::milliseconds(1));
      co_await pause.async_wait(kNoThrow);
      continue;
    }
    asio::co_spawn(run.io, client(run, run.connects_started++), asio::detached);
  }
}

/// Ends the run once every client finished, or at the deadline.
asio::awaitable<void> watch(Run& run, Clock::time_point deadline) {
  asio::steady_timer pause(run.io);
  while (run.finished < run.options.clients && Clock::now() < deadline) {
    pause.expires_after(std::chrono::milliseconds(20));
    co_await pause.async_wait(kNoThrow);
  }
  run.io.stop();
}

/// The q-th percentile (0..100) of sorted values, 0 when there are none.
double percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) {
    return 0.0;
  }
  const auto rank = static_cast<std::size_t>(std::lround(q / 100.0 * static_cast<double>(sorted.size() - 1)));
  return sorted[std::min(rank, sorted.size() - 1)];
}

/// Milliseconds between two time points.
double millis(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

/// The report line (JSON) of a finished run.
std::string report(const Run& run, double wall_seconds) {
  std::vector<double> first_byte;
  std::vector<double> first_token;
  std::size_t completed = 0;
  std::size_t connected = 0;
  std::map<std::string, std::size_t> failures;
  for (const auto& result : run.results) {
    connected += result.connected ? 1 : 0;
    completed += result.completed ? 1 : 0;
    if (result.got_first_byte) {
      first_byte.push_back(millis(result.sent, result.first_byte));
    }
    if (result.got_first_token) {
      first_token.push_back(millis(result.sent, result.first_token));
    }
    if (!result.completed) {
      failures[result.failure.empty() ? std::string("unfinished at deadline") : result.failure] += 1;
    }
  }
  std::sort(first_byte.begin(), first_byte.end());
  std::sort(first_token.begin(), first_token.end());
  std::ostringstream out;
  out.precision(3);
  out << std::fixed << R"({"clients": )" << run.options.clients << R"(, "connected": )" << connected
      << R"(, "completed": )" << completed << R"(, "streaming_peak": )" << run.streaming_peak
      << R"(, "first_byte_p50_ms": )" << percentile(first_byte, 50) << R"(, "first_byte_p99_ms": )"
      << percentile(first_byte, 99) << R"(, "first_token_p50_ms": )" << percentile(first_token, 50)
      << R"(, "first_token_p99_ms": )" << percentile(first_token, 99) << R"(, "first_token_max_ms": )"
      << (first_token.empty() ? 0.0 : first_token.back()) << R"(, "wall_s": )" << wall_seconds << R"(, "failures": {)";
  bool first = true;
  for (const auto& [what, count] : failures) {
    out << (first ? "" : ", ") << '"' << what << R"(": )" << count;
    first = false;
  }
  out << "}}";
  return out.str();
}

/// Raises the open-file limit to its hard maximum; every stream is one socket.
void raise_file_limit(std::size_t needed) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return;
  }
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur < needed + 64) {
    std::cerr << "sse_load: open-file limit " << limit.rlim_cur << " is below " << needed + 64 << "\n";
  }
}

std::vector<std::string> read_lines(const std::string& path) {
  std::vector<std::string> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) {
      lines.push_back(line);
    }
  }
  return lines;
}

void usage() {
  std::cerr << "usage: evolveai_sse_load --port P [--host H] [--clients N] [--tokens FILE] [--mode server|fake]"
               " [--timeout-s S] [--connects-in-flight K]\n";
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  const std::vector<std::string_view> args(argv + 1,
                                           argv + argc);  // NOLINT(cppcoreguidelines-pro-bounds-pointer-arithmetic)
  for (std::size_t i = 0; i + 1 < args.size(); i += 2) {
    const std::string value(args[i + 1]);
    if (args[i] == "--host") {
      options.host = value;
    } else if (args[i] == "--port") {
      options.port = static_cast<std::uint16_t>(std::stoi(value));
    } else if (args[i] == "--clients") {
      options.clients = std::stoul(value);
    } else if (args[i] == "--tokens") {
      options.tokens_file = value;
    } else if (args[i] == "--mode") {
      options.fake_mode = value == "fake";
    } else if (args[i] == "--timeout-s") {
      options.timeout = std::chrono::seconds(std::stoi(value));
    } else if (args[i] == "--connects-in-flight") {
      options.connects_in_flight = std::stoul(value);
    } else {
      usage();
      return 2;
    }
  }
  if (options.port == 0 || options.clients == 0 || args.size() % 2 != 0) {
    usage();
    return 2;
  }
  raise_file_limit(options.clients);

  Run run(options);
  const auto tokens = options.tokens_file.empty() ? std::vector<std::string>{} : read_lines(options.tokens_file);
  if (!options.fake_mode && tokens.empty()) {
    std::cerr << "sse_load: --tokens FILE with at least one access token is needed in server mode\n";
    return 2;
  }
  run.requests.reserve(options.clients);
  for (std::size_t i = 0; i < options.clients; ++i) {
    const std::string_view token = tokens.empty() ? std::string_view{} : tokens[i % tokens.size()];
    run.requests.push_back(build_request(options, token, i));
  }
  run.gate = std::make_unique<asio::steady_timer>(run.io, Clock::time_point::max());

  const auto started = Clock::now();
  asio::co_spawn(run.io, launch(run), asio::detached);
  asio::co_spawn(run.io, watch(run, started + options.timeout), asio::detached);
  run.io.run();
  std::cout << report(run, std::chrono::duration<double>(Clock::now() - started).count()) << std::endl;  // NOLINT
  return 0;
}
