#include "alerts/ack_link.hpp"

#include <gtest/gtest.h>

using namespace dockmon;
using namespace dockmon::server::alerts;
using namespace std::chrono_literals;

TEST(ack_link, a_token_acknowledges_its_alert_until_it_expires_and_nothing_else) {
  const auto key = secret_box::random();
  const auto now = std::chrono::system_clock::now();
  const auto token = make_ack_token(key, "alert-1", now + 1h);
  EXPECT_EQ(token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_="), std::string::npos) << token;
  EXPECT_TRUE(ack_token_valid(key, token, "alert-1", now));
  EXPECT_FALSE(ack_token_valid(key, token, "alert-2", now)) << "another alert";
  EXPECT_FALSE(ack_token_valid(key, token, "alert-1", now + 2h)) << "expired";
  EXPECT_FALSE(ack_token_valid(secret_box::random(), token, "alert-1", now)) << "another server's key";
  auto altered = token;
  altered[5] = altered[5] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(ack_token_valid(key, altered, "alert-1", now));
  EXPECT_FALSE(ack_token_valid(key, "", "alert-1", now));
  // A seal of something else with the same key is not a token.
  auto other = key.seal("alert-1");
  EXPECT_FALSE(ack_token_valid(key, other.substr(3), "alert-1", now));
}
