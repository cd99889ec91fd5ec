// evolveai-fake-services: the test fakes as a process, for tests that drive a real
// `evolveai serve` from outside (the web app's end-to-end run, `make chaos`). Starts a fake
// Gemini that streams its reply slowly and a fake Telegram Bot API, prints
// `gemini_base_url=<url>` and `telegram_base_url=<url>` on standard output, and serves until
// SIGTERM or SIGINT.
//
// The fake Gemini's behaviour can be switched while it runs, on its own origin:
//   POST /__fake/mode   body `ok`, `429`, `500`, `stall` (status line never sent) or
//                       `slow:MS` (healthy, but silent for MS ms before answering)
//   GET  /__fake/stats  {"mode": "...", "model_requests": {"ok": n, "429": n, ...}}
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fakes/fake_gemini.hpp"
#include "fakes/fake_telegram.hpp"

namespace {

using evolveai::testing::FakeGemini;
using evolveai::testing::FakeReply;
using evolveai::testing::RecordedRequest;

/// The reply every chat turn streams: Markdown with a code block and raw HTML (which a client
/// must show as text), so renderers are exercised.
constexpr std::string_view kDefaultReply =
    "Nice to meet you! I will **remember** that you like *jazz*.\n\n"
    "Here is a tiny example:\n\n```python\nprint(\"hello from EvolveAI\")\n```\n\n"
    "Tags like <b onmouseover=\"alert(1)\">this</b> stay text.\n\n"
    "What would you like to talk about next?";

/// Where the fake's control requests go; everything else is the model API.
constexpr std::string_view kControlPrefix = "/__fake/";

/// Long enough to outlast any model-call deadline a test configures.
constexpr std::chrono::hours kStallFor{1};

void usage() {
  std::cerr << "usage: evolveai-fake-services [--token-interval-ms N] [--reply TEXT] [--bot-token TOKEN]\n";
}

/// The reply text cut into word-sized tokens, each space kept with the word after it.
std::vector<std::string> words_of(std::string_view text) {
  std::vector<std::string> words;
  std::size_t start = 0;
  while (start < text.size()) {
    auto next = text.find(' ', start + 1);
    if (next == std::string_view::npos) {
      next = text.size();
    }
    words.emplace_back(text.substr(start, next - start));
    start = next;
  }
  return words;
}

/// How the fake model answers now, switched at run time by a test script; thread-safe.
class ModelModes {
 public:
  ModelModes(std::string reply_text, std::chrono::milliseconds token_interval)
      : reply_text_(std::move(reply_text)), token_interval_(token_interval) {}

  /// The reply to one request reaching the fake Gemini: a control request or a model call.
  FakeReply answer(const RecordedRequest& request) {
    if (request.path.starts_with(kControlPrefix)) {
      return control(request);
    }
    const bool streaming = request.path.ends_with(":streamGenerateContent");
    if (request.method != "POST" || (!streaming && !request.path.ends_with(":generateContent"))) {
      return FakeGemini::error(404, "NOT_FOUND", "Method not found.");
    }
    std::string mode;
    std::chrono::milliseconds delay{0};
    {
      const std::scoped_lock lock(mutex_);
      mode = mode_;
      delay = slow_delay_;
      ++served_[mode_];
    }
    if (mode == "429") {
      return FakeGemini::rate_limited();
    }
    if (mode == "500") {
      return FakeGemini::error(500, "INTERNAL", "An internal error has occurred.");
    }
    FakeReply reply = streaming ? FakeGemini::stream_reply(words_of(reply_text_), token_interval_)
                                : FakeGemini::text_reply(reply_text_);
    if (mode == "stall") {
      reply.first_byte_delay = kStallFor;
    } else if (mode == "slow") {
      reply.first_byte_delay = delay;
    }
    return reply;
  }

 private:
  FakeReply control(const RecordedRequest& request) {
    if (request.path == "/__fake/mode" && request.method == "POST") {
      std::string wanted = request.body;
      while (!wanted.empty() && (wanted.back() == '\n' || wanted.back() == '\r' || wanted.back() == ' ')) {
        wanted.pop_back();
      }
      std::chrono::milliseconds delay{0};
      if (wanted.starts_with("slow:")) {
        delay = std::chrono::milliseconds(std::atoi(wanted.c_str() + 5));  // NOLINT
        wanted = "slow";
      }
      if (wanted != "ok" && wanted != "429" && wanted != "500" && wanted != "stall" && wanted != "slow") {
        return FakeReply::json(400, R"({"error":"mode is one of ok, 429, 500, stall, slow:MS"})");
      }
      const std::scoped_lock lock(mutex_);
      mode_ = wanted;
      slow_delay_ = delay;
      return FakeReply::json(200, R"({"mode":")" + mode_ + R"("})");
    }
    if (request.path == "/__fake/stats" && request.method == "GET") {
      const std::scoped_lock lock(mutex_);
      std::string counts;
      for (const auto& [mode, count] : served_) {
        counts += (counts.empty() ? "" : ",") + std::string("\"") + mode + "\":" + std::to_string(count);
      }
      return FakeReply::json(200, R"({"mode":")" + mode_ + R"(","model_requests":{)" + counts + "}}");
    }
    return FakeReply::json(404, R"({"error":"unknown control request"})");
  }

  const std::string reply_text_;
  const std::chrono::milliseconds token_interval_;
  std::mutex mutex_;
  std::string mode_ = "ok";
  std::chrono::milliseconds slow_delay_{0};
  std::map<std::string, std::size_t> served_;
};

}  // namespace

int main(int argc, char** argv) {
  FakeGemini::Options options;
  options.reply_text = std::string(kDefaultReply);
  options.token_interval = std::chrono::milliseconds(40);
  std::string bot_token(evolveai::testing::FakeTelegram::kToken);
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];  // NOLINT(cppcoreguidelines-pro-bounds-pointer-arithmetic)
    if (arg == "--token-interval-ms" && i + 1 < argc) {
      options.token_interval = std::chrono::milliseconds(std::atoi(argv[++i]));  // NOLINT
    } else if (arg == "--bot-token" && i + 1 < argc) {
      bot_token = argv[++i];  // NOLINT(cppcoreguidelines-pro-bounds-pointer-arithmetic)
    } else if (arg == "--reply" && i + 1 < argc) {
      options.reply_text = argv[++i];  // NOLINT(cppcoreguidelines-pro-bounds-pointer-arithmetic)
    } else {
      usage();
      return 2;
    }
  }

  // Block the stop signals before the fake's thread starts, so that only sigwait() sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  // The modes outlive the fake: its thread calls the responder until the fake is destroyed.
  auto modes = std::make_shared<ModelModes>(options.reply_text, options.token_interval);
  FakeGemini gemini(options);
  gemini.set_responder([modes](const RecordedRequest& request) { return modes->answer(request); });
  const evolveai::testing::FakeTelegram telegram(bot_token);
  // Flushed at once: the caller reads these lines to configure the server.
  std::cout << "gemini_base_url=" << gemini.base_url() << "\n"
            << "telegram_base_url=" << telegram.base_url() << std::endl;  // NOLINT(performance-avoid-endl)

  int received = 0;
  sigwait(&stop_signals, &received);
  return 0;
}
