// What only the SQLite store does: its file, its mode, WAL, and upgrades of files older builds left.
#include "store_fixture.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

namespace dockmon::store {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

TEST_F(sqlite_store_test, database_file_is_private_to_its_owner) {
  open().reset();
  struct stat st {};
  ASSERT_EQ(::stat(db_path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(sqlite_store_test, existing_file_with_wide_mode_is_narrowed) {
  fs::create_directories(db_path_.parent_path());
  { std::FILE* f = std::fopen(db_path_.c_str(), "w"); ASSERT_NE(f, nullptr); std::fclose(f); }
  ASSERT_EQ(::chmod(db_path_.c_str(), 0644), 0);
  open().reset();
  struct stat st {};
  ASSERT_EQ(::stat(db_path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(sqlite_store_test, relative_url_is_relative_to_working_directory) {
  auto old = fs::current_path();
  fs::current_path(dir_);
  EXPECT_NO_THROW(open_store("sqlite://rel/sub/x.db"));
  fs::current_path(old);
  EXPECT_TRUE(fs::exists(dir_ / "rel" / "sub" / "x.db"));
}

TEST_F(sqlite_store_test, bad_urls_give_store_error) {
  EXPECT_THROW(open_store("mysql://x"), store_error);
  EXPECT_THROW(open_store("/plain/path.db"), store_error);
  EXPECT_THROW(open_store("sqlite://"), store_error);
  EXPECT_THROW(open_store("sqlite:///"), store_error);
  try {
    open_store("ftp://x");
    FAIL() << "expected store_error";
  } catch (const store_error& e) {
    EXPECT_NE(std::string(e.what()).find("sqlite:///"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("postgresql://"), std::string::npos) << e.what();
  }
}

TEST_F(sqlite_store_test, unwritable_folder_gives_store_error) {
  if (::geteuid() == 0) GTEST_SKIP() << "root can write anywhere";
  fs::create_directories(dir_ / "ro");
  fs::permissions(dir_ / "ro", fs::perms::owner_read | fs::perms::owner_exec);
  EXPECT_THROW(open_store("sqlite://" + (dir_ / "ro" / "sub" / "x.db").string()), store_error);
  EXPECT_THROW(open_store("sqlite://" + (dir_ / "ro" / "x.db").string()), store_error);
  fs::permissions(dir_ / "ro", fs::perms::owner_all);
}

TEST_F(sqlite_store_test, folder_that_cannot_be_created_gives_store_error) {
  // A regular file where a folder should be: fails even for root, unlike a read-only folder.
  { std::FILE* f = std::fopen((dir_ / "file").c_str(), "w"); ASSERT_NE(f, nullptr); std::fclose(f); }
  EXPECT_THROW(open_store("sqlite://" + (dir_ / "file" / "sub" / "x.db").string()), store_error);
}

TEST_F(sqlite_store_test, database_uses_wal_mode) {
  open().reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  std::string mode = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  sqlite3_close(db);
  EXPECT_EQ(mode, "wal");
}

TEST_F(sqlite_store_test, fresh_database_is_at_schema_version_14) {
  open().reset();
  EXPECT_EQ(raw_int("SELECT MAX(version) FROM schema_version"), 14);
  EXPECT_EQ(raw_int("SELECT COUNT(*) FROM schema_version"), 14);
  EXPECT_EQ(raw_int("SELECT COUNT(*) FROM pragma_table_info('health_checks')"), 5);
  EXPECT_EQ(raw_int("SELECT COUNT(*) FROM pragma_table_info('tags')"), 3);
  EXPECT_EQ(raw_int("SELECT COUNT(*) FROM pragma_table_info('replicas')"), 3);
  EXPECT_EQ(raw_int("SELECT COUNT(*) FROM pragma_table_info('agent_holders')"), 3);
  EXPECT_EQ(raw_int("SELECT COUNT(*) FROM pragma_table_info('settings_changes')"), 5);
  EXPECT_EQ(raw_int("SELECT COUNT(*) FROM pragma_table_info('download_tickets')"), 4);
  EXPECT_EQ(raw_int("SELECT COUNT(*) FROM pragma_table_info('notifications')"), 13);
  EXPECT_EQ(raw_int("SELECT COUNT(*) FROM pragma_table_info('alerts')"), 15);
  EXPECT_EQ(raw_int("SELECT COUNT(*) FROM pragma_table_info('stats_rollups')"), 12);
  EXPECT_EQ(raw_int("SELECT COUNT(*) FROM pragma_table_info('agent_builds')"), 7);
}

TEST_F(sqlite_store_test, version_1_database_upgrades_to_the_latest_and_keeps_its_data) {
  // Turns a fresh database back into what migration 1 alone left (SQLite 3.35+ drops columns), then puts
  // in data as a version 1 server would have.
  open().reset();
  raw_exec("DELETE FROM schema_version WHERE version = 14;"
           "DROP TABLE settings_changes;"
           "DROP TABLE download_tickets;"
           "DELETE FROM schema_version WHERE version = 13;"
           "DROP TABLE agent_holders;"
           "DROP TABLE replicas;"
           "ALTER TABLE notifications DROP COLUMN claimed_by;"
           "ALTER TABLE notifications DROP COLUMN claimed_until_ms;"
           "DELETE FROM schema_version WHERE version = 12;"
           "DROP TABLE health_checks;"
           "DELETE FROM schema_version WHERE version = 11;"
           "DROP TABLE tags;"
           "DELETE FROM schema_version WHERE version = 10;"
           "DROP TABLE blackouts;"
           "DELETE FROM schema_version WHERE version = 9;"
           "DROP TABLE notifications;"
           "DROP TABLE notification_channels;"
           "DELETE FROM schema_version WHERE version = 8;"
           "DROP TABLE alerts;"
           "DROP TABLE alert_rules;"
           "DELETE FROM schema_version WHERE version = 7;"
           "DROP INDEX api_keys_parent;"
           "ALTER TABLE api_keys DROP COLUMN parent_key_id;"
           "ALTER TABLE users DROP COLUMN disabled;"
           "DELETE FROM schema_version WHERE version = 6;"
           "DROP INDEX agents_engine_strict;"
           "DROP INDEX agents_engine;"
           "ALTER TABLE agents DROP COLUMN force_unique;"
           "CREATE UNIQUE INDEX agents_engine_unique ON agents(engine_id);"
           "ALTER TABLE registration_tokens DROP COLUMN host_id;"
           "DELETE FROM schema_version WHERE version = 5;"
           "DROP TABLE agent_builds;"
           "ALTER TABLE agents DROP COLUMN arch;"
           "DELETE FROM schema_version WHERE version = 4;"
           "DROP INDEX agents_next_token;"
           "ALTER TABLE agents DROP COLUMN next_token_hash;"
           "ALTER TABLE agents DROP COLUMN revoked_at;"
           "DELETE FROM schema_version WHERE version = 3;"
           "DROP INDEX events_container_time;"
           "ALTER TABLE events DROP COLUMN image;"
           "ALTER TABLE events DROP COLUMN attributes;"
           "DROP TABLE stats_rollups;"
           "DELETE FROM schema_version WHERE version = 2;"
           "INSERT INTO users (id, username, password_hash, role, created_at) "
           "  VALUES ('u1', 'alice', 'h', 'admin', '2026-01-01T00:00:00Z');"
           "INSERT INTO events (host_id, container_id, container_name, type, action, message, timestamp) "
           "  VALUES ('h1', 'c1', 'web', 'container', 'start', 'old', '2026-01-01T00:00:00Z');"
           "INSERT INTO docker_hosts (id, name, connection_type, created_at, updated_at) "
           "  VALUES ('h1', 'node', 'agent', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');"
           "INSERT INTO agents (id, host_id, engine_id, registered_at, token_hash) "
           "  VALUES ('a1', 'h1', 'E-OLD', '2026-01-01T00:00:00Z', 'tok-old');");
  ASSERT_EQ(raw_int("SELECT MAX(version) FROM schema_version"), 1);
  ASSERT_EQ(raw_int("SELECT COUNT(*) FROM sqlite_master WHERE name = 'stats_rollups'"), 0);

  auto s = open();
  EXPECT_EQ(raw_int("SELECT MAX(version) FROM schema_version"), 14);
  EXPECT_TRUE(s->find_user_by_name("alice"));
  EXPECT_FALSE(s->find_user_by_name("alice")->disabled);
  auto events = s->list_events({});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].host_id, "h1");
  EXPECT_EQ(events[0].container_name, "web");
  EXPECT_EQ(events[0].action, "start");
  EXPECT_EQ(events[0].image, "");
  EXPECT_EQ(events[0].attributes, "{}");
  // The agents table was rebuilt by migration 5: the agent is still there, and still unique to its engine.
  auto host = s->find_host("h1");
  ASSERT_TRUE(host && host->agent);
  EXPECT_EQ(host->agent->engine_id, "E-OLD");
  EXPECT_EQ(s->reconnect_with_permanent_token("tok-old", "", sample_registration("E-OLD"), now_).status,
            registration_status::ok);
  s->create_registration_token("reg", "u1", now_ + 1h);
  EXPECT_EQ(s->register_with_token("reg", "p", sample_registration("E-OLD"), now_).status, registration_status::engine_taken);
  s->save_rollups({{"host:h1", 60, 120, 1.5}});
  ASSERT_EQ(s->load_rollups(0).size(), 1u);
  EXPECT_TRUE(s->add_agent_build({"0.2.0", "amd64", "ab", "sig", 10, "2026-01-01T00:00:00Z", "u1"}));
}

}  // namespace
}  // namespace dockmon::store
