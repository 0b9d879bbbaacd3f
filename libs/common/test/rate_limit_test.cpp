// Token buckets and the bounded table of them, on a clock the test moves.
#include "dockmon/common/rate_limit.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using namespace std::chrono_literals;
using dockmon::keyed_buckets;
using dockmon::token_bucket;

TEST(keyed_buckets, a_flood_of_new_keys_never_resets_a_limited_one) {
  auto t = token_bucket::clock::now();
  keyed_buckets limits(1.0 / 60, 3, 100);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limits.try_take("admin", t));
  EXPECT_FALSE(limits.try_take("admin", t)) << "admin is limited";
  // Ten times the table's size of made-up names, over a few seconds so that sweeps run.
  for (int i = 0; i < 1000; ++i) limits.try_take("made-up-" + std::to_string(i), t + std::chrono::milliseconds(i * 5));
  EXPECT_LE(limits.size(), 100u);
  EXPECT_FALSE(limits.try_take("admin", t + 5s)) << "the flood did not give admin a fresh bucket";
  EXPECT_TRUE(limits.try_take("admin", t + 61s)) << "but the rate still refills it";
}

TEST(keyed_buckets, refilled_buckets_make_room_and_new_keys_share_an_overflow_bucket_meanwhile) {
  auto t = token_bucket::clock::now();
  keyed_buckets limits(1, 2, 2);
  EXPECT_TRUE(limits.try_take("a", t));
  EXPECT_TRUE(limits.try_take("b", t));
  // Full of buckets that are not refilled: newcomers share the overflow bucket (burst 2).
  EXPECT_TRUE(limits.try_take("c", t));
  EXPECT_TRUE(limits.try_take("d", t));
  EXPECT_FALSE(limits.try_take("e", t));
  EXPECT_EQ(limits.size(), 2u);
  // Later a and b have refilled: the next newcomer's sweep drops them and gets a bucket of its own.
  EXPECT_TRUE(limits.try_take("f", t + 10s));
  EXPECT_TRUE(limits.try_take("f", t + 10s));
  EXPECT_FALSE(limits.try_take("f", t + 10s));
  EXPECT_TRUE(limits.try_take("g", t + 10s)) << "f's use did not drain g";
}

TEST(token_bucket, has_token_looks_without_taking) {
  token_bucket b(1, 1);
  auto t = token_bucket::clock::now();
  EXPECT_TRUE(b.has_token(t));
  EXPECT_TRUE(b.has_token(t));
  EXPECT_TRUE(b.try_take(t));
  EXPECT_FALSE(b.has_token(t));
  EXPECT_TRUE(b.has_token(t + 1s));
}

TEST(token_bucket, allows_a_burst_then_the_rate) {
  auto t0 = token_bucket::clock::now();
  token_bucket bucket(5, 20);
  int taken = 0;
  for (int i = 0; i < 30; ++i) taken += bucket.try_take(t0) ? 1 : 0;
  EXPECT_EQ(taken, 20);
  EXPECT_FALSE(bucket.try_take(t0 + std::chrono::milliseconds(100)));
  EXPECT_TRUE(bucket.try_take(t0 + std::chrono::milliseconds(300)));  // 5 a second: one more after 200 ms
}

}  // namespace
