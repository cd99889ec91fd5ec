#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <csignal>
#include <thread>

#include "support/http_test_client.hpp"
#include "support/prometheus_parser.hpp"
#include "support/test_app.hpp"

namespace evolveai {
namespace {

using namespace std::chrono_literals;

/// Runs the application in a child process with a slow route; reports its port through a pipe.
pid_t start_child_server(const std::filesystem::path& data_dir, int port_pipe) {
  const pid_t pid = ::fork();
  if (pid != 0) {
    return pid;
  }
  int code = 3;
  try {
    auto config = testing::test_config(data_dir);
    config.server.shutdown_timeout = 20s;
    app::Application application(std::move(config));
    application.router().add("GET", "/api/v1/slow", [](http::Request&, http::RequestContext&) -> Task<http::Response> {
      boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
      timer.expires_after(1500ms);
      co_await timer.async_wait(boost::asio::use_awaitable);
      co_return http::Response::text(200, "done");
    });
    application.start();
    const std::uint16_t port = application.port();
    if (::write(port_pipe, &port, sizeof(port)) != sizeof(port)) {
      ::_exit(4);
    }
    code = application.run();
  } catch (...) {
    code = 5;
  }
  ::_exit(code);
}

TEST(GracefulShutdown, SigtermLetsTwoHundredSlowRequestsFinishAndExitsZero) {
  testing::TempDir dir;
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t child = start_child_server(dir.path(), fds[1]);
  ASSERT_GT(child, 0);
  std::uint16_t port = 0;
  ASSERT_EQ(::read(fds[0], &port, sizeof(port)), static_cast<ssize_t>(sizeof(port)));
  ::close(fds[0]);
  ::close(fds[1]);

  constexpr int kClients = 200;
  std::vector<std::unique_ptr<testing::RawConnection>> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(std::make_unique<testing::RawConnection>(port, 30s));
    ASSERT_TRUE(clients.back()->send("GET /api/v1/slow HTTP/1.1\r\nHost: x\r\n\r\n"));
  }
  // Wait until every slow request is inside its handler (the metrics request itself is one more).
  double in_flight = 0;
  for (int attempt = 0; attempt < 200 && in_flight < kClients + 1; ++attempt) {
    const auto reply = testing::http_request(port, "GET", "/metrics");
    ASSERT_TRUE(reply);
    in_flight = testing::parse_prometheus_text(reply->body).value("evolveai_http_requests_in_flight").value_or(0);
    if (in_flight < kClients + 1) {
      std::this_thread::sleep_for(10ms);
    }
  }
  ASSERT_GE(in_flight, kClients + 1);

  ASSERT_EQ(::kill(child, SIGTERM), 0);

  int completed = 0;
  for (auto& client : clients) {
    const auto reply = client->read_reply();
    if (reply && reply->status == 200 && reply->body == "done") {
      ++completed;
    }
  }
  EXPECT_EQ(completed, kClients);

  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(GracefulShutdown, NewConnectionsAreRefusedOnceShutdownBegins) {
  testing::TempDir dir;
  auto config = testing::test_config(dir.path());
  testing::TestApp app(std::move(config));
  const auto port = app.port();
  ASSERT_TRUE(testing::http_request(port, "GET", "/healthz"));
  EXPECT_EQ(app.stop(), 0);
  EXPECT_THROW(testing::RawConnection connection(port), std::runtime_error);
}

}  // namespace
}  // namespace evolveai
