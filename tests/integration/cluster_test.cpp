// Three real `evolveai serve` processes on loopback sharing one PostgreSQL database and one Redis,
// with clients spread over them: global rate limits, Telegram updates handled once, summary jobs
// run once, readiness per node, and a graceful SIGTERM under load that loses no accepted request.
#include <gtest/gtest.h>

#include <libpq-fe.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "fakes/fake_gemini.hpp"
#include "fakes/fake_telegram.hpp"
#include "support/chat_test_env.hpp"
#include "support/http_test_client.hpp"
#include "support/prometheus_parser.hpp"
#include "support/redis_process.hpp"
#include "support/serve_process.hpp"
#include "support/store_test_env.hpp"
#include "support/test_app.hpp"

namespace evolveai {
namespace {

using testing::FakeGemini;
using testing::FakeTelegram;
using testing::HttpReply;
using testing::ServeProcess;
using testing::TelegramCall;
namespace json = boost::json;
using namespace std::chrono_literals;

constexpr int kNodes = 3;
constexpr std::string_view kWebhookSecret = "cluster-webhook-secret";
/// What only a summarisation request to the model says (its system instruction).
constexpr std::string_view kSummaryMarker = "You keep the long-term memory";
/// What the fake model answers a summarisation request with.
constexpr std::string_view kSummaryText = "Talks to the cluster test.";
/// How often a waiting test looks again.
constexpr auto kPollInterval = 50ms;

/// Runs `sql` on the database at `url` and returns the first column of the first row as an integer.
std::int64_t pg_scalar(const std::string& url, const std::string& sql) {
  const std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(url.c_str()), &PQfinish);
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    throw std::runtime_error(PQerrorMessage(conn.get()));
  }
  const std::unique_ptr<PGresult, decltype(&PQclear)> result(PQexec(conn.get(), sql.c_str()), &PQclear);
  if (PQresultStatus(result.get()) != PGRES_TUPLES_OK || PQntuples(result.get()) != 1) {
    throw std::runtime_error(sql + ": " + PQerrorMessage(conn.get()));
  }
  return std::stoll(PQgetvalue(result.get(), 0, 0));
}

/// The sum of every sample named `sample_name` in a node's /metrics that has the labels of
/// `having` (among others); 0 when there is none.
double metric_sum(std::uint16_t port, std::string_view sample_name, const testing::MetricLabels& having = {}) {
  const auto reply = testing::http_request(port, "GET", "/metrics");
  if (!reply || reply->status != 200) {
    throw std::runtime_error("no metrics from port " + std::to_string(port));
  }
  double sum = 0;
  for (const auto& family : testing::parse_prometheus_text(reply->body).families) {
    for (const auto& sample : family.samples) {
      const bool labelled = std::all_of(having.begin(), having.end(), [&](const auto& label) {
        const auto it = sample.labels.find(label.first);
        return it != sample.labels.end() && it->second == label.second;
      });
      if (sample.name == sample_name && labelled) {
        sum += sample.value;
      }
    }
  }
  return sum;
}

/// Polls `done` until it holds or `timeout` passes; true when it held.
template <typename Predicate>
bool eventually(Predicate done, std::chrono::milliseconds timeout = 30s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  return true;
}

/// GET /readyz of a node: its status, or 0 when the connection is refused.
int readiness_of(std::uint16_t port) {
  try {
    const auto reply = testing::http_request(port, "GET", "/readyz");
    return reply ? reply->status : -1;
  } catch (const std::runtime_error&) {
    return 0;
  }
}

