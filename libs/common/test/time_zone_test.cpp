#include "dockmon/common/time_zone.hpp"

#include "dockmon/common/time.hpp"

#include <gtest/gtest.h>

using namespace dockmon;
using namespace std::chrono_literals;

namespace {

sys_clock::time_point at(const char* iso) { return *parse_iso8601(iso); }

}  // namespace

TEST(time_zone_test, offsets_follow_daylight_saving_from_the_system_database) {
  auto berlin = time_zone::load("Europe/Berlin");
  ASSERT_TRUE(berlin);
  EXPECT_EQ(berlin->name(), "Europe/Berlin");
  EXPECT_EQ(berlin->offset_at(at("2026-01-15T12:00:00Z")), 1h);
  EXPECT_EQ(berlin->offset_at(at("2026-07-01T12:00:00Z")), 2h);
  // Summer time began on 2026-03-29 at 01:00 UTC.
  EXPECT_EQ(berlin->offset_at(at("2026-03-29T00:59:59Z")), 1h);
  EXPECT_EQ(berlin->offset_at(at("2026-03-29T01:00:00Z")), 2h);
  auto new_york = time_zone::load("America/New_York");
  ASSERT_TRUE(new_york);
  EXPECT_EQ(new_york->offset_at(at("2026-12-02T12:00:00Z")), -5h);
  EXPECT_EQ(new_york->offset_at(at("2026-06-02T12:00:00Z")), -4h);
  auto kolkata = time_zone::load("Asia/Kolkata");
  ASSERT_TRUE(kolkata);
  EXPECT_EQ(kolkata->offset_at(at("2026-06-02T12:00:00Z")), 5h + 30min);
  auto utc = time_zone::load("UTC");
  ASSERT_TRUE(utc);
  EXPECT_EQ(utc->offset_at(at("2026-06-02T12:00:00Z")), 0s);
}

TEST(time_zone_test, a_name_that_is_no_zone_or_leaves_the_database_is_refused) {
  EXPECT_FALSE(time_zone::load("Mars/Olympus_Mons"));
  EXPECT_FALSE(time_zone::load("Europe"));  // a folder
  EXPECT_FALSE(time_zone::load("../../etc/passwd"));
  EXPECT_FALSE(time_zone::load("/etc/localtime"));
  EXPECT_FALSE(time_zone::load(""));
  EXPECT_FALSE(time_zone::parse("x", "TZif2 and then nothing"));
  EXPECT_FALSE(time_zone::parse("x", "not a zone file at all, long enough to have a header of forty-four bytes"));
}
