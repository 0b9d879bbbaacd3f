// What only the PostgreSQL store does: its schema in PostgreSQL's terms, several servers on one database,
// and a database that goes away and comes back.
#include "store_fixture.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace dockmon::store {
namespace {

using namespace std::chrono_literals;

TEST_F(postgres_store_test, fresh_database_is_at_schema_version_14_with_byte_ordered_text) {
  open().reset();
  EXPECT_EQ(raw_int("SELECT MAX(version) FROM schema_version"), 14);
  EXPECT_EQ(raw_int("SELECT COUNT(*) FROM schema_version"), 14);
  auto columns = [&](const std::string& table) {
    return raw_int("SELECT COUNT(*) FROM information_schema.columns WHERE table_name = '" + table + "'");
  };
  EXPECT_EQ(columns("health_checks"), 5);
  EXPECT_EQ(columns("tags"), 3);
  EXPECT_EQ(columns("replicas"), 3);
  EXPECT_EQ(columns("agent_holders"), 3);
  EXPECT_EQ(columns("settings_changes"), 5);
  EXPECT_EQ(columns("download_tickets"), 4);
  EXPECT_EQ(columns("notifications"), 13);
  EXPECT_EQ(columns("alerts"), 15);
  EXPECT_EQ(columns("stats_rollups"), 12);
  EXPECT_EQ(columns("agent_builds"), 7);
  EXPECT_EQ(columns("agents"), 14);
  // Names order as bytes whatever the server's locale: upper case before lower, as on SQLite.
  auto s = open();
  s->create_user("bob", "h", "viewer");
  s->create_user("Zed", "h", "viewer");
  s->create_user("alice", "h", "viewer");
  auto users = s->list_users();
  ASSERT_EQ(users.size(), 3u);
  EXPECT_EQ(users[0].username, "Zed");
  EXPECT_EQ(users[1].username, "alice");
}

TEST_F(postgres_store_test, servers_starting_together_on_a_new_database_migrate_it_once) {
  std::atomic<int> failures{0};
  std::vector<std::thread> servers;
  for (int i = 0; i < 3; ++i) {
    servers.emplace_back([&] {
      try {
        open()->count_users();
      } catch (const std::exception& e) {
        ++failures;
        ADD_FAILURE() << e.what();
      }
    });
  }
  for (auto& t : servers) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(raw_int("SELECT COUNT(*) FROM schema_version"), 14);
}

TEST_F(postgres_store_test, a_registration_token_is_spent_once_by_servers_racing_for_it) {
  auto a = open();
  auto b = open();
  for (int round = 0; round < 20; ++round) {
    const std::string token = "reg-" + std::to_string(round);
    a->create_registration_token(token, "admin", now_ + 1h);
    registration_outcome on_a, on_b;
    std::thread ta([&] { on_a = a->register_with_token(token, "perm-a-" + token, sample_registration("EA-" + token), now_); });
    std::thread tb([&] { on_b = b->register_with_token(token, "perm-b-" + token, sample_registration("EB-" + token), now_); });
    ta.join();
    tb.join();
    const int ok = (on_a.status == registration_status::ok) + (on_b.status == registration_status::ok);
    ASSERT_EQ(ok, 1) << "round " << round;
    EXPECT_TRUE(on_a.status == registration_status::used_token || on_b.status == registration_status::used_token);
  }
  EXPECT_EQ(a->list_hosts().size(), 20u);
}

TEST_F(postgres_store_test, an_unreachable_server_is_a_store_error_that_names_it_without_the_password) {
  try {
    open_store("postgresql://dockmon:hunter2@127.0.0.1:1/dockmon?connect_timeout=2");
    FAIL() << "expected store_error";
  } catch (const store_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("cannot reach PostgreSQL at postgresql://dockmon:***@127.0.0.1:1/dockmon"), std::string::npos) << what;
    EXPECT_EQ(what.find("hunter2"), std::string::npos) << what;
  }
}

TEST_F(postgres_store_test, connections_the_server_drops_are_reconnected_and_readiness_follows_the_database) {
  auto s = open();
  s->create_user("alice", "h", "admin");
  EXPECT_TRUE(s->ping());
  // The database server ends every session of this database (a restart, a failover, an admin).
  raw_exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
           "AND pid <> pg_backend_pid()");
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (raw_int("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()") > 0) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the sessions did not end";
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(s->count_users(), 1u);  // the next call gets a new connection
  EXPECT_TRUE(s->ping());
  // The database goes away: calls fail with store_error, readiness says so, nothing crashes.
  store_fixture::TearDown();  // drops the database
  EXPECT_THROW(s->count_users(), store_error);
  EXPECT_FALSE(s->ping());
  pg_database_.clear();
}

}  // namespace
}  // namespace dockmon::store