/// Three `serve` nodes over one fresh PostgreSQL database and one private Redis, with a fake
/// Telegram and a fake Gemini in this process. Tests call start_nodes() with their settings.
class Cluster : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto reason = testing::postgres_unavailable_reason()) {
      if (testing::postgres_required() || testing::services_required()) {
        FAIL() << "PostgreSQL is required but " << *reason;
      }
      GTEST_SKIP() << *reason;
    }
    if (auto reason = testing::redis_server_unavailable_reason()) {
      if (testing::services_required()) {
        FAIL() << "Redis is required but " << *reason;
      }
      GTEST_SKIP() << *reason;
    }
    database_ = std::make_unique<testing::AppDatabase>(testing::Engine::kPostgres, dir_.path());
    redis_ = std::make_unique<testing::RedisProcess>();
    gemini_.set_responder([this](const testing::RecordedRequest& request) {
      if (request.body.find(kSummaryMarker) != std::string::npos) {
        const auto answer = json::serialize(json::object{{"summary", kSummaryText}, {"facts", json::array{}}});
        auto reply = FakeGemini::text_reply(answer);
        reply.first_byte_delay = std::chrono::milliseconds(summary_delay_ms_.load());
        return reply;
      }
      const std::chrono::milliseconds delay(chat_delay_ms_.load());
      if (request.path.find("streamGenerateContent") != std::string::npos) {
        auto reply = FakeGemini::stream_reply({"ok"});
        reply.first_byte_delay = delay;
        return reply;
      }
      auto reply = FakeGemini::text_reply("ok");
      reply.first_byte_delay = delay;
      return reply;
    });
  }

  void TearDown() override {
    for (auto& node : nodes_) {
      if (node->running()) {
        node->terminate();
        EXPECT_EQ(node->wait_exit(60s), 0) << "node on port " << node->port() << " did not stop cleanly";
      }
    }
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      const auto output = nodes_[i]->output();
      const bool sanitizer_report =
          output.find("Sanitizer") != std::string::npos || output.find("runtime error:") != std::string::npos;
      EXPECT_FALSE(sanitizer_report) << "node " << i + 1 << " reported:\n" << output;
      if (HasFailure() && !sanitizer_report) {
        constexpr std::size_t kTail = 4000;
        std::cerr << "--- node " << i + 1 << " log (tail) ---\n"
                  << output.substr(output.size() > kTail ? output.size() - kTail : 0) << "\n";
      }
    }
    nodes_.clear();
  }

  /// Starts three nodes with the shared settings plus `extra` ("NAME=value", these win) and
  /// waits until each is ready; they migrate the fresh database concurrently.
  void start_nodes(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> env{
        "EVOLVEAI_SERVER__THREADS=2",
        "EVOLVEAI_LOG__LEVEL=info",
        "EVOLVEAI_DATABASE__URL=" + database_->url(),
        "EVOLVEAI_DATABASE__POOL_SIZE=4",
        "EVOLVEAI_REDIS__URL=" + redis_->url(),
        "EVOLVEAI_AUTH__JWT_SECRET=" + std::string(48, 'c'),
        "EVOLVEAI_TELEGRAM__BOT_TOKEN=" + std::string(testing::kChatTestBotToken),
        "EVOLVEAI_TELEGRAM__API_BASE_URL=" + telegram_.base_url(),
        "EVOLVEAI_TELEGRAM__MODE=webhook",
        "EVOLVEAI_TELEGRAM__WEBHOOK_SECRET=" + std::string(kWebhookSecret),
        "EVOLVEAI_TELEGRAM__PUBLIC_URL=https://bot.example/",
        "EVOLVEAI_LLM__PROVIDER=gemini",
        "EVOLVEAI_LLM__MODEL=gemini-test",
        "EVOLVEAI_LLM__API_KEY=test-key",
        "EVOLVEAI_LLM__BASE_URL=" + gemini_.base_url(),
        "EVOLVEAI_LLM__MAX_RETRIES=0",
        "EVOLVEAI_BACKUP__INTERVAL=0",
        "EVOLVEAI_RATE_LIMITS__AUTH_PER_MIN=100000",
        "EVOLVEAI_RATE_LIMITS__CHAT_PER_MIN=100000",
        "EVOLVEAI_RATE_LIMITS__API_PER_MIN=100000",
        "EVOLVEAI_LIMITS__FREE_DAILY_MESSAGES=100000",
    };
    env.insert(env.end(), extra.begin(), extra.end());
    for (int i = 0; i < kNodes; ++i) {
      nodes_.push_back(std::make_unique<ServeProcess>(env, dir_.path() / ("node" + std::to_string(i + 1))));
    }
    for (int i = 0; i < kNodes; ++i) {
      ASSERT_TRUE(nodes_[i]->wait_ready()) << "node " << i + 1 << " did not become ready:\n" << nodes_[i]->output();
    }
  }

  [[nodiscard]] std::uint16_t port(int node) const { return nodes_.at(static_cast<std::size_t>(node))->port(); }
  [[nodiscard]] ServeProcess& node(int index) { return *nodes_.at(static_cast<std::size_t>(index)); }

  /// Posts a Telegram update to a node's webhook; the HTTP status (0 when refused).
  int post_update(int node, const json::object& update) {
    try {
      const auto reply = testing::http_request(
          port(node), "POST", "/telegram/webhook", json::serialize(update),
          {{"Content-Type", "application/json"}, {"X-Telegram-Bot-Api-Secret-Token", std::string(kWebhookSecret)}});
      return reply ? reply->status : -1;
    } catch (const std::runtime_error&) {
      return 0;
    }
  }

  /// Requests the fake model saw: summarisations, or chat turns.
  [[nodiscard]] std::vector<testing::RecordedRequest> model_requests(bool summaries) const {
    auto requests = gemini_.requests();
    std::erase_if(requests, [summaries](const testing::RecordedRequest& r) {
      return (r.body.find(kSummaryMarker) != std::string::npos) != summaries;
    });
    return requests;
  }

  testing::TempDir dir_;
  std::atomic<int> chat_delay_ms_{0};
  std::atomic<int> summary_delay_ms_{0};
  FakeTelegram telegram_{testing::kChatTestBotToken};
  FakeGemini gemini_;
  std::unique_ptr<testing::AppDatabase> database_;
  std::unique_ptr<testing::RedisProcess> redis_;
  std::vector<std::unique_ptr<ServeProcess>> nodes_;
};

