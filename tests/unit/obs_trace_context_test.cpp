#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "obs/trace_context.hpp"

namespace evolveai::obs {
namespace {

// The examples of the W3C Trace Context recommendation.
constexpr const char* kSpecSampled = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
constexpr const char* kSpecNotSampled = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";

TEST(TraceContext, ParsesTheSpecificationsExampleAndFormatsItBack) {
  const auto context = TraceContext::parse(kSpecSampled);
  ASSERT_TRUE(context);
  EXPECT_EQ(context->trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(context->span_id_hex(), "00f067aa0ba902b7");
  EXPECT_TRUE(context->sampled);
  EXPECT_TRUE(context->valid());
  EXPECT_EQ(context->traceparent(), kSpecSampled);
}

TEST(TraceContext, ReadsTheSampledFlagFromBitZero) {
  const auto not_sampled = TraceContext::parse(kSpecNotSampled);
  ASSERT_TRUE(not_sampled);
  EXPECT_FALSE(not_sampled->sampled);
  EXPECT_EQ(not_sampled->traceparent(), kSpecNotSampled);
  // Unknown flag bits are ignored; only "sampled" is kept.
  const auto other_bits = TraceContext::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09");
  ASSERT_TRUE(other_bits);
  EXPECT_TRUE(other_bits->sampled);
}

TEST(TraceContext, RejectsMalformedHeaders) {
  const std::vector<std::string> malformed = {
      "",
      "00",
      // one character short and one too many for version 00
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
      // upper-case hex
      "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01",
      // all-zero trace id, all-zero span id
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
      // version ff is forbidden; versions must be hex
      "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      "0x-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      // wrong separators and non-hex characters
      "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",
      "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902bz-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-zz",
      // fields of the wrong length
      "00-4bf92f3577b34da6a3ce929d0e0e47360-0f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b-701",
      // whitespace around the value is not trimmed
      " 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      // a later version that is too short, or whose extra part is not after a dash
      "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
      "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
  };
  for (const auto& header : malformed) {
    EXPECT_FALSE(TraceContext::parse(header)) << "accepted: '" << header << "'";
  }
}

TEST(TraceContext, ReadsTheFirstFourFieldsOfALaterVersion) {
  const auto plain = TraceContext::parse("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
  const auto extended = TraceContext::parse("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future");
  ASSERT_TRUE(extended);
  EXPECT_EQ(extended->span_id_hex(), "00f067aa0ba902b7");
  EXPECT_TRUE(extended->sampled);
  // Propagated as the version this code knows.
  EXPECT_EQ(extended->traceparent(), kSpecSampled);
}

TEST(TraceContext, NewRootsAndChildrenHaveFreshValidIds) {
  std::set<std::string> trace_ids;
  std::set<std::string> span_ids;
  for (int i = 0; i < 100; ++i) {
    const auto root = TraceContext::new_root();
    EXPECT_TRUE(root.valid());
    EXPECT_TRUE(root.sampled);
    trace_ids.insert(root.trace_id_hex());
    const auto child = root.child();
    EXPECT_EQ(child.trace_id, root.trace_id);
    EXPECT_NE(child.span_id, root.span_id);
    span_ids.insert(child.span_id_hex());
    const auto reparsed = TraceContext::parse(child.traceparent());
    ASSERT_TRUE(reparsed);
    EXPECT_EQ(*reparsed, child);
  }
  EXPECT_EQ(trace_ids.size(), 100U);
  EXPECT_EQ(span_ids.size(), 100U);
}

TEST(TraceContext, DefaultIsInvalid) {
  EXPECT_FALSE(TraceContext{}.valid());
}

}  // namespace
}  // namespace evolveai::obs
