// The HTTP server on several I/O threads at once, as `evolveai serve` runs it: many keep-alive
// clients and event streams in parallel get every answer whole, and a shutdown in the middle of
// that load lets each accepted request finish. Built on its own (no application), so that the
// ThreadSanitizer run (scripts/run-tsan) covers the server's connection handling.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_future.hpp>

#include <atomic>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "http/middleware.hpp"
#include "http/pipeline.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "obs/logger.hpp"
#include "obs/metrics.hpp"
#include "support/http_test_client.hpp"

namespace evolveai {
namespace {

using namespace std::chrono_literals;
using testing::RawConnection;

constexpr int kIoThreads = 4;
constexpr int kClients = 8;
constexpr int kRequestsPerClient = 40;
constexpr int kEventsPerStream = 5;

Task<void> pause(std::chrono::milliseconds duration) {
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
  timer.expires_after(duration);
  co_await timer.async_wait(boost::asio::use_awaitable);
}

/// A server with a counting route, a slow route and a streaming route on `kIoThreads` threads.
class HttpServerThreads : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.add("GET", "/count", [this](http::Request&, http::RequestContext&) -> Task<http::Response> {
      const int value = ++handled_;
      co_return http::Response::json(200, "{\"n\":" + std::to_string(value) + "}");
    });
    router_.add("GET", "/slow", [this](http::Request&, http::RequestContext&) -> Task<http::Response> {
      ++slow_started_;
      co_await pause(300ms);
      co_return http::Response::text(200, "finished");
    });
    router_.add("GET", "/stream", [](http::Request&, http::RequestContext&) -> Task<http::Response> {
      co_return http::Response::event_stream([](http::EventSink& sink) -> Task<void> {
        for (int i = 0; i < kEventsPerStream; ++i) {
          const std::string data = std::to_string(i);
          if (!co_await sink.send("tick", data)) {
            co_return;
          }
        }
      });
    });
    pipeline_.use(http::request_id_middleware(7));
    pipeline_.use(http::observe_middleware(logger_, metrics_));
    pipeline_.use(http::error_middleware(logger_));
    http::ServerOptions options;
    options.port = 0;
    server_ = std::make_unique<http::Server>(
        io_, options, router_, pipeline_,
        [](http::Request&, http::RequestContext&) -> Task<http::Response> {
          co_return http::Response::text(404, "not found");
        },
        logger_, metrics_);
    server_->start();
    for (int i = 0; i < kIoThreads; ++i) {
      threads_.emplace_back([this] { io_.run(); });
    }
  }

  void TearDown() override {
    if (!stopped_) {
      stop(2s);
    }
    work_.reset();
    for (auto& thread : threads_) {
      thread.join();
    }
  }

  void stop(std::chrono::milliseconds deadline) {
    stopped_ = true;
    auto done = boost::asio::co_spawn(io_, server_->shutdown(deadline), boost::asio::use_future);
    done.get();
  }

  [[nodiscard]] std::uint16_t port() const { return server_->port(); }

  boost::asio::io_context io_{kIoThreads};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{io_.get_executor()};
  std::ostringstream log_;
  obs::Logger logger_{obs::LogLevel::kInfo, obs::Logger::Format::kJson, log_};
  obs::MetricsRegistry metrics_;
  http::Router router_;
  http::Pipeline pipeline_;
  std::unique_ptr<http::Server> server_;
  std::vector<std::thread> threads_;
  std::atomic<int> handled_{0};
  std::atomic<int> slow_started_{0};
  bool stopped_ = false;
};

TEST_F(HttpServerThreads, ManyKeepAliveClientsAndStreamsInParallelGetEveryAnswerWhole) {
  std::atomic<int> ok_replies{0};
  std::atomic<int> whole_streams{0};
  std::mutex failures_mutex;
  std::vector<std::string> failures;
  const auto fail = [&](int client, int request, const std::string& what) {
    const std::lock_guard lock(failures_mutex);
    failures.push_back("client " + std::to_string(client) + " request " + std::to_string(request) + ": " + what);
  };
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      // Generous: sanitizer builds on a loaded machine are slow, and a timeout is not an answer.
      RawConnection connection(port(), 60s);
      for (int i = 0; i < kRequestsPerClient; ++i) {
        const bool stream = (i + c) % 4 == 0;
        connection.send(std::string("GET ") + (stream ? "/stream" : "/count") + " HTTP/1.1\r\nHost: x\r\n\r\n");
        const auto reply = connection.read_reply();
        if (!reply) {
          fail(c, i, "no reply");
          return;
        }
        if (reply->status != 200) {
          fail(c, i, "status " + std::to_string(reply->status));
          return;
        }
        if (!stream) {
          ++ok_replies;
          continue;
        }
        std::string joined;
        for (const auto& chunk : reply->chunks) {
          joined += chunk;
        }
        if (joined.find("data: " + std::to_string(kEventsPerStream - 1)) != std::string::npos) {
          ++whole_streams;
        } else {
          fail(c, i, "stream cut short: " + joined);
        }
      }
    });
  }
  for (auto& client : clients) {
    client.join();
  }

  const int streams = kClients * kRequestsPerClient / 4;
  EXPECT_TRUE(failures.empty()) << ::testing::PrintToString(failures) << "\nserver log:\n" << log_.str();
  EXPECT_EQ(whole_streams.load(), streams);
  EXPECT_EQ(ok_replies.load(), kClients * kRequestsPerClient - streams);
  EXPECT_EQ(handled_.load(), ok_replies.load());
}

TEST_F(HttpServerThreads, ShutdownUnderLoadLetsEveryAcceptedRequestFinish) {
  constexpr int kSlowClients = 12;
  std::atomic<int> finished{0};
  std::atomic<int> cut_off{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kSlowClients; ++c) {
    clients.emplace_back([&] {
      const auto reply = testing::http_request(port(), "GET", "/slow");
      if (reply && reply->status == 200 && reply->body == "finished") {
        ++finished;
      } else {
        ++cut_off;
      }
    });
  }
  // Every request is in its handler before the shutdown starts.
  for (int i = 0; i < 500 && slow_started_.load() < kSlowClients; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_EQ(slow_started_.load(), kSlowClients);

  const std::uint16_t bound_port = port();
  stop(10s);
  for (auto& client : clients) {
    client.join();
  }

  EXPECT_EQ(finished.load(), kSlowClients);
  EXPECT_EQ(cut_off.load(), 0);
  EXPECT_EQ(server_->open_connections(), 0U);
  // New connections are refused once the server has stopped.
  EXPECT_THROW(testing::http_request(bound_port, "GET", "/count"), std::runtime_error);
}

}  // namespace
}  // namespace evolveai