TEST_F(Cluster, GlobalRateLimitHoldsAcrossNodes) {
  constexpr int kPerMinute = 10;
  constexpr int kRequests = 2 * kPerMinute;
  start_nodes({"EVOLVEAI_RATE_LIMITS__API_PER_MIN=" + std::to_string(kPerMinute)});
  const auto token = testing::sign_in_user(port(0), 4001);

  int allowed = 0;
  int limited = 0;
  std::array<int, kNodes> allowed_by_node{};
  for (int i = 0; i < kRequests; ++i) {
    const int target = i % kNodes;
    const auto reply = testing::call_api(port(target), "GET", "/api/v1/profile", token);
    ASSERT_TRUE(reply);
    if (reply->status == 200) {
      ++allowed;
      ++allowed_by_node.at(static_cast<std::size_t>(target));
      continue;
    }
    ASSERT_EQ(reply->status, 429) << reply->body;
    EXPECT_EQ(testing::error_code_of(*reply), "rate_limited");
    EXPECT_FALSE(reply->header("retry-after").empty());
    ++limited;
  }
  // Each node alone would let 10 through (20 in all): shared through Redis only 10 pass.
  EXPECT_EQ(allowed, kPerMinute);
  EXPECT_EQ(limited, kRequests - kPerMinute);
  for (const int n : allowed_by_node) {
    EXPECT_GT(n, 0) << "every node served some of the allowance";
  }
}

