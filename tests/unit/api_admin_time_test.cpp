#include <gtest/gtest.h>

#include "api/admin_routes.hpp"
#include "core/time_format.hpp"

namespace evolveai::api {
namespace {

std::string round_trip(std::string_view text) {
  const auto parsed = parse_utc_time(text);
  return parsed ? core::format_rfc3339(*parsed) : "invalid";
}

TEST(AdminTimeParameter, AcceptsDatesAndUtcTimes) {
  EXPECT_EQ(round_trip("2026-01-10"),
            core::format_rfc3339(storage::Time(std::chrono::sys_days(std::chrono::year(2026) / 1 / 10))));
  const auto at = parse_utc_time("2026-01-10T12:34:56.5Z");
  ASSERT_TRUE(at);
  EXPECT_EQ(*at, storage::Time(std::chrono::sys_days(std::chrono::year(2026) / 1 / 10)) + std::chrono::hours(12) +
                     std::chrono::minutes(34) + std::chrono::seconds(56) + std::chrono::milliseconds(500));
  EXPECT_TRUE(parse_utc_time("2026-01-10T00:00:00Z"));
}

TEST(AdminTimeParameter, RefusesEverythingElse) {
  for (const char* text : {"", "2026-1-10", "2026-02-30", "2026-01-10T25:00:00Z", "2026-01-10T10:00:00",
                           "2026-01-10T10:00:00+02:00", "2026-01-10T10:00:00.Z", "yesterday", "2026-01-10x"}) {
    EXPECT_FALSE(parse_utc_time(text)) << text;
  }
}

}  // namespace
}  // namespace evolveai::api
