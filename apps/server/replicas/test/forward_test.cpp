// What replicas tell each other in a forwarded request: the client's address, vouched for with the key
// they share, and their own addresses.
#include "replicas/forward.hpp"

#include <gtest/gtest.h>

using namespace dockmon;
using namespace dockmon::server;
using namespace std::chrono_literals;

namespace {

request with_vouch(const std::string& value) {
  request req{http::verb::post, "/api/auth/login", 11};
  req.set("X-DockMon-Vouched-Client", value);
  return req;
}

}  // namespace

TEST(vouched_client, a_replica_names_the_client_and_nobody_else_can) {
  const auto box = secret_box::random();
  const auto now = sys_clock::now();
  EXPECT_EQ(vouched_client(box, with_vouch(vouch_for(box, "203.0.113.7", now)), now + 1s), "203.0.113.7");
  EXPECT_FALSE(vouched_client(box, request{http::verb::get, "/", 11}, now)) << "no header";
  EXPECT_FALSE(vouched_client(box, with_vouch("203.0.113.7"), now)) << "not sealed";
  EXPECT_FALSE(vouched_client(box, with_vouch(vouch_for(secret_box::random(), "203.0.113.7", now)), now)) << "another key";
  EXPECT_FALSE(vouched_client(box, with_vouch(vouch_for(box, "203.0.113.7", now)), now + 31s)) << "stale";
  EXPECT_FALSE(vouched_client(box, with_vouch(box.seal("soon 203.0.113.7")), now)) << "no time";
}

TEST(replica_address, splits_into_host_and_port) {
  EXPECT_EQ(split_replica_address("http://10.0.0.5:8080").host, "10.0.0.5");
  EXPECT_EQ(split_replica_address("http://10.0.0.5:8080").port, "8080");
  EXPECT_EQ(split_replica_address("http://db.internal:81/").port, "81");
}
