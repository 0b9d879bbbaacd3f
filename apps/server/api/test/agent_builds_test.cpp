// Download tickets for agent builds: single use, short-lived, and nothing to guess.
#include "api/agent_builds.hpp"

#include <gtest/gtest.h>

using namespace dockmon::server;
using namespace std::chrono_literals;

TEST(download_tickets, a_ticket_fetches_its_build_once) {
  download_tickets tickets;
  const auto now = download_tickets::clock::now();
  const auto ticket = tickets.mint({"0.2.0", "amd64"}, now);
  EXPECT_EQ(ticket.size(), 43u) << "256 random bits";
  auto build = tickets.redeem(ticket, now + 1s);
  ASSERT_TRUE(build);
  EXPECT_EQ(build->version, "0.2.0");
  EXPECT_EQ(build->arch, "amd64");
  EXPECT_FALSE(tickets.redeem(ticket, now + 2s)) << "spent";
}

TEST(download_tickets, an_expired_or_unknown_ticket_fetches_nothing) {
  download_tickets tickets;
  const auto now = download_tickets::clock::now();
  const auto ticket = tickets.mint({"0.2.0", "amd64"}, now);
  EXPECT_FALSE(tickets.redeem(ticket, now + download_tickets::lifetime + 1s));
  EXPECT_FALSE(tickets.redeem("made-up", now));
  EXPECT_FALSE(tickets.redeem("", now));
}

TEST(download_tickets, each_build_gets_its_own_ticket) {
  download_tickets tickets;
  const auto a = tickets.mint({"0.2.0", "amd64"});
  const auto b = tickets.mint({"0.2.0", "arm64"});
  EXPECT_NE(a, b);
  EXPECT_EQ(tickets.redeem(b)->arch, "arm64");
  EXPECT_EQ(tickets.redeem(a)->arch, "amd64");
}

TEST(agent_build_files, live_in_a_folder_per_arch_so_no_two_builds_share_a_name) {
  EXPECT_EQ(agent_build_file("/srv/data", {"1.0-arm", "64"}), "/srv/data/agent-builds/64/1.0-arm");
  EXPECT_EQ(agent_build_file("/srv/data", {"1.0", "arm64"}), "/srv/data/agent-builds/arm64/1.0");
}
