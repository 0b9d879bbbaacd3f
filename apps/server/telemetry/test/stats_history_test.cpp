// Tests of the in-memory stats history: tier choice, bucket arithmetic, ring bounds, series cap,
// rollups handed out for persistence and put back after a restart.
#include "telemetry/stats_history.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace dockmon::server {
namespace {

using namespace std::chrono_literals;

stats_point sample(std::int64_t t, double cpu = 0) {
  stats_point p;
  p.t = t;
  p.cpu_percent = cpu;
  return p;
}

std::vector<std::int64_t> times(const std::vector<stats_point>& points) {
  std::vector<std::int64_t> out;
  for (const auto& p : points) out.push_back(p.t);
  return out;
}

using tier_list = std::vector<stats_history::tier>;

// Small tiers so a test can fill and wrap every ring: raw 5 points, 10 s buckets x 3.
tier_list small_tiers() { return {{1s, 5s}, {10s, 30s}}; }

TEST(stats_history_test, default_tiers_are_raw_hour_minute_day_quarter_hour_month) {
  auto tiers = stats_history::default_tiers();
  ASSERT_EQ(tiers.size(), 3u);
  EXPECT_EQ(tiers[0].span, 1h);
  EXPECT_EQ(tiers[0].span / tiers[0].step, 1800);  // raw sized for the agent's 2 s interval
  EXPECT_EQ(tiers[1].step, 60s);
  EXPECT_EQ(tiers[1].span, 24h);
  EXPECT_EQ(tiers[2].step, 900s);
  EXPECT_EQ(tiers[2].span, 30 * 24h);
}

TEST(stats_history_test, range_picks_the_finest_tier_that_covers_the_window) {
  stats_history h;
  // One sample a minute for two days, at 17 s past the minute: raw points are never bucket-aligned.
  const std::int64_t start = 1'700'000'000 - 1'700'000'000 % 900 + 17;
  const std::int64_t end = start + 2 * 86400;
  std::int64_t last = 0;
  for (std::int64_t t = start; t <= end; t += 60) {
    h.add("ctr:h:c", sample(t, 1));
    last = t;
  }
  const std::int64_t now = last;

  auto hour = h.range("ctr:h:c", 1h, now);
  ASSERT_EQ(hour.size(), 61u);  // raw: every sample in [now - 3600, now]
  EXPECT_EQ(hour.front().t, now - 3600);
  EXPECT_EQ(hour.back().t, now);
  for (const auto& p : hour) EXPECT_EQ(p.t % 60, 17);

  for (auto window : {std::chrono::seconds(2h), std::chrono::seconds(24h)}) {
    auto points = h.range("ctr:h:c", window, now);
    ASSERT_FALSE(points.empty());
    for (std::size_t i = 0; i < points.size(); ++i) {
      EXPECT_EQ(points[i].t % 60, 0);
      EXPECT_GE(points[i].t, now - window.count());
      if (i > 0) {
        EXPECT_EQ(points[i].t - points[i - 1].t, 60);
      }
    }
    // Every minute bucket in the window, the one in progress included.
    EXPECT_EQ(points.back().t, now - now % 60);
    EXPECT_EQ(points.size(), static_cast<std::size_t>(window.count() / 60));
  }

  for (auto window : {std::chrono::seconds(25h), std::chrono::seconds(30 * 24h), std::chrono::seconds(365 * 24h)}) {
    auto points = h.range("ctr:h:c", window, now);
    ASSERT_FALSE(points.empty());
    for (std::size_t i = 1; i < points.size(); ++i) EXPECT_EQ(points[i].t - points[i - 1].t, 900);
    EXPECT_GE(points.front().t, now - window.count());
    EXPECT_LT(points.front().t - 900, std::max(now - window.count(), start - 17));  // nothing left out
    EXPECT_EQ(points.back().t, now - now % 900);
  }
  EXPECT_EQ(h.range("ctr:h:c", 30 * 24h, now).size(), static_cast<std::size_t>(2 * 86400 / 900 + 1));
  EXPECT_TRUE(h.range("ctr:h:other", 1h, now).empty());
}

TEST(stats_history_test, a_bucket_averages_usage_keeps_last_counter_and_max_pids) {
  stats_history h(small_tiers());
  auto point = [](std::int64_t t, double cpu, double mem, double limit, double rx, double pids) {
    stats_point p;
    p.t = t;
    p.cpu_percent = cpu;
    p.memory_usage = mem;
    p.memory_limit = limit;
    p.memory_percent = mem / limit * 100;
    p.network_rx = rx;
    p.network_tx = rx * 2;
    p.disk_read = rx * 3;
    p.disk_write = rx * 4;
    p.pids = pids;
    return p;
  };
  h.add("k", point(100, 10, 100, 1000, 5, 3));
  h.add("k", point(103, 20, 200, 1000, 7, 8));
  h.add("k", point(109, 60, 600, 1000, 9, 2));
  EXPECT_TRUE(h.take_completed_rollups().empty());  // t=109 is still inside [100, 110)
  h.add("k", point(110, 99, 999, 1000, 11, 1));

  auto rollups = h.take_completed_rollups();
  ASSERT_EQ(rollups.size(), 1u);
  EXPECT_EQ(rollups[0].key, "k");
  EXPECT_EQ(rollups[0].step, 10);
  const stats_point& b = rollups[0].point;
  EXPECT_EQ(b.t, 100);
  EXPECT_DOUBLE_EQ(b.cpu_percent, 30);
  EXPECT_DOUBLE_EQ(b.memory_usage, 300);
  EXPECT_DOUBLE_EQ(b.memory_limit, 1000);
  EXPECT_DOUBLE_EQ(b.memory_percent, 30);
  EXPECT_DOUBLE_EQ(b.network_rx, 9);
  EXPECT_DOUBLE_EQ(b.network_tx, 18);
  EXPECT_DOUBLE_EQ(b.disk_read, 27);
  EXPECT_DOUBLE_EQ(b.disk_write, 36);
  EXPECT_DOUBLE_EQ(b.pids, 8);

  // The bucket in progress is the last point of a rolled-up range, computed the same way.
  auto points = h.range("k", 30s, 110);
  ASSERT_EQ(points.size(), 2u);
  EXPECT_DOUBLE_EQ(points[0].cpu_percent, 30);
  EXPECT_EQ(points[1].t, 110);
  EXPECT_DOUBLE_EQ(points[1].cpu_percent, 99);
  EXPECT_DOUBLE_EQ(points[1].pids, 1);
}

TEST(stats_history_test, a_gap_completes_the_bucket_without_inventing_empty_ones) {
  stats_history h(small_tiers());
  h.add("k", sample(100, 10));
  h.add("k", sample(135, 50));
  auto rollups = h.take_completed_rollups();
  ASSERT_EQ(rollups.size(), 1u);
  EXPECT_EQ(rollups[0].point.t, 100);
  EXPECT_EQ(times(h.range("k", 30s, 135)), (std::vector<std::int64_t>{130}));
  EXPECT_EQ(times(h.range("k", 30s, 100)), (std::vector<std::int64_t>{100, 130}));
}

TEST(stats_history_test, rings_wrap_and_keep_only_their_capacity) {
  stats_history h(small_tiers());
  for (std::int64_t t = 0; t < 60; ++t) h.add("k", sample(t, static_cast<double>(t)));
  // A window reaching far back still gets only what the rings hold: raw keeps 5 samples...
  EXPECT_EQ(times(h.range("k", 5s, 0)), (std::vector<std::int64_t>{55, 56, 57, 58, 59}));
  // ...and the 10 s tier its 3 latest completed buckets, then the one in progress.
  auto buckets = h.range("k", 30s, 0);
  EXPECT_EQ(times(buckets), (std::vector<std::int64_t>{20, 30, 40, 50}));
  EXPECT_DOUBLE_EQ(buckets[0].cpu_percent, 24.5);  // mean of 20..29, after the ring wrapped twice
  ASSERT_TRUE(h.latest("k"));
  EXPECT_EQ(h.latest("k")->t, 59);
}

TEST(stats_history_test, packed_points_give_back_counters_through_wraps_resets_and_huge_jumps) {
  stats_history h(small_tiers());
  std::vector<stats_point> sent;
  double rx = 1e12;  // a busy host's byte counter: far past a float's exact integers
  for (std::int64_t t = 0; t < 12; ++t) {
    if (t == 6) rx = 0;           // the container restarted: its counters start again
    else if (t == 8) rx += 3e11;  // a jump far past 16 MiB: rounded, and the rounding carried
    else rx += 1500 * static_cast<double>(t + 1);
    stats_point p = sample(1'800'000'000 + t, 12.5);
    p.network_rx = rx;
    p.network_tx = 7e9 + static_cast<double>(t);
    p.disk_read = 5e10;
    p.disk_write = 123456789.0 * static_cast<double>(t);
    p.memory_usage = 734003200;  // 700 MiB
    p.memory_limit = 8589934592;
    p.pids = 17;
    h.add("k", p);
    sent.push_back(p);
  }
  const auto kept = h.range("k", 5s, 1'800'000'011);
  ASSERT_EQ(kept.size(), 5u);
  for (std::size_t i = 0; i < kept.size(); ++i) {
    const auto& want = sent[sent.size() - 5 + i];
    EXPECT_EQ(kept[i].t, want.t);
    EXPECT_NEAR(kept[i].network_rx, want.network_rx, 1e-6 * 3e11) << i;
    EXPECT_EQ(kept[i].network_tx, want.network_tx) << "small steps stay exact";
    EXPECT_EQ(kept[i].disk_read, want.disk_read);
    EXPECT_NEAR(kept[i].disk_write, want.disk_write, 64);
    EXPECT_EQ(kept[i].memory_usage, want.memory_usage);
    EXPECT_NEAR(kept[i].memory_limit, want.memory_limit, 1e-7 * want.memory_limit);
    EXPECT_EQ(kept[i].pids, 17);
    EXPECT_EQ(kept[i].cpu_percent, 12.5);
  }
  // Rates, what charts draw from the counters, after the jump: exact for ordinary steps.
  EXPECT_EQ(kept[4].network_rx - kept[3].network_rx, sent[11].network_rx - sent[10].network_rx);
  EXPECT_EQ(h.latest("k")->network_rx, sent.back().network_rx) << "the latest sample is kept as it came";
}

TEST(stats_history_test, out_of_order_points_are_ignored) {
  stats_history h(small_tiers());
  h.add("k", sample(100, 10));
  h.add("k", sample(105, 20));
  h.add("k", sample(101, 90));  // older than the last: a resend after a reconnect
  ASSERT_TRUE(h.latest("k"));
  EXPECT_EQ(h.latest("k")->t, 105);
  EXPECT_DOUBLE_EQ(h.latest("k")->cpu_percent, 20);
  EXPECT_EQ(times(h.range("k", 5s, 105)), (std::vector<std::int64_t>{100, 105}));
  h.add("k", sample(110, 0));
  auto rollups = h.take_completed_rollups();
  ASSERT_EQ(rollups.size(), 1u);
  EXPECT_DOUBLE_EQ(rollups[0].point.cpu_percent, 15);  // the ignored 90 is not in the mean
}

TEST(stats_history_test, new_series_past_the_cap_are_dropped_and_counted) {
  stats_history h(small_tiers(), 2);
  h.add("a", sample(1));
  h.add("b", sample(1));
  h.add("c", sample(1));
  h.add("c", sample(2));
  EXPECT_EQ(h.series_count(), 2u);
  EXPECT_EQ(h.dropped_series(), 2u);
  EXPECT_FALSE(h.latest("c"));
  h.add("a", sample(2));  // existing series still take points
  EXPECT_EQ(h.latest("a")->t, 2);
  h.remove("a");
  h.add("c", sample(3));  // room again
  EXPECT_EQ(h.series_count(), 2u);
  ASSERT_TRUE(h.latest("c"));
  EXPECT_EQ(h.latest("c")->t, 3);
}

TEST(stats_history_test, completed_rollups_are_handed_out_once_for_every_tier) {
  stats_history h(tier_list{{1s, 10s}, {10s, 100s}, {30s, 300s}});
  for (std::int64_t t = 0; t <= 60; t += 5) h.add("k", sample(t, 1));
  auto first = h.take_completed_rollups();
  std::vector<std::pair<std::int64_t, std::int64_t>> got;
  for (const auto& r : first) {
    EXPECT_EQ(r.key, "k");
    got.emplace_back(r.step, r.point.t);
  }
  // t=60 completes the 10 s bucket at 50 and the 30 s bucket at 30; none of them is raw.
  std::vector<std::pair<std::int64_t, std::int64_t>> want{{10, 0},  {10, 10}, {10, 20}, {30, 0},
                                                          {10, 30}, {10, 40}, {10, 50}, {30, 30}};
  EXPECT_EQ(got, want);
  EXPECT_TRUE(h.take_completed_rollups().empty());
  h.add("k", sample(70, 1));
  auto second = h.take_completed_rollups();
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].point.t, 60);
}

TEST(stats_history_test, restored_rollups_come_back_in_ranges_and_later_samples_continue_them) {
  stats_history before(small_tiers());
  for (std::int64_t t = 0; t < 35; ++t) before.add("k", sample(t, static_cast<double>(t)));
  auto saved = before.take_completed_rollups();
  ASSERT_EQ(saved.size(), 3u);
  std::swap(saved[0], saved[2]);  // the store may answer in any order
  saved.push_back({"k", 7, sample(5, 1)});  // a step no tier has: skipped

  stats_history after(small_tiers());
  after.restore(saved);
  EXPECT_EQ(after.series_count(), 1u);
  EXPECT_FALSE(after.latest("k"));  // history, not a current value
  auto points = after.range("k", 30s, 0);
  EXPECT_EQ(times(points), (std::vector<std::int64_t>{0, 10, 20}));
  EXPECT_DOUBLE_EQ(points[1].cpu_percent, 14.5);
  EXPECT_TRUE(after.take_completed_rollups().empty());  // restoring is not completing

  after.add("k", sample(25, 1000));  // inside a bucket already completed: ignored
  EXPECT_FALSE(after.latest("k"));
  after.add("k", sample(36, 1));
  after.add("k", sample(41, 1));
  EXPECT_EQ(times(after.range("k", 30s, 0)), (std::vector<std::int64_t>{10, 20, 30, 40}));
  auto rollups = after.take_completed_rollups();
  ASSERT_EQ(rollups.size(), 1u);
  EXPECT_EQ(rollups[0].point.t, 30);
}

TEST(stats_history_test, remove_forgets_a_series) {
  stats_history h(small_tiers());
  h.add("ctr:h:a", sample(1));
  h.add("ctr:h:b", sample(1));
  h.remove("ctr:h:a");
  h.remove("ctr:h:none");
  EXPECT_EQ(h.series_count(), 1u);
  EXPECT_FALSE(h.latest("ctr:h:a"));
  EXPECT_TRUE(h.range("ctr:h:a", 5s, 1).empty());
  EXPECT_TRUE(h.latest("ctr:h:b"));
  h.add("ctr:h:a", sample(0));  // starts afresh: its old last time no longer applies
  EXPECT_EQ(h.latest("ctr:h:a")->t, 0);
}

TEST(stats_history_test, bad_tiers_are_refused) {
  EXPECT_THROW(stats_history h(tier_list{}), std::invalid_argument);
  EXPECT_THROW(stats_history h(tier_list{{0s, 10s}}), std::invalid_argument);
  EXPECT_THROW(stats_history h(tier_list{{10s, 5s}}), std::invalid_argument);
  EXPECT_THROW(stats_history h(tier_list{{10s, 100s}, {10s, 1000s}}), std::invalid_argument);
}

}  // namespace
}  // namespace dockmon::server