TEST_F(Cluster, EachTelegramUpdateIsHandledOnceWhicheverNodesItReaches) {
  start_nodes();
  ASSERT_TRUE(telegram_.wait_for_calls("setWebhook", kNodes));
  constexpr int kChats = 6;
  constexpr int kUpdates = 30;
  constexpr std::int64_t kFirstUpdateId = 900'001;
  constexpr std::int64_t kFirstChat = 8'100;
  // Update i goes to node i % 3; every third one is delivered again, to the next node, at the
  // same time (as Telegram does after a timeout, and a load balancer may pick another node).
  struct Delivery {
    int node;
    json::object update;
  };
  std::array<std::vector<Delivery>, kNodes> per_node;
  int repeats = 0;
  for (int i = 0; i < kUpdates; ++i) {
    auto update = testing::text_update(kFirstChat + i % kChats, "chat message number " + std::to_string(i));
    update["update_id"] = kFirstUpdateId + i;
    per_node.at(static_cast<std::size_t>(i % kNodes)).push_back({i % kNodes, update});
    if (i % 3 == 0) {
      per_node.at(static_cast<std::size_t>((i + 1) % kNodes)).push_back({(i + 1) % kNodes, update});
      ++repeats;
    }
  }
  std::atomic<int> not_ok{0};
  {
    std::vector<std::jthread> senders;
    for (const auto& deliveries : per_node) {
      senders.emplace_back([this, &deliveries, &not_ok] {
        for (const auto& delivery : deliveries) {
          if (post_update(delivery.node, delivery.update) != 200) {
            ++not_ok;
          }
        }
      });
    }
  }
  EXPECT_EQ(not_ok.load(), 0) << "every webhook delivery is acknowledged";

  // Every repeat has been recognised (on whichever node) and every update answered.
  const auto duplicates = [this] {
    double sum = 0;
    for (int i = 0; i < kNodes; ++i) {
      sum += metric_sum(port(i), "evolveai_telegram_duplicate_updates_total");
    }
    return sum;
  };
  ASSERT_TRUE(eventually([&] { return duplicates() >= repeats; })) << "repeats recognised: " << duplicates();
  ASSERT_TRUE(telegram_.wait_until(
      [](const std::vector<TelegramCall>& calls) {
        for (int chat = 0; chat < kChats; ++chat) {
          if (FakeTelegram::finished_messages_to(calls, kFirstChat + chat) < kUpdates / kChats) {
            return false;
          }
        }
        return true;
      },
      60s));
  EXPECT_EQ(duplicates(), repeats);
  for (int chat = 0; chat < kChats; ++chat) {
    EXPECT_EQ(FakeTelegram::finished_messages_to(telegram_.calls(), kFirstChat + chat),
              static_cast<std::size_t>(kUpdates / kChats))
        << "chat " << kFirstChat + chat;
  }
  EXPECT_EQ(model_requests(false).size(), static_cast<std::size_t>(kUpdates));
  EXPECT_EQ(pg_scalar(database_->url(), "SELECT count(*) FROM users WHERE telegram_id BETWEEN 8100 AND 8105"), kChats);
}

TEST_F(Cluster, EachTelegramUpdateIsHandledOnceWhileOneNodeHoldsThePollerLease) {
  start_nodes(
      {"EVOLVEAI_TELEGRAM__MODE=polling", "EVOLVEAI_TELEGRAM__POLL_TIMEOUT=1s", "EVOLVEAI_TELEGRAM__LEASE_TTL=3s"});
  ASSERT_TRUE(telegram_.wait_for_calls("getUpdates", 1));
  constexpr int kChats = 6;
  constexpr int kPerChat = 5;
  constexpr std::int64_t kFirstChat = 8'300;
  for (int round = 0; round < kPerChat; ++round) {
    for (int chat = 0; chat < kChats; ++chat) {
      telegram_.push_update(testing::text_update(kFirstChat + chat, "polled message " + std::to_string(round)));
    }
  }
  ASSERT_TRUE(telegram_.wait_until(
      [](const std::vector<TelegramCall>& calls) {
        for (int chat = 0; chat < kChats; ++chat) {
          if (FakeTelegram::finished_messages_to(calls, kFirstChat + chat) < kPerChat) {
            return false;
          }
        }
        return true;
      },
      60s));
  ASSERT_TRUE(telegram_.wait_for_updates_confirmed());
  for (int chat = 0; chat < kChats; ++chat) {
    EXPECT_EQ(FakeTelegram::finished_messages_to(telegram_.calls(), kFirstChat + chat),
              static_cast<std::size_t>(kPerChat));
  }
  EXPECT_EQ(model_requests(false).size(), static_cast<std::size_t>(kChats * kPerChat));
  int polling_nodes = 0;
  for (int i = 0; i < kNodes; ++i) {
    if (metric_sum(port(i), "evolveai_telegram_api_requests_total", {{"method", "getUpdates"}}) > 0) {
      ++polling_nodes;
    }
  }
  EXPECT_EQ(polling_nodes, 1) << "only the lease holder polls";
}

