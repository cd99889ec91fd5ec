// The context of one chat turn built by services::ContextBuilder for a 4,000-token budget: a
// rolling summary, 20 facts, 40 recent messages of mixed English and Russian text (more than
// the budget holds, so the newest are chosen) and 5 older relevant messages to quote.
#include <benchmark/benchmark.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "services/context_builder.hpp"
#include "storage/records.hpp"

namespace {

namespace services = evolveai::services;
namespace storage = evolveai::storage;

constexpr std::size_t kTokenBudget = 4000;
constexpr std::size_t kFacts = 20;
constexpr std::size_t kRecent = 40;
constexpr std::size_t kRelevant = 5;
constexpr storage::MessageId kFirstRecentId = 1001;

constexpr std::array<std::string_view, 12> kSentences = {
    "I finally listened to the whole Blue Train album on the way to work this morning.",
    "Сегодня на работе был сложный день: два созвона подряд и срочный отчёт к вечеру.",
    "My sister Masha wants us to go hiking in Karelia in July, but I'm not sure I can take the time off.",
    "Я начала учить испанский по двадцать минут в день, пока получается держать темп.",
    "The saxophone part in Moment's Notice still gives me goosebumps every single time.",
    "Вечером гуляла с собакой по набережной, было тихо и очень красиво.",
    "Do you think it's silly to buy a turntable when everything is on streaming anyway?",
    "Мне кажется, я слишком много думаю о том, что скажут коллеги.",
    "That sounds like a good plan; small steps every day tend to add up faster than we expect.",
    "Помнишь, ты советовал записывать три хорошие вещи за день? Я попробовала, и это помогает.",
    "Let's pick one record for this weekend and really listen to it, start to finish, no phone.",
    "Завтра день рождения у бабушки, хочу приготовить её любимый пирог с капустой.",
};

/// Text of 2..6 sentences picked deterministically from the pool.
std::string message_text(std::size_t seed) {
  std::string text;
  const std::size_t sentences = 2 + seed % 5;
  for (std::size_t i = 0; i < sentences; ++i) {
    if (!text.empty()) {
      text += ' ';
    }
    text += kSentences[(seed * 7 + i * 5) % kSentences.size()];
  }
  return text;
}

storage::Message stored(storage::MessageId id, storage::Role role, std::string content) {
  storage::Message message;
  message.id = id;
  message.user_id = 42;
  message.role = role;
  message.content = std::move(content);
  message.status = storage::MessageStatus::kComplete;
  message.created_at = std::chrono::system_clock::time_point(std::chrono::seconds(1764150000 + id * 60));
  return message;
}

services::ContextInput turn_input() {
  services::ContextInput input;
  input.settings.persona = "friend";
  input.settings.reply_language = "auto";
  input.user_name = "Anna";
  for (std::size_t i = 0; i < kFacts; ++i) {
    input.facts.push_back(i % 2 == 0 ? "Likes jazz records, especially Coltrane; fact " + std::to_string(i)
                                     : "Учит испанский и гуляет с собакой по вечерам; факт " + std::to_string(i));
  }
  input.summary =
      "Anna is a product analyst from Saint Petersburg. She inherited her grandfather's jazz records and "
      "is slowly listening through them; Blue Train is her favourite so far. Она учит испанский, "
      "волнуется из-за работы и мнения коллег, старается записывать три хорошие вещи за день. Her sister "
      "Masha plans a hiking trip to Karelia in July. She prefers short, warm replies and sometimes writes "
      "in Russian when tired.";
  for (std::size_t i = 0; i < kRecent; ++i) {
    const auto role = i % 2 == 0 ? storage::Role::kUser : storage::Role::kAssistant;
    input.recent.push_back(stored(kFirstRecentId + static_cast<storage::MessageId>(i), role, message_text(i)));
  }
  // The new message is the newest of the recent ones, as the store returns it.
  input.current_message_id = input.recent.back().id;
  input.current_text = input.recent.back().content;
  for (std::size_t i = 0; i < kRelevant; ++i) {
    const auto id = static_cast<storage::MessageId>(300 + 37 * i);
    input.relevant.push_back(stored(id, storage::Role::kUser, message_text(100 + i)));
  }
  // One relevant hit is also a recent message: it must not be quoted twice.
  input.relevant.push_back(input.recent[kRecent - 3]);
  return input;
}

// Building one turn's model request (system instruction, chosen history, quoted past) from loaded data.
void micro_context_build_4k(benchmark::State& state) {
  services::ContextBudget budget;
  budget.token_budget = kTokenBudget;
  const services::ContextBuilder builder(budget);
  const auto input = turn_input();

  const auto checked = builder.build(input);
  if (checked.recent_used == 0 || checked.recent_used >= kRecent - 1 || checked.relevant_used == 0 ||
      checked.estimated_tokens > kTokenBudget || checked.request.messages.empty() ||
      checked.request.messages.back().parts.back().text != input.current_text) {
    state.SkipWithError("the context did not respect the budget or lost the new message");
    return;
  }
  for ([[maybe_unused]] auto iteration : state) {
    auto built = builder.build(input);
    benchmark::DoNotOptimize(built);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["recent_used"] = static_cast<double>(checked.recent_used);
  state.counters["relevant_used"] = static_cast<double>(checked.relevant_used);
  state.counters["est_tokens"] = static_cast<double>(checked.estimated_tokens);
}
BENCHMARK(micro_context_build_4k);

}  // namespace
