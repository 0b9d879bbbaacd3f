// Thresholds, restarts and giving up, step by step.
#include "dockmon/health/check_state.hpp"

#include <gtest/gtest.h>

using namespace dockmon::health;
using namespace std::chrono_literals;

namespace {
restart_policy restarting(int max) {
  restart_policy p;
  p.failure_threshold = 3;
  p.success_threshold = 2;
  p.auto_restart = true;
  p.max_restarts = max;
  p.restart_delay = 10s;
  return p;
}
}  // namespace

TEST(check_state, unhealthy_only_after_the_failure_threshold_and_healthy_after_the_success_threshold) {
  check_state s(restarting(0));
  EXPECT_EQ(s.state_name(), "unknown");
  EXPECT_FALSE(s.observe(false).changed);
  EXPECT_FALSE(s.observe(false).changed);
  auto third = s.observe(false);
  EXPECT_TRUE(third.changed);
  EXPECT_EQ(s.state(), check_state::health::unhealthy);
  EXPECT_EQ(s.consecutive_failures(), 3);
  EXPECT_FALSE(s.observe(true).changed) << "one good probe of two";
  EXPECT_TRUE(s.observe(true).changed);
  EXPECT_EQ(s.state(), check_state::health::healthy);
  EXPECT_FALSE(s.observe(true).changed) << "a change is told once";
}

TEST(check_state, restarts_after_each_whole_threshold_with_a_doubling_delay_then_gives_up_once) {
  check_state s(restarting(2));
  s.observe(false);
  s.observe(false);
  auto first = s.observe(false);
  EXPECT_TRUE(first.restart);
  EXPECT_EQ(s.restart_delay(), 10s);
  s.restarted();
  EXPECT_FALSE(s.observe(false).restart) << "the next restart waits for a whole threshold again";
  EXPECT_FALSE(s.observe(false).restart);
  EXPECT_TRUE(s.observe(false).restart);
  EXPECT_EQ(s.restart_delay(), 20s);
  s.restarted();
  s.observe(false);
  s.observe(false);
  auto last = s.observe(false);
  EXPECT_FALSE(last.restart);
  EXPECT_TRUE(last.gave_up);
  EXPECT_TRUE(s.gave_up());
  for (int i = 0; i < 6; ++i) {
    auto more = s.observe(false);
    EXPECT_FALSE(more.restart || more.gave_up) << "given up is told once and never restarts again";
  }
  s.observe(true);
  s.observe(true);
  EXPECT_FALSE(s.gave_up()) << "healthy again: the count starts over";
  EXPECT_EQ(s.restarts(), 0);
}

TEST(check_state, an_on_demand_container_or_a_check_without_auto_restart_is_never_restarted) {
  auto p = restarting(3);
  p.on_demand = true;
  p.restart_on_exit = true;
  check_state on_demand(p);
  for (int i = 0; i < 9; ++i) EXPECT_FALSE(on_demand.observe(false).restart);
  EXPECT_FALSE(on_demand.exited().restart);
  check_state plain(restart_policy{});
  for (int i = 0; i < 9; ++i) EXPECT_FALSE(plain.observe(false).restart);
}

TEST(check_state, an_unexpected_exit_restarts_only_when_the_policy_says_so) {
  auto p = restarting(1);
  p.restart_on_exit = true;
  check_state s(p);
  EXPECT_TRUE(s.exited().restart);
  s.restarted();
  EXPECT_TRUE(s.exited().gave_up);
  check_state without(restarting(1));
  EXPECT_FALSE(without.exited().restart) << "healthy or unknown, without restart_on_exit: left alone";
  for (int i = 0; i < 3; ++i) without.observe(false);
  EXPECT_TRUE(without.exited().restart) << "unhealthy with auto_restart: a restart that did not come up is tried again";
}

TEST(check_state, the_delay_stops_growing_at_an_hour) {
  auto p = restarting(100);
  p.restart_delay = 600s;
  check_state s(p);
  for (int i = 0; i < 10; ++i) s.restarted();
  EXPECT_EQ(s.restart_delay(), std::chrono::seconds(3600));
}

TEST(check_state, policy_of_a_config_takes_its_fields_and_defaults_the_rest) {
  dockmon::protocol::health_check_config c;
  c.failure_threshold = 5;
  c.auto_restart = true;
  c.desired_state = "on_demand";
  auto p = policy_of(c);
  EXPECT_EQ(p.failure_threshold, 5);
  EXPECT_EQ(p.success_threshold, 1);
  EXPECT_TRUE(p.auto_restart);
  EXPECT_TRUE(p.on_demand);
  EXPECT_EQ(p.max_restarts, 3);
}
