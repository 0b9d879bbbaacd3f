#include "dockmon/common/backoff.hpp"

#include <gtest/gtest.h>

using namespace dockmon;
using namespace std::chrono_literals;

TEST(backoff, grows_and_stays_within_bounds) {
  backoff b(1000ms, 60000ms, 42);
  backoff::duration previous_cap = 0ms;
  for (int i = 0; i < 20; ++i) {
    auto d = b.next();
    EXPECT_GE(d, 1000ms);
    EXPECT_LE(d, 60000ms);
    auto cap = std::min<backoff::duration>(1000ms * (1LL << std::min(i, 20)), 60000ms);
    EXPECT_LE(d, cap);
    EXPECT_GE(d, cap * 3 / 4);
    EXPECT_GE(cap, previous_cap);
    previous_cap = cap;
  }
}

TEST(backoff, reset_starts_over) {
  backoff b(100ms, 10000ms, 1);
  for (int i = 0; i < 10; ++i) b.next();
  b.reset();
  EXPECT_LE(b.next(), 100ms);
}

TEST(backoff, after_a_drop_a_fleet_comes_back_spread_over_seconds) {
  backoff b(1000ms, 60000ms, 7);
  int early = 0, late = 0;
  for (int i = 0; i < 1000; ++i) {
    auto d = b.after_drop();
    ASSERT_GE(d, 1000ms);
    ASSERT_LE(d, 10000ms);
    early += d < 2000ms;
    late += d > 9000ms;
  }
  EXPECT_GT(early, 50) << "not all late";
  EXPECT_GT(late, 50) << "not all early: a restarted server is not met by the whole fleet in one second";
  b.after_drop();
  EXPECT_GE(b.next(), 1500ms) << "a failure after it grows from there";
  backoff tight(200ms, 2000ms, 7);
  for (int i = 0; i < 100; ++i) EXPECT_LE(tight.after_drop(), 2000ms) << "never beyond the maximum";
}
