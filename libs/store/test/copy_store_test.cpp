// copy_store (migrate-store): an install moved from SQLite to PostgreSQL and back keeps every row of every
// table, byte for byte and number for number, and the new database goes on handing out ids after the old.
#include "store_fixture.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

namespace dockmon::store {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

std::string exact(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// Everything the store answers, as one text: two stores with the same rows give the same text.
std::string everything(store& s) {
  std::string out;
  auto line = [&](std::initializer_list<std::string> fields) {
    for (const auto& f : fields) out += f + "|";
    out += "\n";
  };
  for (const auto& u : s.list_users()) {
    line({"user", u.id, u.username, u.role, u.created_at, std::to_string(u.disabled), s.find_user(u.id)->password_hash});
  }
  for (const auto& k : s.list_api_keys("")) {
    line({"key", k.id, k.name, k.user_id, k.username, k.role, k.created_at, k.expires_at, std::to_string(k.revoked)});
  }
  for (const auto& h : s.list_hosts()) {
    line({"host", h.id, h.name, h.connection_type, h.info.os_type, h.info.os_version, h.info.kernel_version,
          h.info.docker_version, h.info.daemon_started_at, std::to_string(h.info.total_memory),
          std::to_string(h.info.num_cpus), h.created_at, h.updated_at});
    if (h.agent) {
      const auto& a = *h.agent;
      line({"agent", a.id, a.engine_id, a.version, a.proto_version, a.capabilities, a.status, a.last_seen_at,
            a.registered_at, a.revoked_at, a.arch});
    }
  }
  event_filter all_events;
  all_events.limit = max_event_limit;
  for (const auto& e : s.list_events(all_events)) {
    line({"event", std::to_string(e.id), e.host_id, e.container_id, e.container_name, e.image, e.type, e.action,
          e.attributes, e.timestamp});
  }
  for (const auto& a : s.list_audit("", max_audit_limit)) {
    line({"audit", std::to_string(a.id), a.at, a.user_id, a.username, a.action, a.target, a.result});
  }
  for (const auto& r : s.load_rollups(0)) {
    line({"rollup", r.key, std::to_string(r.step), std::to_string(r.t), exact(r.cpu_percent), exact(r.memory_usage),
          exact(r.memory_limit), exact(r.memory_percent), exact(r.network_rx), exact(r.network_tx), exact(r.disk_read),
          exact(r.disk_write), exact(r.pids)});
  }
  for (const auto& b : s.list_agent_builds()) {
    line({"build", b.version, b.arch, b.sha256, b.signature, std::to_string(b.size), b.created_at, b.created_by_user_id});
  }
  for (const auto& r : s.list_alert_rules()) {
    line({"rule", r.id, r.name, std::to_string(r.enabled), r.definition, r.created_at, r.updated_at});
  }
  for (const auto& a : s.list_alerts({})) {
    line({"alert", a.id, a.rule_id, a.host_id, a.container_id, a.target_name, a.kind, a.severity, a.state, a.message,
          a.fired_at, a.resolved_at, a.acknowledged_at, a.acknowledged_by, a.snoozed_until, std::to_string(a.notified)});
  }
  for (const auto& n : s.list_notifications({})) {
    line({"notification", std::to_string(n.id), n.alert_id, n.channel_id, n.message, n.state, std::to_string(n.attempts),
          std::to_string(n.next_attempt_ms), n.last_error, n.created_at, n.sent_at, n.group_key});
  }
  for (const auto& c : s.list_channels()) {
    line({"channel", c.id, c.name, c.type, c.sealed_config, std::to_string(c.enabled), c.created_at, c.updated_at});
  }
  for (const auto& b : s.list_blackouts()) line({"blackout", b.id, b.name, b.definition, b.created_at});
  for (const auto& t : s.list_tags()) line({"tag", t.host_id, t.container_name, t.tag});
  for (const auto& c : s.list_health_checks()) {
    line({"health", c.host_id, c.container_name, c.settings_json, c.secrets_sealed, c.updated_at});
  }
  return out;
}

// An install with a row in every table, text that needs escaping, and numbers beyond 32 bits.
void fill(store& s, sys_clock::time_point now, const agent_registration& reg) {
  user admin = s.create_user("admin", "$argon2id$v=19$m=65536,t=2,p=1$salt$hash", "admin");
  s.create_user("zoë 'quoted' \"name\"", "h", "viewer");
  s.create_session("session-hash", admin.id, now + 1h);
  const auto parent = s.create_api_key("ci", "key-hash-1", admin.id, "operator", now + 24h);
  s.create_api_key("made by ci", "key-hash-2", admin.id, "viewer", std::nullopt, parent);
  s.create_registration_token("reg-used", admin.id, now + 1h);
  s.create_registration_token("reg-open", admin.id, now + 1h);
  auto out = s.register_with_token("reg-used", "perm-hash", reg, now);
  ASSERT_EQ(out.status, registration_status::ok);
  s.append_events({{0, out.host_id, "c1", "web", "nginx:1", "container", "start", R"({"exitCode":"0"})", "2026-12-01T10:00:00Z"},
                   {0, out.host_id, "c1", "web", "nginx:1", "container", "die", "{}", "2026-12-01T10:05:00Z"}});
  s.append_audit(admin.id, "container.stop", out.host_id + "/c1", "ok", now);
  stats_rollup_row r;
  r.key = "ctr:" + out.host_id + ":c1";
  r.step = 60;
  r.t = 1'700'000'000;
  r.cpu_percent = 0.1 + 0.2;  // not exactly 0.3: must survive as it is
  r.memory_usage = 123456789012.0;
  r.network_rx = 1e15 + 0.5;
  r.pids = 7;
  s.save_rollups({r});
  EXPECT_TRUE(s.add_agent_build({"1.2.3", "amd64", std::string(64, 'a'), "c2lnbmF0dXJl", 12'345'678, "2026-12-01T00:00:00Z", admin.id}));
  s.save_alert_rule({"rule-1", "web down", true, R"({"kind":"container_stopped"})", "2026-12-01T00:00:00Z", "2026-12-01T00:00:00Z"});
  alert_record a;
  a.id = "alert-1";
  a.rule_id = "rule-1";
  a.host_id = out.host_id;
  a.container_id = "c1";
  a.target_name = "web";
  a.kind = "container_stopped";
  a.severity = "error";
  a.state = "firing";
  a.message = "web stopped";
  a.fired_at = "2026-12-01T10:05:00Z";
  a.notified = true;
  notification_record n;
  n.alert_id = a.id;
  n.channel_id = "chan-1";
  n.message = R"({"title":"web stopped"})";
  n.next_attempt_ms = 1'764'583'500'000;
  n.created_at = a.fired_at;
  n.group_key = out.host_id;
  s.save_alerts({a}, {n, n});
  s.save_channel({"chan-1", "ops", "webhook", "sealed:AAAA", true, "2026-12-01T00:00:00Z", "2026-12-01T00:00:00Z"});
  s.save_blackout({"bo-1", "nights", R"({"start":"22:00","end":"06:00"})", "2026-12-01T00:00:00Z"});
  s.set_tags(out.host_id, "", {"prod"});
  s.set_tags(out.host_id, "web", {"frontend", "team-a"});
  s.save_health_check({out.host_id, "web", R"({"url":"http://{container}/"})", "sealed:BBBB", "2026-12-01T00:00:00Z"});
}

TEST_F(postgres_store_test, an_install_moved_from_sqlite_to_postgresql_and_back_keeps_every_row) {
  const auto dir = fs::temp_directory_path() / ("dockmon-copy-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string sqlite_url = "sqlite://" + (dir / "old.db").string();
  const std::string back_url = "sqlite://" + (dir / "back.db").string();
  std::string before;
  {
    auto old = open_store(sqlite_url);
    fill(*old, now_, sample_registration());
    before = everything(*old);
  }
  ASSERT_NE(before.find("notification|2|"), std::string::npos) << before;

  std::vector<std::string> done;
  copy_store(sqlite_url, url(), [&](const copy_progress& p) {
    if (p.table_done) done.push_back(p.table + "=" + std::to_string(p.rows));
  });
  EXPECT_EQ(done.size(), 17u);
  EXPECT_NE(std::find(done.begin(), done.end(), "events=2"), done.end());
  EXPECT_NE(std::find(done.begin(), done.end(), "tags=3"), done.end());

  auto moved = open();
  EXPECT_EQ(everything(*moved), before);
  // What is not listed works too: the session, the keys, the open token, the agent's permanent token.
  EXPECT_TRUE(moved->find_session("session-hash", now_));
  EXPECT_TRUE(moved->find_api_key("key-hash-2"));
  EXPECT_EQ(moved->reconnect_with_permanent_token("perm-hash", "", sample_registration(), now_).status, registration_status::ok);
  EXPECT_EQ(moved->register_with_token("reg-used", "p2", sample_registration("E2"), now_).status, registration_status::used_token);
  EXPECT_EQ(moved->register_with_token("reg-open", "p3", sample_registration("E3"), now_).status, registration_status::ok);
  // New rows take ids after the copied ones.
  moved->append_events({{0, "h", "", "", "", "container", "start", "{}", "2026-12-02T00:00:00Z"}});
  EXPECT_EQ(moved->list_events({})[0].id, 3);
  moved->append_audit("u", "a", "t", "ok", now_);
  EXPECT_EQ(moved->list_audit("", 1)[0].id, 2);

  // And back into a new SQLite file: the same rows again.
  const auto on_postgres = everything(*moved);
  copy_store(url(), back_url, nullptr);
  EXPECT_EQ(everything(*open_store(back_url)), on_postgres);
  fs::remove_all(dir);
}

TEST_F(postgres_store_test, a_copy_into_a_database_that_holds_data_is_refused_and_changes_nothing) {
  const auto dir = fs::temp_directory_path() / ("dockmon-copy-refused-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string sqlite_url = "sqlite://" + (dir / "old.db").string();
  open_store(sqlite_url)->create_user("old-admin", "h", "admin");
  open()->create_user("new-admin", "h", "admin");
  try {
    copy_store(sqlite_url, url(), nullptr);
    FAIL() << "expected store_error";
  } catch (const store_error& e) {
    EXPECT_NE(std::string(e.what()).find("already holds data (1 rows in users)"), std::string::npos) << e.what();
  }
  auto users = open()->list_users();
  ASSERT_EQ(users.size(), 1u);
  EXPECT_EQ(users[0].username, "new-admin");
  fs::remove_all(dir);
}

}  // namespace
}  // namespace dockmon::store
