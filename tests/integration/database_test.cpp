// The server on PostgreSQL when the database stops answering: requests that need it get 503, readiness says
// so, liveness does not, the server keeps running, and all is as before once the database is back.
#include "harness.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

using namespace dockmon;
using namespace dockmon::test;

namespace {

std::string admin_url() { return std::string(std::getenv("DOCKMON_TEST_POSTGRES_URL")) + "/postgres"; }

// Stops (or allows again) new sessions to the database and ends the ones it has, as a database going down
// would.
void set_database_reachable(const std::string& database, bool reachable) {
  auto r = shell("psql -X -q " + admin_url() + " -c 'ALTER DATABASE " + database + " ALLOW_CONNECTIONS " +
                 (reachable ? "true" : "false") + "' -c \"SELECT pg_terminate_backend(pid) FROM pg_stat_activity " +
                 "WHERE datname = '" + database + "'\"");
  ASSERT_EQ(r.exit_code, 0) << r.output;
}

}  // namespace

TEST(database, a_database_that_stops_answering_gives_503_and_the_server_carries_on_when_it_is_back) {
  ASSERT_NE(std::getenv("DOCKMON_TEST_POSTGRES_URL"), nullptr) << "run scripts/test-env start";
  on_postgres_for_this_test pg;
  test_server server;
  const auto url = server.database_url();
  const auto database = url.substr(url.rfind('/') + 1);
  ASSERT_EQ(server.get("/healthz/ready").status, 200u);
  ASSERT_EQ(server.post("/api/users", R"({"username":"carol","password":"carol-password-1","role":"viewer"})").status, 201u);

  set_database_reachable(database, false);
  EXPECT_EQ(server.get("/healthz/ready").status, 503u);
  EXPECT_EQ(server.get("/healthz").status, 200u) << "alive, only not ready";
  auto users = server.get("/api/users");
  EXPECT_EQ(users.status, 503u) << users.body;
  EXPECT_NE(users.body.find("database"), std::string::npos) << users.body;
  EXPECT_TRUE(server.proc().running());

  set_database_reachable(database, true);
  EXPECT_TRUE(wait_until([&] { return server.get("/healthz/ready").status == 200; }, 10s));
  users = server.get("/api/users");
  ASSERT_EQ(users.status, 200u) << users.body;
  EXPECT_NE(users.body.find("carol"), std::string::npos) << "the data is still there";
}

TEST(database, migrate_store_moves_an_install_from_sqlite_to_postgresql) {
  ASSERT_NE(std::getenv("DOCKMON_TEST_POSTGRES_URL"), nullptr) << "run scripts/test-env start";
  const auto dir = make_temp_dir("dockmon-it-migrate");
  std::string host_id, channel_id;
  {
    ::unsetenv("DOCKMON_TEST_STORE");  // the old install: SQLite under dir (restored by the guard below)
    test_server old({}, dir);
    auto token = old.registration_token();
    ws_client agent(old.port());
    agent.send(register_frame(token, "ENGINE-MIGRATE"));
    auto reply = agent.read_json();
    ASSERT_TRUE(reply && reply->at("type").as_string() == "auth_success") << (reply ? json::serialize(*reply) : "no reply");
    host_id = std::string(reply->at("host_id").as_string());
    auto made = old.post("/api/notification-channels",
                         R"({"name":"ops","type":"webhook","config":{"url":"http://127.0.0.1:9/hook"}})");
    ASSERT_EQ(made.status, 201u) << made.body;
    channel_id = std::string(made.json().at("id").as_string());
  }
  on_postgres_for_this_test pg;
  const std::string database = "dockmon_it_migrate_" + std::to_string(::getpid());
  ASSERT_EQ(shell("psql -X -q " + admin_url() + " -c 'CREATE DATABASE " + database + "'").exit_code, 0);
  std::ofstream(dir + "/test-database-name") << database << "\n";
  const auto target = std::string(std::getenv("DOCKMON_TEST_POSTGRES_URL")) + "/" + database;

  auto moved = shell(std::string(DOCKMON_SERVER_BIN) + " migrate-store --from sqlite://" + dir + "/dockmon.db --to " + target);
  EXPECT_EQ(moved.exit_code, 0) << moved.output;
  EXPECT_NE(moved.output.find("docker_hosts           1 rows"), std::string::npos) << moved.output;
  EXPECT_NE(moved.output.find("start dockmon-server with --database-url " + target), std::string::npos) << moved.output;
  auto again = shell(std::string(DOCKMON_SERVER_BIN) + " migrate-store --from sqlite://" + dir + "/dockmon.db --to " + target);
  EXPECT_EQ(again.exit_code, 1) << "a second copy into the same database is refused: " << again.output;

  {
    test_server on_postgres({}, dir);  // signs in with the admin password kept in the copied users table
    EXPECT_EQ(on_postgres.database_url(), target);
    auto hosts = on_postgres.hosts();
    ASSERT_EQ(hosts.size(), 1u);
    EXPECT_EQ(hosts[0].at("id").as_string(), host_id);
    auto channel = on_postgres.get("/api/notification-channels/" + channel_id);
    EXPECT_EQ(channel.status, 200u) << channel.body;
    EXPECT_NE(channel.body.find("\"ops\""), std::string::npos) << channel.body;
  }
  shell("psql -X -q " + admin_url() + " -c 'DROP DATABASE IF EXISTS " + database + " WITH (FORCE)'");
  std::filesystem::remove_all(dir);
}
