// Fuzzes how the bot reads Telegram: the input is the body of a webhook call or of a getUpdates
// result element, and also a Bot API error reply and a message text. Updates that are not shaped
// as documented must end in ParseError; whatever parses must route without crashing.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "telegram/update.hpp"

namespace {

namespace telegram = evolveai::telegram;

constexpr std::string_view kBotUsername = "evolveai_bot";

void check_command(std::string_view text) {
  for (const auto bot : {kBotUsername, std::string_view{}}) {
    if (const auto command = telegram::parse_command(text, bot)) {
      if (command->name.empty() || command->name.size() > 32 || text.empty() || text.front() != '/') {
        std::abort();
      }
    }
  }
}

}  // namespace

// NOLINTNEXTLINE(readability-identifier-naming): the entry point libFuzzer calls
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Reading the fuzzer's bytes as characters is allowed aliasing.
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  try {
    const auto update = telegram::parse_update_text(body);
    const auto routing = telegram::route_update(update, kBotUsername);
    (void)telegram::route_name(routing.route);
    (void)telegram::ordering_key(update);
    if (update.message && update.message->text) {
      check_command(*update.message->text);
    }
  } catch (const telegram::ParseError&) {
    // Not an update as the Bot API documents it.
  }
  if (const auto failure = telegram::parse_api_failure(body)) {
    if (failure->retry_after && failure->retry_after->count() < 0) {
      std::abort();
    }
  }
  check_command(body);
  return 0;
}
