// evolveai-fake-services: the test fakes as a process, for tests that drive a real
// `evolveai serve` from outside (the web app's end-to-end run). Starts a fake Gemini that
// streams its reply slowly and a fake Telegram Bot API, prints `gemini_base_url=<url>` and
// `telegram_base_url=<url>` on standard output, and serves until SIGTERM or SIGINT.
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>

#include "fakes/fake_gemini.hpp"
#include "fakes/fake_telegram.hpp"

namespace {

/// The reply every chat turn streams: Markdown with a code block and raw HTML (which a client
/// must show as text), so renderers are exercised.
constexpr std::string_view kDefaultReply =
    "Nice to meet you! I will **remember** that you like *jazz*.\n\n"
    "Here is a tiny example:\n\n```python\nprint(\"hello from EvolveAI\")\n```\n\n"
    "Tags like <b onmouseover=\"alert(1)\">this</b> stay text.\n\n"
    "What would you like to talk about next?";

void usage() {
  std::cerr << "usage: evolveai-fake-services [--token-interval-ms N] [--reply TEXT] [--bot-token TOKEN]\n";
}

}  // namespace

int main(int argc, char** argv) {
  evolveai::testing::FakeGemini::Options options;
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

  const evolveai::testing::FakeGemini gemini(options);
  const evolveai::testing::FakeTelegram telegram(bot_token);
  // Flushed at once: the caller reads these lines to configure the server.
  std::cout << "gemini_base_url=" << gemini.base_url() << "\n"
            << "telegram_base_url=" << telegram.base_url() << std::endl;  // NOLINT(performance-avoid-endl)

  int received = 0;
  sigwait(&stop_signals, &received);
  return 0;
}
