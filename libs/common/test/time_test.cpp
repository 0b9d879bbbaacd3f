#include "dockmon/common/time.hpp"

#include <gtest/gtest.h>

using namespace dockmon;

TEST(time, round_trips_iso8601) {
  auto t = parse_iso8601("2026-11-27T06:30:05Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(to_iso8601(*t), "2026-11-27T06:30:05Z");
  EXPECT_EQ(unix_seconds(*t), 1795761005);
}

TEST(time, parses_docker_nanoseconds_and_offsets) {
  auto t = parse_iso8601("2026-11-27T06:30:05.123456789Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(to_iso8601(*t, true), "2026-11-27T06:30:05.123Z");
  auto o = parse_iso8601("2026-11-27T08:30:05+02:00");
  ASSERT_TRUE(o);
  EXPECT_EQ(to_iso8601(*o), "2026-11-27T06:30:05Z");
}

TEST(time, refuses_malformed) {
  EXPECT_FALSE(parse_iso8601(""));
  EXPECT_FALSE(parse_iso8601("2026-13-01T00:00:00Z"));
  EXPECT_FALSE(parse_iso8601("2026-11-27 06:30"));
  EXPECT_FALSE(parse_iso8601("2026-11-27T06:30:05"));
}
