// Per-agent bounds on series and events.
#include "telemetry/agent_limits.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

using dockmon::server::agent_limits;

namespace {

std::string id(int n) { return "id-" + std::to_string(n); }

}  // namespace

TEST(agent_limits, listed_containers_feed_series_and_unlisted_ones_only_up_to_the_allowance) {
  agent_limits limits;
  std::vector<std::string> listed;
  for (int i = 0; i < 100; ++i) listed.push_back(id(i));
  limits.listed(listed, 0);
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(limits.admit_series(id(i)));
  EXPECT_FALSE(limits.take_list_wanted());
  for (int i = 1000; i < 1000 + static_cast<int>(agent_limits::unlisted_allowance); ++i) EXPECT_TRUE(limits.admit_series(id(i)));
  EXPECT_FALSE(limits.admit_series(id(5000))) << "past the allowance";
  EXPECT_TRUE(limits.take_list_wanted()) << "which asks for a list";
  EXPECT_FALSE(limits.take_list_wanted()) << "once";
  EXPECT_EQ(limits.refused_series(), 1u);
  // Newcomers that went unlisted are gone at the next list, and coming back they count again.
  limits.listed(listed, 1);
  for (int i = 1000; i < 1000 + static_cast<int>(agent_limits::unlisted_allowance); ++i) EXPECT_TRUE(limits.admit_series(id(i)));
  EXPECT_FALSE(limits.admit_series(id(6000))) << "a kept-as-gone series does not open a way around the allowance";
  // Once listed, it is admitted.
  listed.push_back(id(5000));
  limits.listed(listed, 1);
  EXPECT_TRUE(limits.admit_series(id(5000)));
}

TEST(agent_limits, series_of_gone_containers_are_dropped_after_a_day_or_when_a_host_cycles_made_up_ids) {
  agent_limits limits;
  limits.listed({id(1), id(2)}, 0);
  ASSERT_TRUE(limits.admit_series(id(1)));
  ASSERT_TRUE(limits.admit_series(id(2)));
  limits.gone(id(1), 100);
  EXPECT_TRUE(limits.take_expired(100 + agent_limits::gone_retention_s).empty()) << "kept for a day";
  EXPECT_EQ(limits.take_expired(101 + agent_limits::gone_retention_s), std::vector<std::string>{id(1)});
  // A stopped container that runs again is live again.
  limits.gone(id(2), 200);
  EXPECT_TRUE(limits.admit_series(id(2)));
  EXPECT_TRUE(limits.take_expired(200 + 2 * agent_limits::gone_retention_s).empty());

  // A host that lists ever new ids holds at most twice its list (plus the allowance) at any time.
  agent_limits cycler;
  for (int round = 0; round < 50; ++round) {
    std::vector<std::string> ids;
    for (int i = 0; i < 10; ++i) ids.push_back(id(round * 10 + i));
    cycler.listed(ids, round);
    for (const auto& x : ids) cycler.admit_series(x);
    auto dropped = cycler.take_expired(round);
    EXPECT_LE(cycler.series(), 2 * 10 + 2 * agent_limits::unlisted_allowance) << "round " << round;
  }
}

TEST(agent_limits, events_are_limited_in_number_and_in_attribute_bytes) {
  agent_limits limits;
  int admitted = 0;
  for (int i = 0; i < 5000; ++i) admitted += limits.admit_event(10) ? 1 : 0;
  EXPECT_GE(admitted, 1000);
  EXPECT_LT(admitted, 1200) << "a burst of 1000, then 100 a second";
  agent_limits big;
  int big_admitted = 0;
  for (int i = 0; i < 1000; ++i) big_admitted += big.admit_event(16 * 1024) ? 1 : 0;
  EXPECT_LT(big_admitted, 200) << "16 KiB each: the byte budget ends it long before the count does";
  EXPECT_GT(big.refused_events(), 800u);
}
