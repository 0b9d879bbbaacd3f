#include "dockmon/common/env.hpp"

#include <gtest/gtest.h>

using namespace dockmon;
using namespace std::chrono_literals;

TEST(parse_duration, accepts_units_and_plain_seconds) {
  EXPECT_EQ(parse_duration("X", "250ms"), 250ms);
  EXPECT_EQ(parse_duration("X", "30s"), 30s);
  EXPECT_EQ(parse_duration("X", "5m"), 5min);
  EXPECT_EQ(parse_duration("X", "1h"), 1h);
  EXPECT_EQ(parse_duration("X", "30d"), 720h);
  EXPECT_EQ(parse_duration("X", "7"), 7s);
}

TEST(parse_duration, refuses_garbage_and_names_the_setting) {
  for (const char* bad : {"", "s", "-1s", "1.5s", "10 s", "3w", "abc", "99999999999h"}) {
    try {
      parse_duration("RECONNECT_MAX", bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const config_error& e) {
      EXPECT_EQ(e.setting(), "RECONNECT_MAX");
      EXPECT_NE(std::string(e.what()).find("RECONNECT_MAX"), std::string::npos);
    }
  }
}

TEST(parse_bool, accepts_common_spellings_only) {
  EXPECT_TRUE(parse_bool("X", "TRUE"));
  EXPECT_TRUE(parse_bool("X", "1"));
  EXPECT_FALSE(parse_bool("X", "off"));
  EXPECT_THROW(parse_bool("X", "maybe"), config_error);
}

TEST(parse_host_port, splits_and_validates) {
  auto hp = parse_host_port("L", "127.0.0.1:8080");
  EXPECT_EQ(hp.host, "127.0.0.1");
  EXPECT_EQ(hp.port, 8080);
  EXPECT_EQ(parse_host_port("L", "[::1]:0").host, "::1");
  EXPECT_THROW(parse_host_port("L", "localhost"), config_error);
  EXPECT_THROW(parse_host_port("L", "h:70000"), config_error);
  EXPECT_THROW(parse_host_port("L", "h:80x"), config_error);
}
