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
