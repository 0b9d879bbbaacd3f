// The noise controls on a clock the test moves: each test names one control and fails without it.
#include "alerts/alert_state.hpp"

#include <gtest/gtest.h>

using namespace dockmon::server::alerts;
using namespace std::chrono_literals;

namespace {

const time_point t0 = time_point(std::chrono::hours(24 * 20000));
const threshold cpu90{90, 80};

noise_controls controls(std::chrono::seconds fire_after = 0s) {
  noise_controls c;
  c.fire_after = fire_after;
  return c;
}

}  // namespace

TEST(alert_state, a_metric_fires_only_after_its_duration_above_the_threshold) {
  alert_state a(controls(30s));
  EXPECT_EQ(a.sample(95, cpu90, t0).what, change::none);
  EXPECT_EQ(a.sample(96, cpu90, t0 + 29s).what, change::none) << "29 s is not 30";
  auto fired = a.sample(97, cpu90, t0 + 30s);
  EXPECT_EQ(fired.what, change::fired);
  EXPECT_TRUE(fired.notify);
  EXPECT_TRUE(a.firing());
  EXPECT_EQ(*a.fired_at(), t0 + 30s);
}

TEST(alert_state, a_dip_below_the_threshold_restarts_the_duration) {
  alert_state a(controls(30s));
  a.sample(95, cpu90, t0);
  a.sample(50, cpu90, t0 + 20s);
  EXPECT_EQ(a.sample(95, cpu90, t0 + 35s).what, change::none) << "the breach began again at 35 s";
  EXPECT_EQ(a.sample(95, cpu90, t0 + 65s).what, change::fired);
}

TEST(alert_state, hysteresis_keeps_a_wobbling_value_from_resolving_and_firing_again) {
  alert_state a(controls());
  ASSERT_EQ(a.sample(91, cpu90, t0).what, change::fired);
  for (int i = 1; i < 20; ++i) {
    const double wobble = i % 2 == 0 ? 91 : 85;  // around 90, never below the clear line of 80
    EXPECT_EQ(a.sample(wobble, cpu90, t0 + std::chrono::seconds(i)).what, change::none) << i;
  }
  EXPECT_TRUE(a.firing());
  auto resolved = a.sample(79, cpu90, t0 + 30s);
  EXPECT_EQ(resolved.what, change::resolved);
  EXPECT_TRUE(resolved.notify);
}

TEST(alert_state, the_clear_delay_must_pass_without_the_condition_returning) {
  auto c = controls();
  c.clear_after = 60s;
  alert_state a(c);
  a.sample(95, cpu90, t0);
  EXPECT_EQ(a.sample(10, cpu90, t0 + 10s).what, change::none);
  EXPECT_EQ(a.tick(t0 + 69s).what, change::none);
  a.sample(95, cpu90, t0 + 69s);  // back above: the clear starts over
  a.sample(10, cpu90, t0 + 70s);
  EXPECT_EQ(a.tick(t0 + 129s).what, change::none);
  EXPECT_EQ(a.tick(t0 + 130s).what, change::resolved);
}

TEST(alert_state, events_fire_after_enough_occurrences_within_the_window) {
  auto c = controls();
  c.occurrences = 3;
  c.window = 60s;
  alert_state a(c);
  EXPECT_EQ(a.occurrence(t0).what, change::none);
  EXPECT_EQ(a.occurrence(t0 + 10s).what, change::none);
  EXPECT_EQ(a.occurrence(t0 + 80s).what, change::none) << "the first two fell out of the window";
  EXPECT_EQ(a.occurrence(t0 + 85s).what, change::none);
  EXPECT_EQ(a.occurrence(t0 + 90s).what, change::fired);
}

TEST(alert_state, a_crash_loop_is_one_alert_until_the_restarts_stop) {
  auto c = controls();
  c.occurrences = 3;
  c.window = 60s;
  c.clear_after = 30s;
  alert_state a(c);
  int fired = 0, notified = 0;
  for (int i = 0; i < 120; ++i) {  // a restart every second for two minutes
    auto s = a.occurrence(t0 + std::chrono::seconds(i));
    fired += s.what == change::fired ? 1 : 0;
    notified += s.notify ? 1 : 0;
    a.tick(t0 + std::chrono::seconds(i));
  }
  EXPECT_EQ(fired, 1);
  EXPECT_EQ(notified, 1);
  EXPECT_TRUE(a.firing());
  EXPECT_EQ(a.tick(t0 + 150s).what, change::none) << "the window (60 s) still holds restarts until 179 s";
  a.tick(t0 + 181s);  // the window emptied: the clear delay starts
  EXPECT_EQ(a.tick(t0 + 210s).what, change::none);
  EXPECT_EQ(a.tick(t0 + 211s).what, change::resolved);
}

TEST(alert_state, the_cooldown_spaces_out_notifications_of_a_flapping_alert) {
  auto c = controls();
  c.cooldown = 300s;
  alert_state a(c);
  int notified = 0, fired = 0;
  for (int minute = 0; minute < 20; ++minute) {  // stops and starts again every minute
    auto down = a.occurrence(t0 + std::chrono::minutes(minute));
    fired += down.what == change::fired ? 1 : 0;
    notified += down.notify ? 1 : 0;
    auto up = a.condition_over(t0 + std::chrono::minutes(minute) + 30s);
    EXPECT_EQ(up.what, change::resolved);
    notified += up.notify ? 1 : 0;
  }
  EXPECT_EQ(fired, 20) << "each stop is an alert of its own";
  // Fired at 0, 5, 10, 15 minutes (and each of those resolved with a message): 8, not 40.
  EXPECT_EQ(notified, 8);
}

TEST(alert_state, no_all_clear_for_an_alert_nobody_heard_of) {
  auto c = controls();
  c.cooldown = 300s;
  alert_state a(c);
  a.occurrence(t0);
  a.condition_over(t0 + 1s);
  auto second = a.occurrence(t0 + 2s);
  EXPECT_EQ(second.what, change::fired);
  EXPECT_FALSE(second.notify) << "within the cooldown";
  EXPECT_FALSE(a.condition_over(t0 + 3s).notify) << "its end is not news either";
}

TEST(alert_state, resolve_messages_can_be_turned_off) {
  auto c = controls();
  c.notify_on_resolve = false;
  alert_state a(c);
  a.occurrence(t0);
  auto over = a.condition_over(t0 + 1s);
  EXPECT_EQ(over.what, change::resolved);
  EXPECT_FALSE(over.notify);
}

TEST(alert_state, a_snooze_holds_notifications_but_not_the_alert) {
  alert_state a(controls());
  a.snooze_until(t0 + 1h);
  auto fired = a.occurrence(t0);
  EXPECT_EQ(fired.what, change::fired);
  EXPECT_FALSE(fired.notify);
  EXPECT_TRUE(a.firing());
  EXPECT_FALSE(a.condition_over(t0 + 10min).notify);
  auto after = a.occurrence(t0 + 2h);
  EXPECT_EQ(after.what, change::fired);
  EXPECT_TRUE(after.notify) << "the snooze is over";
}

TEST(alert_state, a_one_shot_event_fires_each_time_and_never_stays_firing) {
  auto c = controls();
  c.one_shot = true;
  c.cooldown = 0s;
  alert_state a(c);
  EXPECT_EQ(a.occurrence(t0).what, change::fired);
  EXPECT_FALSE(a.firing());
  EXPECT_EQ(a.occurrence(t0 + 1s).what, change::fired);
  EXPECT_EQ(a.condition_over(t0 + 2s).what, change::none) << "nothing to resolve";
}
