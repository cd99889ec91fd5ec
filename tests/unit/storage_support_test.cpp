#include "storage/store_support.hpp"

#include <gtest/gtest.h>

#include <string>

#include "core/errors.hpp"
#include "core/utf8.hpp"

namespace evolveai::storage::support {
namespace {

using namespace std::chrono_literals;

TEST(StorageSupport, DaysAreUtcAndRoundTrip) {
  const Time t = Time(std::chrono::sys_days(std::chrono::year(2024) / 2 / 29)) + 23h + 59min;
  EXPECT_EQ(format_day(utc_day(t)), "2024-02-29");
  EXPECT_EQ(parse_day("2024-02-29"), utc_day(t));
  EXPECT_THROW((void)parse_day("2024-02-30"), std::invalid_argument);
  EXPECT_THROW((void)parse_day("24-1-1"), std::invalid_argument);
}

TEST(StorageSupport, MicrosecondPrecisionRoundTrips) {
  const Time t = Time(std::chrono::microseconds(1'700'000'000'123'456LL));
  EXPECT_EQ(from_micros(to_micros(t)), t);
  EXPECT_EQ(store_precision(t + 999ns), t);
}

TEST(StorageSupport, StorableTextIsUtf8WithoutNul) {
  EXPECT_NO_THROW(require_storable_text("content", "hello, Привет, 🙂"));
  EXPECT_THROW(require_storable_text("content", "\xC0\xAF"), core::Error);
  EXPECT_THROW(require_storable_text("content", std::string("a\0b", 3)), core::Error);
}

TEST(StorageSupport, ChargeIdLengthIsEnforced) {
  NewPayment p{std::string(255, 'c'), std::nullopt, 1, "XTR", 250, "month", 30};
  EXPECT_NO_THROW(validate_new_payment(p));
  p.charge_id = std::string(256, 'c');
  EXPECT_THROW(validate_new_payment(p), core::Error);
  p.charge_id.clear();
  EXPECT_THROW(validate_new_payment(p), core::Error);
}

TEST(StorageSupport, Fts5QueryQuotesEveryTerm) {
  EXPECT_EQ(fts5_all_terms_query(normalize_search_text("hello world")), "\"hello\" \"world\"");
  EXPECT_EQ(fts5_all_terms_query(normalize_search_text("say \"hi\"")), "\"say\" \"\"\"hi\"\"\"");
  EXPECT_EQ(fts5_all_terms_query(normalize_search_text("NEAR( a OR b")), "\"NEAR(\" \"a\" \"OR\" \"b\"");
  EXPECT_EQ(fts5_all_terms_query(normalize_search_text("* & | !")), "");
  EXPECT_EQ(fts5_all_terms_query(normalize_search_text("")), "");
}

TEST(StorageSupport, NormalizeDropsControlsMarkersAndBadBytes) {
  EXPECT_EQ(normalize_search_text(std::string("a\0b\x01"
                                              "c\xFF"
                                              "d",
                                              7)),
            "a b c d");
  EXPECT_EQ(normalize_search_text("x\xEE\x80\x80y"), "x y");
  EXPECT_LE(normalize_search_text(std::string(5000, 'a')).size(), kMaxSearchBytes);
  // cut at a character boundary
  const auto cut = normalize_search_text(std::string(kMaxSearchBytes - 1, 'a') + "Ж");
  EXPECT_TRUE(core::is_valid_utf8(cut));
}

TEST(StorageSupport, RelevantWordsAreDistinctAndLowerCased) {
  EXPECT_EQ(relevant_words("Jazz, jazz and MORE jazz! a to Привет"),
            (std::vector<std::string>{"jazz", "more", "Привет"}));
  // Words that say nothing of the subject are left out: they would match nearly everything.
  EXPECT_EQ(relevant_words("Tell me what you think about the train, что это за поезд?"),
            (std::vector<std::string>{"think", "train", "поезд"}));
  EXPECT_TRUE(relevant_words("and the you что это").empty());
  EXPECT_EQ(fts5_any_word_query({"jazz", "more"}), "\"jazz\" OR \"more\"");
  EXPECT_EQ(websearch_any_word_query({"jazz", "more"}), "jazz or more");
}

TEST(StorageSupport, SnippetEscapesContentAndMarksMatches) {
  const std::string raw = std::string("<b>") + std::string(kMarkStart) + "jazz" + std::string(kMarkEnd) + " & 'x\"";
  EXPECT_EQ(render_snippet(raw), "&lt;b&gt;<mark>jazz</mark> &amp; &#39;x&quot;");
  // stray or unbalanced markers never produce unbalanced tags
  EXPECT_EQ(render_snippet(std::string(kMarkEnd) + "a" + std::string(kMarkStart) + "b"), "a<mark>b</mark>");
}

TEST(StorageSupport, FactsRoundTripThroughJson) {
  const std::vector<Fact> facts{{"k1", "likes \"jazz\"", false}, {"k2", "lives in Омск", true}};
  EXPECT_EQ(facts_from_json(facts_to_json(facts)), facts);
  EXPECT_TRUE(facts_from_json("not json").empty());
  EXPECT_TRUE(facts_from_json("{}").empty());
}

TEST(StorageSupport, PlainStringFactsReadWithStableUniqueIds) {
  const std::string legacy = R"(["likes jazz", "lives in Омск", "likes jazz", 7, {"text": 3}])";
  const auto first = facts_from_json(legacy);
  ASSERT_EQ(first.size(), 3U);
  EXPECT_EQ(first[0].text, "likes jazz");
  EXPECT_EQ(first[1].text, "lives in Омск");
  EXPECT_FALSE(first[0].pinned);
  EXPECT_NE(first[0].id, first[1].id);
  EXPECT_NE(first[0].id, first[2].id);
  EXPECT_EQ(facts_from_json(legacy), first);  // the same ids on every read
  EXPECT_NO_THROW(validate_facts(first));     // and they may be written back as they are
}

TEST(StorageSupport, ObjectFactsWithoutIdGetOneAndKeepTheirPin) {
  const auto facts = facts_from_json(R"([{"text": "a", "pinned": true}, {"id": "x", "text": "b"}])");
  ASSERT_EQ(facts.size(), 2U);
  EXPECT_FALSE(facts[0].id.empty());
  EXPECT_TRUE(facts[0].pinned);
  EXPECT_EQ(facts[1].id, "x");
  EXPECT_FALSE(facts[1].pinned);
}

TEST(StorageSupport, StringArrayJsonIsAJsonArrayOfStrings) {
  EXPECT_EQ(string_array_json({"a", "b\"c"}), R"(["a","b\"c"])");
}

}  // namespace
}  // namespace evolveai::storage::support
