// Download tickets for agent builds: single use, short-lived, and nothing to guess.
#include "api/agent_builds.hpp"

#include <gtest/gtest.h>

#include <stdlib.h>

#include <filesystem>

using namespace dockmon::server;
using namespace std::chrono_literals;

namespace {

// Tickets live in the store: a SQLite file in a folder of the test's own.
class download_tickets : public ::testing::Test {
 protected:
  void TearDown() override {
    db.reset();
    std::filesystem::remove_all(dir);
  }
  const std::filesystem::path dir = [] {
    std::string pattern = (std::filesystem::temp_directory_path() / "tickets-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp");
    return std::filesystem::path(pattern);
  }();
  std::unique_ptr<dockmon::store::store> db = dockmon::store::open_store("sqlite://" + (dir / "t.db").string());
  const dockmon::sys_clock::time_point now = dockmon::sys_clock::now();
};

}  // namespace

TEST_F(download_tickets, a_ticket_fetches_its_build_once) {
  const auto ticket = mint_download_ticket(*db, {"0.2.0", "amd64"}, now);
  EXPECT_EQ(ticket.size(), 43u) << "256 random bits";
  auto build = redeem_download_ticket(*db, ticket, now + 1s);
  ASSERT_TRUE(build);
  EXPECT_EQ(build->version, "0.2.0");
  EXPECT_EQ(build->arch, "amd64");
  EXPECT_FALSE(redeem_download_ticket(*db, ticket, now + 2s)) << "spent";
}

TEST_F(download_tickets, an_expired_or_unknown_ticket_fetches_nothing) {
  const auto ticket = mint_download_ticket(*db, {"0.2.0", "amd64"}, now);
  EXPECT_FALSE(redeem_download_ticket(*db, ticket, now + download_ticket_lifetime + 1s));
  EXPECT_FALSE(redeem_download_ticket(*db, "made-up", now));
  EXPECT_FALSE(redeem_download_ticket(*db, "", now));
}

TEST_F(download_tickets, each_build_gets_its_own_ticket_and_only_its_hash_is_stored) {
  const auto a = mint_download_ticket(*db, {"0.2.0", "amd64"}, now);
  const auto b = mint_download_ticket(*db, {"0.2.0", "arm64"}, now);
  EXPECT_NE(a, b);
  EXPECT_FALSE(db->spend_download_ticket(a, now)) << "the store knows the hash, not the ticket";
  EXPECT_EQ(redeem_download_ticket(*db, b, now)->arch, "arm64");
  EXPECT_EQ(redeem_download_ticket(*db, a, now)->arch, "amd64");
}

TEST(agent_build_files, live_in_a_folder_per_arch_so_no_two_builds_share_a_name) {
  EXPECT_EQ(agent_build_file("/srv/data", {"1.0-arm", "64"}), "/srv/data/agent-builds/64/1.0-arm");
  EXPECT_EQ(agent_build_file("/srv/data", {"1.0", "arm64"}), "/srv/data/agent-builds/arm64/1.0");
}