TEST_F(Cluster, EachSummaryJobRunsOnceWhileEveryNodeRunsTheWorker) {
  constexpr int kUsers = 6;
  constexpr int kTurns = 2;  // four messages: more than the threshold of three
  // Summaries are slow, so that a look for due jobs on one node overlaps the next on another.
  summary_delay_ms_ = 400;
  start_nodes({"EVOLVEAI_MEMORY__SUMMARY_THRESHOLD=3", "EVOLVEAI_MEMORY__JOB_POLL_INTERVAL=1s",
               "EVOLVEAI_SERVER__WORKER_FIRST_RUN_DELAY=1s"});
  std::vector<std::string> tokens;
  for (int user = 0; user < kUsers; ++user) {
    tokens.push_back(testing::sign_in_user(port(user % kNodes), 4100 + user));
  }
  for (int turn = 0; turn < kTurns; ++turn) {
    for (int user = 0; user < kUsers; ++user) {
      const auto body =
          json::object{{"message", "cluster-user-" + std::to_string(user) + " says " + std::to_string(turn)}};
      const auto reply =
          testing::post_chat(port((user + turn) % kNodes), tokens.at(static_cast<std::size_t>(user)), body);
      ASSERT_TRUE(reply);
      ASSERT_EQ(reply->status, 200) << reply->body;
    }
  }
  const auto& url = database_->url();
  const auto queued = [&] { return pg_scalar(url, "SELECT count(*) FROM jobs WHERE kind = 'summarize'"); };
  EXPECT_TRUE(eventually([&] { return queued() == kUsers; }, 10s)) << "summary jobs queued: " << queued();
  // Every node's worker looks for due jobs each second (after its first look, 1 s after start).
  ASSERT_TRUE(eventually(
      [&] {
        return pg_scalar(url, "SELECT count(*) FROM jobs WHERE kind = 'summarize' AND status = 'done'") == kUsers;
      },
      90s))
      << "summary jobs done: " << pg_scalar(url, "SELECT count(*) FROM jobs WHERE status = 'done'");

  const auto summaries = model_requests(true);
  EXPECT_EQ(summaries.size(), static_cast<std::size_t>(kUsers));
  for (int user = 0; user < kUsers; ++user) {
    const auto marker = "cluster-user-" + std::to_string(user) + " says";
    EXPECT_EQ(std::count_if(summaries.begin(), summaries.end(),
                            [&](const auto& r) { return r.body.find(marker) != std::string::npos; }),
              1)
        << "summarisation calls for user " << user;
    const auto memory =
        testing::call_api(port(user % kNodes), "GET", "/api/v1/memory", tokens.at(static_cast<std::size_t>(user)));
    ASSERT_TRUE(memory);
    EXPECT_EQ(testing::json_of(*memory).at("summary").as_string(), kSummaryText);
  }
  // One lease per job, and one summary written per job: a first summary is written over the
  // empty row it creates (version 1), so each memory is at version 2.
  EXPECT_EQ(pg_scalar(url, "SELECT count(*) FROM jobs WHERE kind = 'summarize' AND attempts <> 1"), 0);
  EXPECT_EQ(pg_scalar(url, "SELECT count(*) FROM memories WHERE version = 2 AND summary <> ''"), kUsers);
  EXPECT_EQ(pg_scalar(url, "SELECT count(*) FROM memories WHERE version <> 2"), 0);
}

TEST_F(Cluster, ReadinessReflectsEachNodeWhileOneShutsDown) {
  start_nodes();
  for (int i = 0; i < kNodes; ++i) {
    const auto reply = testing::http_request(port(i), "GET", "/readyz");
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->status, 200) << reply->body;
    const auto body = testing::json_of(*reply);
    EXPECT_EQ(body.at("status").as_string(), "ready");
    EXPECT_TRUE(body.at("checks").at("database").at("ok").as_bool());
    EXPECT_TRUE(body.at("checks").at("redis").at("ok").as_bool());
  }

  // Node 3 has an update in hand whose answer is slow: its shutdown waits for it, not ready.
  chat_delay_ms_ = 2000;
  constexpr std::int64_t kChat = 8'200;
  auto update = testing::text_update(kChat, "a slow question");
  update["update_id"] = 910'001;
  ASSERT_EQ(post_update(2, update), 200);
  ASSERT_TRUE(gemini_.wait_for_requests(1, 15s));
  node(2).terminate();

  int not_ready_seen = 0;
  int ready_after_not_ready = 0;
  int others_not_ready = 0;
  while (node(2).running() && !node(2).wait_exit(0ms)) {
    const int status = readiness_of(port(2));
    if (status == 503) {
      ++not_ready_seen;
    } else if (status == 200 && not_ready_seen > 0) {
      ++ready_after_not_ready;
    }
    for (int other = 0; other < 2; ++other) {
      if (readiness_of(port(other)) != 200) {
        ++others_not_ready;
      }
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  EXPECT_EQ(node(2).wait_exit(0ms), 0);
  EXPECT_GT(not_ready_seen, 0) << "node 3 answers 503 while it drains";
  EXPECT_EQ(ready_after_not_ready, 0);
  EXPECT_EQ(others_not_ready, 0);
  EXPECT_EQ(readiness_of(port(2)), 0) << "a stopped node refuses connections";
  // The update it had in hand was still answered.
  EXPECT_EQ(FakeTelegram::finished_messages_to(telegram_.calls(), kChat), 1U);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(readiness_of(port(i)), 200);
  }
}

