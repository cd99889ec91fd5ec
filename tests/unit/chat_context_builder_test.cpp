#include <gtest/gtest.h>

#include <string>

#include "services/context_builder.hpp"

namespace evolveai::services {
namespace {

using storage::Message;
using storage::MessageStatus;
using storage::Role;

Message message(storage::MessageId id, Role role, std::string content,
                MessageStatus status = MessageStatus::kComplete) {
  Message m;
  m.id = id;
  m.user_id = 1;
  m.role = role;
  m.content = std::move(content);
  m.status = status;
  m.created_at = storage::Time(std::chrono::sys_days(std::chrono::year(2024) / 5 / 10));
  return m;
}

/// A user/assistant exchange per pair of ids, starting at `first`.
std::vector<Message> conversation(storage::MessageId first, int exchanges, std::size_t chars = 40) {
  std::vector<Message> out;
  for (int i = 0; i < exchanges; ++i) {
    const auto id = first + 2 * static_cast<storage::MessageId>(i);
    out.push_back(message(id, Role::kUser, "question " + std::to_string(id) + " " + std::string(chars, 'q')));
    out.push_back(
        message(id + 1, Role::kAssistant, "answer " + std::to_string(id + 1) + " " + std::string(chars, 'a')));
  }
  return out;
}

/// All text of a request, for "is it in there" checks.
std::string all_text(const ai::ChatRequest& request) {
  std::string text = request.system_instruction;
  for (const auto& m : request.messages) {
    for (const auto& p : m.parts) {
      text += "\n" + p.text;
    }
  }
  return text;
}

ContextInput input_with(std::vector<Message> recent, storage::MessageId current_id, std::string text) {
  ContextInput input;
  input.recent = std::move(recent);
  input.current_message_id = current_id;
  input.current_text = std::move(text);
  return input;
}

TEST(ContextBuilder, SystemInstructionHoldsPersonaLanguageNameFactsAndSummary) {
  ContextInput input = input_with({}, 10, "hello");
  input.settings.persona = "coach";
  input.settings.reply_language = "ru";
  input.user_name = "Ann";
  input.facts = {"likes jazz", "plays the saxophone"};
  input.summary = "They talked about a concert last week.";
  const auto built = ContextBuilder(ContextBudget{}).build(input);
  const auto& instruction = built.request.system_instruction;
  EXPECT_NE(instruction.find("coach"), std::string::npos);
  EXPECT_NE(instruction.find("Russian"), std::string::npos);
  EXPECT_NE(instruction.find("Ann"), std::string::npos);
  EXPECT_NE(instruction.find("- likes jazz\n"), std::string::npos);
  EXPECT_NE(instruction.find("- plays the saxophone\n"), std::string::npos);
  EXPECT_NE(instruction.find("They talked about a concert last week."), std::string::npos);
}

TEST(ContextBuilder, AutoLanguageFollowsTheUser) {
  ContextInput input = input_with({}, 10, "hallo");
  EXPECT_NE(ContextBuilder(ContextBudget{}).build(input).request.system_instruction.find("language of the user"),
            std::string::npos);
}

TEST(ContextBuilder, HistoryIsOldestFirstAndEndsWithTheNewMessage) {
  auto recent = conversation(1, 3);
  recent.push_back(message(7, Role::kUser, "the new one", MessageStatus::kPending));
  const auto built = ContextBuilder(ContextBudget{}).build(input_with(recent, 7, "the new one"));
  const auto& messages = built.request.messages;
  ASSERT_EQ(messages.size(), 7U);
  EXPECT_EQ(messages.front().role, ai::Role::kUser);
  EXPECT_NE(messages.front().parts.front().text.find("question 1"), std::string::npos);
  for (std::size_t i = 1; i < messages.size(); ++i) {
    EXPECT_NE(messages[i].role, messages[i - 1].role) << "turns alternate";
  }
  EXPECT_EQ(messages.back().role, ai::Role::kUser);
  ASSERT_EQ(messages.back().parts.size(), 1U);
  EXPECT_EQ(messages.back().parts.back().text, "the new one");
  EXPECT_EQ(built.recent_used, 6U);
}

TEST(ContextBuilder, OnlyTheNewestMessagesThatFitTheBudgetAreSent) {
  // 20 exchanges of ~100-character messages (~29 tokens each with overhead) against a small budget.
  const auto recent = conversation(1, 20, 100);
  ContextBudget budget;
  budget.token_budget = 900;
  budget.relevant_messages = 0;
  const auto built = ContextBuilder(budget).build(input_with(recent, 41, "and now?"));
  EXPECT_GT(built.recent_used, 0U);
  EXPECT_LT(built.recent_used, recent.size());
  EXPECT_LE(built.estimated_tokens, budget.token_budget);
  const auto text = all_text(built.request);
  EXPECT_NE(text.find("answer 40"), std::string::npos) << "the newest message is kept";
  EXPECT_EQ(text.find("question 1 "), std::string::npos) << "the oldest message is dropped";
  EXPECT_EQ(built.request.messages.front().role, ai::Role::kUser) << "the conversation opens with the user";
}

TEST(ContextBuilder, UnfinishedAndLaterMessagesAreLeftOut) {
  std::vector<Message> recent = conversation(1, 1);
  recent.push_back(message(3, Role::kUser, "failed earlier", MessageStatus::kFailed));
  recent.push_back(message(4, Role::kUser, "current", MessageStatus::kPending));
  recent.push_back(message(5, Role::kUser, "a parallel turn", MessageStatus::kComplete));
  const auto built = ContextBuilder(ContextBudget{}).build(input_with(recent, 4, "current"));
  const auto text = all_text(built.request);
  EXPECT_EQ(text.find("failed earlier"), std::string::npos);
  EXPECT_EQ(text.find("a parallel turn"), std::string::npos);
  EXPECT_EQ(built.recent_used, 2U);
}

TEST(ContextBuilder, RelevantOlderMessagesAreQuotedUpToKAndDeduplicated) {
  auto recent = conversation(100, 2);
  std::vector<Message> relevant = {
      message(5, Role::kUser, "my saxophone teacher is called Bob"),
      recent[1],                                            // already in the history
      message(6, Role::kUser, recent[0].content),           // same words as a recent message
      message(7, Role::kUser, "what about the saxophone"),  // repeats the new message
      message(8, Role::kAssistant, "Bob sounds like a great saxophone teacher"),
      message(9, Role::kUser, "a third saxophone memory"),
      message(10, Role::kUser, "a fourth saxophone memory"),
  };
  ContextInput input = input_with(recent, 104, "what about the saxophone");
  input.relevant = relevant;
  ContextBudget budget;
  budget.relevant_messages = 3;
  const auto built = ContextBuilder(budget).build(input);
  const auto& instruction = built.request.system_instruction;
  EXPECT_EQ(built.relevant_used, 3U);
  EXPECT_NE(instruction.find("[2024-05-10] the user said: \"my saxophone teacher is called Bob\""), std::string::npos);
  EXPECT_NE(instruction.find("you said: \"Bob sounds like a great saxophone teacher\""), std::string::npos);
  EXPECT_NE(instruction.find("a third saxophone memory"), std::string::npos);
  EXPECT_EQ(instruction.find("a fourth saxophone memory"), std::string::npos) << "at most K";
  EXPECT_EQ(instruction.find(recent[1].content), std::string::npos) << "not quoted when in the history";
  EXPECT_EQ(instruction.find("what about the saxophone"), std::string::npos) << "never the new message";
}

TEST(ContextBuilder, LongRelevantMessagesAreCut) {
  ContextInput input = input_with({}, 50, "guitar");
  input.relevant = {message(3, Role::kUser, "guitar " + std::string(5000, 'g'))};
  ContextBudget budget;
  budget.relevant_message_chars = 100;
  const auto built = ContextBuilder(budget).build(input);
  EXPECT_EQ(built.relevant_used, 1U);
  EXPECT_NE(built.request.system_instruction.find("\u2026"), std::string::npos);
  EXPECT_EQ(built.request.system_instruction.find(std::string(200, 'g')), std::string::npos);
}

TEST(ContextBuilder, ImageGoesWithTheNewMessageAndPastImagesAreNoted) {
  std::vector<Message> recent = {message(1, Role::kUser, "look at this"), message(2, Role::kAssistant, "nice cat")};
  recent[0].has_image = true;
  ContextInput input = input_with(recent, 3, "and this one?");
  input.current_image = ai::Part::inline_data("image/png", "\x89PNG");
  const auto built = ContextBuilder(ContextBudget{}).build(input);
  const auto& last = built.request.messages.back();
  ASSERT_EQ(last.parts.size(), 2U);
  EXPECT_EQ(last.parts[0].kind, ai::Part::Kind::kInlineData);
  EXPECT_EQ(last.parts[0].mime_type, "image/png");
  EXPECT_EQ(last.parts[1].text, "and this one?");
  EXPECT_NE(built.request.messages.front().parts.front().text.find("attached an image"), std::string::npos);
}

TEST(ContextBuilder, NeighboursOfOneRoleAreMerged) {
  std::vector<Message> recent = {message(1, Role::kUser, "first"), message(2, Role::kUser, "second"),
                                 message(3, Role::kAssistant, "reply")};
  const auto built = ContextBuilder(ContextBudget{}).build(input_with(recent, 4, "third"));
  ASSERT_EQ(built.request.messages.size(), 3U);
  EXPECT_EQ(built.request.messages[0].parts.front().text, "first\n\nsecond");
}

TEST(ContextBuilder, TokenEstimateIsCharactersOverFour) {
  EXPECT_EQ(estimate_tokens(""), 0U);
  EXPECT_EQ(estimate_tokens("abcd"), 1U);
  EXPECT_EQ(estimate_tokens("abcde"), 2U);
  EXPECT_EQ(estimate_tokens("\u043f\u0440\u0438\u0432"), 1U) << "characters, not bytes";
}

}  // namespace
}  // namespace evolveai::services
