#include "core/allow_list.hpp"
#include "dockmon/common/env.hpp"

#include <gtest/gtest.h>

using namespace dockmon;
using namespace dockmon::agent;

TEST(allow_list, everything_by_default_and_with_all) {
  for (const auto& a : {allow_list(), allow_list::parse("all")}) {
    EXPECT_TRUE(a.allows("stop"));
    EXPECT_TRUE(a.allows("remove"));
    EXPECT_TRUE(a.allows("list_containers"));
    EXPECT_FALSE(a.read_only());
  }
}

TEST(allow_list, read_only_leaves_out_every_change) {
  auto a = allow_list::parse("read_only");
  for (const char* change : {"start", "stop", "restart", "kill", "rename", "remove"}) EXPECT_FALSE(a.allows(change)) << change;
  for (const char* look : {"ping", "get_system_info", "list_containers", "inspect", "get_logs"}) EXPECT_TRUE(a.allows(look)) << look;
  EXPECT_TRUE(a.read_only());
}

TEST(allow_list, a_list_allows_what_it_names_and_ping) {
  auto a = allow_list::parse(" list_containers, restart ");
  EXPECT_TRUE(a.allows("restart"));
  EXPECT_TRUE(a.allows("list_containers"));
  EXPECT_TRUE(a.allows("ping"));
  EXPECT_FALSE(a.allows("stop"));
  EXPECT_FALSE(a.allows("get_logs"));
  EXPECT_FALSE(a.read_only());
}

TEST(allow_list, unknown_names_are_a_config_error) {
  try {
    allow_list::parse("list_containers,exec");
    FAIL() << "accepted exec";
  } catch (const config_error& e) {
    EXPECT_EQ(e.setting(), "AGENT_ALLOW");
    EXPECT_NE(std::string(e.what()).find("exec"), std::string::npos);
  }
  EXPECT_THROW(allow_list::parse("readonly"), config_error);
}