TEST_F(Cluster, SigtermUnderLoadLosesNoRequestTheNodeAccepted) {
  start_nodes();
  chat_delay_ms_ = 300;
  constexpr int kLoops = 6;
  constexpr int kTarget = 1;  // node 2
  std::vector<std::string> tokens;
  for (int i = 0; i < kLoops; ++i) {
    tokens.push_back(testing::sign_in_user(port(i % kNodes), 4200 + i));
  }

  std::atomic<bool> stop{false};
  std::atomic<int> target_completed{0};
  std::atomic<int> target_refused{0};
  std::atomic<int> others_completed{0};
  std::mutex mutex;
  std::vector<std::string> problems;  // lost or failed requests
  const auto note_problem = [&](const std::string& what) {
    const std::scoped_lock lock(mutex);
    problems.push_back(what);
  };
  {
    std::vector<std::jthread> loops;
    for (int loop = 0; loop < kLoops; ++loop) {
      loops.emplace_back([&, loop] {
        const auto& token = tokens.at(static_cast<std::size_t>(loop));
        bool target_gone = false;
        for (int n = 0; !stop.load();) {
          const bool chat = n % 2 == 1;
          const int target = target_gone ? (n % 4 < 2 ? 0 : 2) : kTarget;
          const auto what = "loop " + std::to_string(loop) + " request " + std::to_string(n) + " to node " +
                            std::to_string(target + 1) + (chat ? " (chat)" : " (profile)");
          std::optional<HttpReply> reply;
          try {
            if (chat) {
              const json::object body{{"message", "load " + std::to_string(loop) + "/" + std::to_string(n)}};
              reply = testing::post_chat(port(target), token, body);
            } else {
              reply = testing::call_api(port(target), "GET", "/api/v1/profile", token);
            }
          } catch (const std::runtime_error&) {
            if (target == kTarget) {
              ++target_refused;  // the listener is closed: the same request goes to another node
              target_gone = true;
            } else {
              note_problem(what + ": connection refused");
              ++n;
            }
            continue;
          }
          ++n;
          if (!reply) {
            note_problem(what + ": accepted, then no response");
          } else if (reply->status < 200 || reply->status > 299) {
            note_problem(what + ": status " + std::to_string(reply->status) + " " + reply->body);
          } else {
            ++(target == kTarget ? target_completed : others_completed);
          }
        }
      });
    }

    // Load is flowing into node 2 before it is told to stop.
    const bool loaded = eventually([&] { return target_completed.load() >= 2 * kLoops; });
    EXPECT_TRUE(loaded);
    node(kTarget).terminate();
    const auto exit_code = node(kTarget).wait_exit(60s);
    EXPECT_EQ(exit_code, 0);
    // The retried requests are served by the other nodes.
    const int served_before = others_completed.load();
    EXPECT_TRUE(eventually([&] { return others_completed.load() >= served_before + 2 * kLoops; }));
    stop = true;
  }
  const std::scoped_lock lock(mutex);
  EXPECT_TRUE(problems.empty()) << problems.size() << " requests lost or failed, e.g. " << problems.front();
  EXPECT_GT(target_refused.load(), 0);
  EXPECT_GT(others_completed.load(), 0);
  // Requests were in flight when the shutdown began, so the test exercised draining them.
  const auto output = node(kTarget).output();
  const auto started = output.find("\"shutdown_started\"");
  ASSERT_NE(started, std::string::npos) << output;
  const auto line = output.substr(started, output.find('\n', started) - started);
  EXPECT_EQ(line.find("\"open_connections\":0,"), std::string::npos) << line;
}

}  // namespace
}  // namespace evolveai
