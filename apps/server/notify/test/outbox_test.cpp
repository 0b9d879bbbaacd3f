// The outbox's retry policy, on the clock the test gives.
#include "notify/outbox.hpp"

#include <gtest/gtest.h>

using namespace dockmon;
using namespace dockmon::server::notify;
using namespace std::chrono_literals;

namespace {

store::notification_record after_attempts(int attempts) {
  store::notification_record n;
  n.id = 1;
  n.attempts = attempts;
  return n;
}

send_result retry(std::string error = "HTTP 500") { return {send_result::outcome::retry, std::move(error), {}}; }

}  // namespace

TEST(outbox_policy, a_sent_message_is_done_with_its_time) {
  auto n = after_attempts(1);
  settle(n, {send_result::outcome::sent, {}, {}}, 1'764'676'800'000, {});
  EXPECT_EQ(n.state, "sent");
  EXPECT_EQ(n.sent_at, "2025-12-02T12:00:00Z");
  EXPECT_EQ(n.last_error, "");
}

TEST(outbox_policy, failures_are_retried_three_times_later_each_time_up_to_a_bound) {
  const retry_policy policy;
  const std::int64_t now = 1'000'000;
  std::vector<std::int64_t> delays;
  for (int attempt = 1; attempt < policy.max_attempts; ++attempt) {
    auto n = after_attempts(attempt);
    settle(n, retry(), now, policy);
    ASSERT_EQ(n.state, "pending") << attempt;
    EXPECT_EQ(n.last_error, "HTTP 500");
    delays.push_back((n.next_attempt_ms - now) / 1000);
  }
  EXPECT_EQ(delays, (std::vector<std::int64_t>{5, 15, 45, 135, 405, 1215, 1800}));
  auto last = after_attempts(policy.max_attempts);
  settle(last, retry(), now, policy);
  EXPECT_EQ(last.state, "failed") << "given up after the bound";
}

TEST(outbox_policy, a_refusal_is_given_up_at_once_and_retry_after_is_obeyed_within_bounds) {
  auto refused = after_attempts(1);
  settle(refused, {send_result::outcome::give_up, "HTTP 404", {}}, 0, {});
  EXPECT_EQ(refused.state, "failed");
  EXPECT_EQ(refused.last_error, "HTTP 404");

  auto busy = after_attempts(3);
  settle(busy, {send_result::outcome::retry, "HTTP 429", 2s}, 0, {});
  EXPECT_EQ(busy.state, "pending");
  EXPECT_EQ(busy.next_attempt_ms, 2000) << "the service's word, not the 45 s backoff";
  auto greedy = after_attempts(1);
  settle(greedy, {send_result::outcome::retry, "HTTP 429", 24h}, 0, {});
  EXPECT_EQ(greedy.next_attempt_ms, 3'600'000) << "at most an hour";
  auto zero = after_attempts(1);
  settle(zero, {send_result::outcome::retry, "HTTP 503", 0s}, 0, {});
  EXPECT_EQ(zero.next_attempt_ms, 1000) << "at least a second";
}

TEST(outbox_policy, retry_after_is_read_as_seconds_or_an_http_date) {
  const auto now = std::chrono::system_clock::from_time_t(1445412480);  // Wed, 21 Oct 2015 07:28:00 GMT
  EXPECT_EQ(parse_retry_after("120", now), 120s);
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now), 30s);
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now), 0s) << "a date passed: now";
  EXPECT_FALSE(parse_retry_after("", now));
  EXPECT_FALSE(parse_retry_after("-5", now));
  EXPECT_FALSE(parse_retry_after("soon", now));
}
