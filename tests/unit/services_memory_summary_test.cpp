#include "services/memory_summary.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <string>
#include <vector>

#include "core/errors.hpp"

namespace evolveai::services {
namespace {

using storage::Fact;
using ::testing::HasSubstr;

MemoryLimits small_limits() {
  MemoryLimits limits;
  limits.max_facts = 3;
  limits.max_fact_chars = 20;
  limits.max_summary_chars = 50;
  return limits;
}

/// Fresh ids "n1", "n2", … in order.
FactIdSource counting_ids() {
  auto next = std::make_shared<int>(0);
  return [next] { return "n" + std::to_string(++*next); };
}

std::vector<std::string> texts(const std::vector<Fact>& facts) {
  std::vector<std::string> out;
  for (const auto& f : facts) {
    out.push_back(f.text);
  }
  return out;
}

// --- the model's answer ---------------------------------------------------------------------

TEST(MemorySummaryAnswer, AcceptsAWellFormedAnswer) {
  const auto check = check_summary_answer(
      R"({"summary": "  Ann likes jazz. ", "facts": [" likes jazz ", "lives in Омск"]})", small_limits());
  ASSERT_TRUE(check.answer.has_value()) << check.problem;
  EXPECT_EQ(check.answer->summary, "Ann likes jazz.");
  EXPECT_EQ(check.answer->facts, (std::vector<std::string>{"likes jazz", "lives in Омск"}));
}

TEST(MemorySummaryAnswer, ToleratesAJsonCodeFenceAndRemovesRepeatedFacts) {
  const auto check =
      check_summary_answer("```json\n{\"summary\": \"s\", \"facts\": [\"a\", \"a\", \"b\"]}\n```", small_limits());
  ASSERT_TRUE(check.answer.has_value()) << check.problem;
  EXPECT_EQ(check.answer->facts, (std::vector<std::string>{"a", "b"}));
}

TEST(MemorySummaryAnswer, AcceptsNoFactsAndMultiLineSummaries) {
  const auto check = check_summary_answer(R"({"summary": "line one\nline two", "facts": []})", small_limits());
  ASSERT_TRUE(check.answer.has_value()) << check.problem;
  EXPECT_TRUE(check.answer->facts.empty());
}

struct BadAnswer {
  const char* name;
  std::string text;
  const char* problem;
};

class MemorySummaryBadAnswer : public ::testing::TestWithParam<BadAnswer> {};

TEST_P(MemorySummaryBadAnswer, IsRejectedWithAReason) {
  const auto check = check_summary_answer(GetParam().text, small_limits());
  EXPECT_FALSE(check.answer.has_value());
  EXPECT_THAT(check.problem, HasSubstr(GetParam().problem));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, MemorySummaryBadAnswer,
    ::testing::Values(
        BadAnswer{"NotJson", "Sure! Here is the summary: Ann likes jazz.", "not JSON"},
        BadAnswer{"CutOff", R"({"summary": "Ann likes)", "not JSON"},
        BadAnswer{"Array", R"(["Ann likes jazz"])", "not a JSON object"},
        BadAnswer{"ExtraField", R"({"summary": "s", "facts": [], "mood": "happy"})", "unexpected field 'mood'"},
        BadAnswer{"SummaryMissing", R"({"facts": []})", "'summary' is missing"},
        BadAnswer{"SummaryNotString", R"({"summary": 7, "facts": []})", "'summary' is missing or not a string"},
        BadAnswer{"SummaryBlank", R"({"summary": "  \n ", "facts": []})", "'summary' is blank"},
        BadAnswer{"SummaryTooLong", R"({"summary": ")" + std::string(51, 'x') + R"(", "facts": []})", "longer than 50"},
        BadAnswer{"SummaryControlCharacter", R"({"summary": "a\u0007b", "facts": []})", "not clean"},
        BadAnswer{"FactsMissing", R"({"summary": "s"})", "'facts' is missing"},
        BadAnswer{"FactsNotArray", R"({"summary": "s", "facts": "likes jazz"})", "not an array"},
        BadAnswer{"TooManyFacts", R"({"summary": "s", "facts": ["a", "b", "c", "d"]})", "4 facts, more than 3"},
        BadAnswer{"FactNotString", R"({"summary": "s", "facts": [{"text": "a"}]})", "not a string"},
        BadAnswer{"FactEmpty", R"({"summary": "s", "facts": ["  "]})", "empty or longer"},
        BadAnswer{"FactTooLong", R"({"summary": "s", "facts": [")" + std::string(21, 'f') + R"("]})",
                  "empty or longer than 20"},
        BadAnswer{"FactOnTwoLines", R"({"summary": "s", "facts": ["a\nb"]})", "single-line"},
        BadAnswer{"FactWithC1Control", "{\"summary\": \"s\", \"facts\": [\"a\xC2\x85z\"]}", "single-line"}),
    [](const auto& case_info) { return std::string(case_info.param.name); });

TEST(MemorySummaryAnswer, LengthsCountCharactersNotBytes) {
  MemoryLimits limits = small_limits();
  limits.max_fact_chars = 4;
  // Four Cyrillic letters are eight bytes but four characters.
  EXPECT_TRUE(check_summary_answer(R"({"summary": "s", "facts": ["Омск"]})", limits).answer.has_value());
}

// --- the request --------------------------------------------------------------------------

TEST(MemorySummaryRequest, AsksForJsonWithASchemaAndShowsMemoryAndMessages) {
  storage::Memory memory;
  memory.summary = "Ann likes jazz.";
  memory.facts = {Fact{"a", "likes jazz", false}, Fact{"b", "allergic to nuts", true}};
  storage::Message said;
  said.role = storage::Role::kUser;
  said.content = "I moved to Berlin";
  storage::Message answered;
  answered.role = storage::Role::kAssistant;
  answered.content = "How exciting!";
  const auto request = summary_request(memory, {said, answered}, small_limits());

  EXPECT_TRUE(request.options.json_output);
  const auto schema = boost::json::parse(request.options.json_schema).as_object();
  EXPECT_EQ(schema.at("type").as_string(), "object");
  EXPECT_EQ(schema.at("properties").at("facts").at("maxItems").to_number<int>(), 3);
  ASSERT_EQ(request.messages.size(), 1U);
  const auto& text = request.messages[0].parts.at(0).text;
  EXPECT_THAT(text, HasSubstr("Ann likes jazz."));
  EXPECT_THAT(text, HasSubstr("Current facts:\n- likes jazz\n"));
  EXPECT_THAT(text, HasSubstr("Pinned facts (kept anyway):\n- allergic to nuts\n"));
  EXPECT_THAT(text, HasSubstr("User: I moved to Berlin\nAssistant: How exciting!\n"));
  EXPECT_THAT(request.system_instruction, HasSubstr("at most 3 short"));
}

// --- facts a user adds -----------------------------------------------------------------------

TEST(MemoryFactText, IsTrimmedAndChecked) {
  EXPECT_EQ(checked_fact_text("  likes tea ", small_limits()), "likes tea");
  EXPECT_THROW((void)checked_fact_text("   ", small_limits()), core::Error);
  EXPECT_THROW((void)checked_fact_text(std::string(21, 'x'), small_limits()), core::Error);
  EXPECT_THROW((void)checked_fact_text("two\nlines", small_limits()), core::Error);
  EXPECT_THROW((void)checked_fact_text("bad \xFF utf8", small_limits()), core::Error);
}

// --- merging ----------------------------------------------------------------------------------

TEST(MemoryMergeFacts, PinnedFactsSurviveWhenTheModelDropsThem) {
  const std::vector<Fact> facts{{"a", "likes jazz", false}, {"p", "allergic to nuts", true}};
  const auto merged = merge_facts(facts, facts, {"lives in Berlin"}, 20, counting_ids());
  ASSERT_EQ(merged.size(), 2U);
  EXPECT_EQ(merged[0], (Fact{"p", "allergic to nuts", true}));
  EXPECT_EQ(merged[1], (Fact{"n1", "lives in Berlin", false}));
}

TEST(MemoryMergeFacts, PinnedFactsAreNeverDroppedEvenPastTheMaximum) {
  const std::vector<Fact> facts{{"p1", "one", true}, {"p2", "two", true}, {"p3", "three", true}};
  const auto merged = merge_facts(facts, facts, {"four", "five"}, 2, counting_ids());
  EXPECT_EQ(merged, facts);
}

TEST(MemoryMergeFacts, ModelFactsFillTheRoomLeftByPinnedOnes) {
  const std::vector<Fact> facts{{"p", "pinned", true}};
  const auto merged = merge_facts(facts, facts, {"x", "y", "z"}, 3, counting_ids());
  EXPECT_EQ(texts(merged), (std::vector<std::string>{"pinned", "x", "y"}));
}

TEST(MemoryMergeFacts, AKeptFactKeepsItsIdAndARepeatOfAPinnedOneIsNotDoubled) {
  const std::vector<Fact> facts{{"a", "likes jazz", false}, {"p", "allergic to nuts", true}};
  const auto merged = merge_facts(facts, facts, {"allergic to nuts", "likes jazz"}, 20, counting_ids());
  EXPECT_EQ(merged, (std::vector<Fact>{{"p", "allergic to nuts", true}, {"a", "likes jazz", false}}));
}

TEST(MemoryMergeFacts, EditsMadeDuringTheSummaryAreRespected) {
  const std::vector<Fact> base{{"a", "likes jazz", false}, {"b", "has a dog", false}};
  // Meanwhile the user deleted "has a dog", added "plays chess" and pinned "likes jazz".
  const std::vector<Fact> current{{"a", "likes jazz", true}, {"c", "plays chess", false}};
  const auto merged = merge_facts(base, current, {"has a dog", "likes jazz", "lives in Berlin"}, 20, counting_ids());
  EXPECT_EQ(merged, (std::vector<Fact>{
                        {"a", "likes jazz", true}, {"c", "plays chess", false}, {"n1", "lives in Berlin", false}}));
}

TEST(MemoryMergeFacts, NewIdsNeverRepeatAnExistingOne) {
  const std::vector<Fact> facts{{"n1", "taken", false}};
  const auto merged = merge_facts(facts, facts, {"taken", "new"}, 20, counting_ids());
  ASSERT_EQ(merged.size(), 2U);
  EXPECT_EQ(merged[1].id, "n2");
}

}  // namespace
}  // namespace evolveai::services
