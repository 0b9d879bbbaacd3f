// The store's behaviour, one suite run on each database under it (store_fixture.hpp).
#include "store_fixture.hpp"

#include <gtest/gtest.h>
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

TEST_P(store_test, migrations_run_once_and_reopening_keeps_data) {
  {
    auto s = open();
    EXPECT_EQ(s->count_users(), 0u);
    s->create_user("alice", "hash", "admin");
  }
  auto s = open();  // a second migration run would fail on CREATE TABLE
  EXPECT_EQ(s->count_users(), 1u);
  ASSERT_TRUE(s->find_user_by_name("alice"));
}

TEST_P(store_test, newer_schema_version_is_refused) {
  open().reset();
  raw_exec("INSERT INTO schema_version (version, applied_at) VALUES (99, 'x')");
  try {
    open();
    FAIL() << "expected store_error";
  } catch (const store_error& e) {
    EXPECT_NE(std::string(e.what()).find("database schema version 99 is newer than this build supports (14); "
                                         "upgrade dockmon-server"),
              std::string::npos)
        << e.what();
  }
}

TEST_P(store_test, failed_registration_rolls_back_and_store_stays_usable) {
  auto s = open();
  s->create_registration_token("reg-1", "admin-id", now_ + 1h);
  s->create_registration_token("reg-2", "admin-id", now_ + 1h);
  ASSERT_EQ(s->register_with_token("reg-1", "perm-taken", sample_registration("E1"), now_).status,
            registration_status::ok);
  // Another engine with a permanent token hash already bound: the UNIQUE constraint throws mid-transaction.
  EXPECT_THROW(s->register_with_token("reg-2", "perm-taken", sample_registration("E2"), now_), store_error);
  EXPECT_EQ(s->list_hosts().size(), 1u);  // the host row inserted before the failure is gone
  EXPECT_EQ(s->register_with_token("reg-2", "perm-new", sample_registration("E2"), now_).status,
            registration_status::ok);  // and the token was not spent
  EXPECT_EQ(s->list_hosts().size(), 2u);
}

TEST_P(store_test, users_are_created_and_found_and_names_are_unique) {
  auto s = open();
  user u = s->create_user("bob", "argon-hash", "operator");
  EXPECT_FALSE(u.id.empty());
  auto found = s->find_user_by_name("bob");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->id, u.id);
  EXPECT_EQ(found->password_hash, "argon-hash");
  EXPECT_EQ(found->role, "operator");
  EXPECT_FALSE(s->find_user_by_name("BOB"));
  EXPECT_THROW(s->create_user("bob", "other", "viewer"), store_error);
  EXPECT_EQ(s->count_users(), 1u);
}

TEST_P(store_test, users_are_listed_by_name_without_their_hashes) {
  auto s = open();
  EXPECT_TRUE(s->list_users().empty());
  s->create_user("zed", "hash-z", "viewer");
  user a = s->create_user("amy", "hash-a", "admin");
  auto users = s->list_users();
  ASSERT_EQ(users.size(), 2u);
  EXPECT_EQ(users[0].username, "amy");
  EXPECT_EQ(users[0].id, a.id);
  EXPECT_EQ(users[0].role, "admin");
  EXPECT_FALSE(users[0].created_at.empty());
  EXPECT_EQ(users[1].username, "zed");
  EXPECT_EQ(users[1].role, "viewer");
}

TEST_P(store_test, sessions_expire_and_can_be_deleted) {
  auto s = open();
  user u = s->create_user("carol", "h", "viewer");
  s->create_session("sess-hash", u.id, now_ + 1h);
  auto p = s->find_session("sess-hash", now_);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->user_id, u.id);
  EXPECT_EQ(p->username, "carol");
  EXPECT_EQ(p->role, "viewer");
  EXPECT_EQ(p->via, "session");
  EXPECT_FALSE(s->find_session("sess-hash", now_ + 1h));
  EXPECT_FALSE(s->find_session("sess-hash", now_ + 2h));
  EXPECT_FALSE(s->find_session("other", now_));
  s->delete_session("sess-hash");
  EXPECT_FALSE(s->find_session("sess-hash", now_));
}

TEST_P(store_test, api_keys_resolve_with_their_own_role) {
  auto s = open();
  user u = s->create_user("dave", "h", "admin");
  std::string id = s->create_api_key("ci", "key-hash", u.id, "viewer", std::nullopt);
  EXPECT_FALSE(id.empty());
  auto p = s->find_api_key("key-hash");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->user_id, u.id);
  EXPECT_EQ(p->username, "dave");
  EXPECT_EQ(p->role, "viewer");
  EXPECT_EQ(p->via, "api_key");
  EXPECT_FALSE(s->find_api_key("nope"));
  EXPECT_THROW(s->create_api_key("dup", "key-hash", u.id, "viewer", std::nullopt), store_error);
}

TEST_P(store_test, revoked_or_expired_api_keys_are_ignored) {
  auto s = open();
  user u = s->create_user("erin", "h", "admin");
  s->create_api_key("a", "revoked-hash", u.id, "admin", std::nullopt);
  s->create_api_key("b", "expired-hash", u.id, "admin", std::nullopt);
  s->create_api_key("c", "future-hash", u.id, "admin", std::nullopt);
  s.reset();
  raw_exec("UPDATE api_keys SET revoked = 1 WHERE key_hash = 'revoked-hash';"
           "UPDATE api_keys SET expires_at = '2000-01-01T00:00:00Z' WHERE key_hash = 'expired-hash';"
           "UPDATE api_keys SET expires_at = '2999-01-01T00:00:00Z' WHERE key_hash = 'future-hash';");
  s = open();
  EXPECT_FALSE(s->find_api_key("revoked-hash"));
  EXPECT_FALSE(s->find_api_key("expired-hash"));
  EXPECT_TRUE(s->find_api_key("future-hash"));
}

TEST_P(store_test, registration_token_is_single_use) {
  auto s = open();
  s->create_registration_token("reg-1", "admin-id", now_ + 15min);
  auto first = s->register_with_token("reg-1", "perm-1", sample_registration("E1"), now_);
  EXPECT_EQ(first.status, registration_status::ok);
  auto second = s->register_with_token("reg-1", "perm-2", sample_registration("E2"), now_);
  EXPECT_EQ(second.status, registration_status::used_token);
  EXPECT_EQ(s->list_hosts().size(), 1u);
}

TEST_P(store_test, expired_and_unknown_registration_tokens_change_nothing) {
  auto s = open();
  s->create_registration_token("reg-old", "admin-id", now_ - 1s);
  s->create_registration_token("reg-now", "admin-id", now_);
  EXPECT_EQ(s->register_with_token("reg-old", "p", sample_registration(), now_).status,
            registration_status::expired_token);
  EXPECT_EQ(s->register_with_token("reg-now", "p", sample_registration(), now_).status,
            registration_status::expired_token);
  EXPECT_EQ(s->register_with_token("reg-none", "p", sample_registration(), now_).status,
            registration_status::unknown_token);
  EXPECT_TRUE(s->list_hosts().empty());
  // A refused attempt leaves the token unspent: it still works while valid.
  EXPECT_EQ(s->register_with_token("reg-now", "p", sample_registration(), now_ - 1min).status,
            registration_status::ok);
}

TEST_P(store_test, registration_creates_host_and_agent_with_system_info) {
  auto s = open();
  s->create_registration_token("reg", "admin-id", now_ + 15min);
  auto reg = sample_registration();
  auto out = s->register_with_token("reg", "perm", reg, now_);
  ASSERT_EQ(out.status, registration_status::ok);
  auto hosts = s->list_hosts();
  ASSERT_EQ(hosts.size(), 1u);
  const host_record& h = hosts[0];
  EXPECT_EQ(h.id, out.host_id);
  EXPECT_EQ(h.name, "node-a");
  EXPECT_EQ(h.connection_type, "agent");
  EXPECT_EQ(h.info.os_type, "linux");
  EXPECT_EQ(h.info.os_version, "Debian 12");
  EXPECT_EQ(h.info.kernel_version, "6.1.0");
  EXPECT_EQ(h.info.docker_version, "24.0.7");
  EXPECT_EQ(h.info.daemon_started_at, "2026-01-01T00:00:00Z");
  EXPECT_EQ(h.info.total_memory, 8LL * 1024 * 1024 * 1024);
  EXPECT_EQ(h.info.num_cpus, 4);
  EXPECT_EQ(h.created_at, to_iso8601(now_));
  ASSERT_TRUE(h.agent);
  EXPECT_EQ(h.agent->id, out.agent_id);
  EXPECT_EQ(h.agent->host_id, out.host_id);
  EXPECT_EQ(h.agent->engine_id, "ENGINE-1");
  EXPECT_EQ(h.agent->version, "1.0.0");
  EXPECT_EQ(h.agent->proto_version, "1");
  EXPECT_EQ(h.agent->capabilities, R"({"stats":true})");
  EXPECT_EQ(h.agent->status, "online");
  EXPECT_EQ(h.agent->last_seen_at, to_iso8601(now_));
  EXPECT_EQ(h.agent->registered_at, to_iso8601(now_));
  EXPECT_EQ(h.agent->arch, "amd64");

  auto one = s->find_host(out.host_id);
  ASSERT_TRUE(one);
  EXPECT_EQ(one->name, "node-a");
  EXPECT_FALSE(s->find_host("no-such-host"));
}

TEST_P(store_test, list_hosts_is_ordered_by_name) {
  auto s = open();
  for (auto [token, engine, name] : {std::tuple{"r1", "E1", "zeta"}, {"r2", "E2", "alpha"}, {"r3", "E3", "mid"}}) {
    s->create_registration_token(token, "admin-id", now_ + 1h);
    auto reg = sample_registration(engine);
    reg.info.hostname = name;
    ASSERT_EQ(s->register_with_token(token, std::string("perm-") + token, reg, now_).status,
              registration_status::ok);
  }
  auto hosts = s->list_hosts();
  ASSERT_EQ(hosts.size(), 3u);
  EXPECT_EQ(hosts[0].name, "alpha");
  EXPECT_EQ(hosts[1].name, "mid");
  EXPECT_EQ(hosts[2].name, "zeta");
}

TEST_P(store_test, a_registration_token_never_takes_over_a_known_engine) {
  auto s = open();
  s->create_registration_token("reg-1", "admin-id", now_ + 1h);
  s->create_registration_token("reg-2", "admin-id", now_ + 1h);
  auto first = s->register_with_token("reg-1", "perm-1", sample_registration(), now_);
  ASSERT_EQ(first.status, registration_status::ok);
  auto thief = sample_registration();
  thief.version = "6.6.6";
  auto second = s->register_with_token("reg-2", "perm-2", thief, now_ + 1min);
  EXPECT_EQ(second.status, registration_status::engine_taken);
  EXPECT_TRUE(second.agent_id.empty()) << "no ids of the existing host are handed out";
  EXPECT_TRUE(second.host_id.empty());
  auto hosts = s->list_hosts();
  ASSERT_EQ(hosts.size(), 1u);
  EXPECT_EQ(hosts[0].agent->version, "1.0.0");
  // The real agent's token still works, the intruder's never existed, and the token was not spent.
  EXPECT_EQ(s->reconnect_with_permanent_token("perm-1", "", sample_registration(), now_).status, registration_status::ok);
  EXPECT_EQ(s->reconnect_with_permanent_token("perm-2", "", thief, now_).status, registration_status::unknown_token);
  EXPECT_EQ(raw_int("SELECT used FROM registration_tokens WHERE token_hash = 'reg-2'"), 0);
}

TEST_P(store_test, a_reattach_token_takes_only_its_own_host_and_keeps_its_ids) {
  auto s = open();
  s->create_registration_token("reg-1", "admin-id", now_ + 1h);
  s->create_registration_token("reg-2", "admin-id", now_ + 1h);
  auto first = s->register_with_token("reg-1", "perm-1", sample_registration("E1"), now_);
  auto other = s->register_with_token("reg-2", "perm-o", sample_registration("E2"), now_);
  ASSERT_EQ(first.status, registration_status::ok);
  ASSERT_EQ(other.status, registration_status::ok);
  ASSERT_TRUE(s->revoke_agent(first.host_id, now_));

  // Minted for the first host: it cannot take the second host's engine.
  s->create_registration_token("re-1", "admin-id", now_ + 1h, first.host_id);
  EXPECT_EQ(s->register_with_token("re-1", "perm-x", sample_registration("E2"), now_).status,
            registration_status::engine_taken);
  // The reinstalled agent (same engine, lost data) comes back as the same host, its revocation lifted.
  auto reg = sample_registration("E1");
  reg.version = "2.0.0";
  auto back = s->register_with_token("re-1", "perm-new", reg, now_ + 1min);
  ASSERT_EQ(back.status, registration_status::ok);
  EXPECT_EQ(back.agent_id, first.agent_id);
  EXPECT_EQ(back.host_id, first.host_id);
  auto host = s->find_host(first.host_id);
  EXPECT_EQ(host->agent->version, "2.0.0");
  EXPECT_EQ(host->agent->revoked_at, "");
  EXPECT_EQ(s->reconnect_with_permanent_token("perm-1", "", reg, now_).status, registration_status::unknown_token);
  EXPECT_EQ(s->reconnect_with_permanent_token("perm-new", "", reg, now_).status, registration_status::ok);
  EXPECT_EQ(s->list_hosts().size(), 2u);
  // Spent, and a token for a host that is gone says so.
  EXPECT_EQ(s->register_with_token("re-1", "p", reg, now_).status, registration_status::used_token);
  s->create_registration_token("re-gone", "admin-id", now_ + 1h, "no-such-host");
  EXPECT_EQ(s->register_with_token("re-gone", "p", sample_registration("E9"), now_).status, registration_status::host_gone);
}

TEST_P(store_test, force_unique_registration_makes_a_new_host_for_a_shared_engine_id) {
  auto s = open();
  s->create_registration_token("reg-1", "admin-id", now_ + 1h);
  s->create_registration_token("reg-2", "admin-id", now_ + 1h);
  s->create_registration_token("reg-3", "admin-id", now_ + 1h);
  auto first = s->register_with_token("reg-1", "perm-1", sample_registration("CLONED"), now_);
  ASSERT_EQ(first.status, registration_status::ok);
  auto clone = sample_registration("CLONED");
  clone.force_unique = true;
  clone.hostname_source = "hostname";
  EXPECT_EQ(s->register_with_token("reg-2", "perm-2", clone, now_).status, registration_status::needs_agent_name);
  clone.hostname_source = "agent_name";
  clone.info.hostname = "clone-b";
  auto second = s->register_with_token("reg-2", "perm-2", clone, now_);
  ASSERT_EQ(second.status, registration_status::ok);
  EXPECT_NE(second.host_id, first.host_id);
  EXPECT_NE(second.agent_id, first.agent_id);
  EXPECT_EQ(s->list_hosts().size(), 2u);
  // Both keep working with their own tokens, on the same engine id.
  EXPECT_EQ(s->reconnect_with_permanent_token("perm-1", "", sample_registration("CLONED"), now_).status, registration_status::ok);
  EXPECT_EQ(s->reconnect_with_permanent_token("perm-2", "", clone, now_).status, registration_status::ok);
  // Without the flag the engine is still taken.
  EXPECT_EQ(s->register_with_token("reg-3", "perm-3", sample_registration("CLONED"), now_).status,
            registration_status::engine_taken);
}

TEST_P(store_test, permanent_token_reconnect_refreshes_info) {
  auto s = open();
  s->create_registration_token("reg", "admin-id", now_ + 1h);
  auto first = s->register_with_token("reg", "perm", sample_registration(), now_);
  ASSERT_EQ(first.status, registration_status::ok);
  s->set_agent_status(first.agent_id, "offline", now_);
  auto reg = sample_registration();
  reg.version = "1.1.0";
  reg.proto_version = "2";
  reg.capabilities = R"({"stats":true,"logs":true})";
  reg.info.kernel_version = "6.5.0";
  reg.info.num_cpus = 16;
  auto later = now_ + 10min;
  auto out = s->reconnect_with_permanent_token("perm", "", reg, later);
  ASSERT_EQ(out.status, registration_status::ok);
  EXPECT_EQ(out.agent_id, first.agent_id);
  EXPECT_EQ(out.host_id, first.host_id);
  auto h = s->find_host(first.host_id);
  ASSERT_TRUE(h && h->agent);
  EXPECT_EQ(h->agent->version, "1.1.0");
  EXPECT_EQ(h->agent->proto_version, "2");
  EXPECT_EQ(h->agent->capabilities, R"({"stats":true,"logs":true})");
  EXPECT_EQ(h->agent->status, "online");
  EXPECT_EQ(h->agent->last_seen_at, to_iso8601(later));
  EXPECT_EQ(h->agent->registered_at, to_iso8601(now_));
  EXPECT_EQ(h->info.kernel_version, "6.5.0");
  EXPECT_EQ(h->info.num_cpus, 16);
  EXPECT_EQ(h->updated_at, to_iso8601(later));
  EXPECT_EQ(s->reconnect_with_permanent_token("unknown", "", reg, later).status, registration_status::unknown_token);
}

TEST_P(store_test, permanent_token_from_another_engine_is_refused_and_changes_nothing) {
  auto s = open();
  s->create_registration_token("reg", "admin-id", now_ + 1h);
  auto first = s->register_with_token("reg", "perm", sample_registration("E1"), now_);
  ASSERT_EQ(first.status, registration_status::ok);
  auto before = s->find_host(first.host_id);
  auto intruder = sample_registration("E2");
  intruder.version = "6.6.6";
  intruder.info.os_type = "windows";
  auto out = s->reconnect_with_permanent_token("perm", "", intruder, now_ + 1h);
  EXPECT_EQ(out.status, registration_status::wrong_engine);
  auto after = s->find_host(first.host_id);
  ASSERT_TRUE(before && after && after->agent);
  EXPECT_EQ(after->agent->engine_id, "E1");
  EXPECT_EQ(after->agent->version, before->agent->version);
  EXPECT_EQ(after->agent->last_seen_at, before->agent->last_seen_at);
  EXPECT_EQ(after->info.os_type, before->info.os_type);
  EXPECT_EQ(after->updated_at, before->updated_at);
}

TEST_P(store_test, agent_status_and_mark_all_offline) {
  auto s = open();
  std::vector<std::string> agent_ids;
  for (std::string e : {"E1", "E2"}) agent_ids.push_back(register_engine(*s, e).agent_id);
  auto seen = now_ + 5min;
  s->set_agent_status(agent_ids[0], "degraded", seen);
  for (const auto& h : s->list_hosts()) {
    ASSERT_TRUE(h.agent);
    if (h.agent->id == agent_ids[0]) {
      EXPECT_EQ(h.agent->status, "degraded");
      EXPECT_EQ(h.agent->last_seen_at, to_iso8601(seen));
    } else {
      EXPECT_EQ(h.agent->status, "online");
    }
  }
  s->mark_all_agents_offline(now_);
  for (const auto& h : s->list_hosts()) {
    EXPECT_EQ(h.agent->status, "offline");
    EXPECT_FALSE(h.agent->last_seen_at.empty());  // last_seen_at is kept: it says when it was last there
  }
}

TEST_P(store_test, a_host_is_held_by_one_live_replica_and_freed_when_it_stops_being_seen) {
  auto s = open();
  std::vector<std::string> hosts;
  for (std::string e : {"E1", "E2"}) hosts.push_back(register_engine(*s, e).host_id);
  s->replica_alive("A", "http://10.0.0.1:8080", now_ + 15s);
  s->replica_alive("B", "http://10.0.0.2:8080", now_ + 15s);
  s->hold_host(hosts[0], "A", now_);
  s->hold_host(hosts[1], "A", now_);
  auto holder = s->host_holder(hosts[0], now_);
  ASSERT_TRUE(holder);
  EXPECT_EQ(holder->replica_id, "A");
  EXPECT_EQ(holder->address, "http://10.0.0.1:8080");
  EXPECT_EQ(s->hosts_held(now_).size(), 2u);

  // The agent of the first host reaches B: B holds it, and A letting go afterwards changes nothing.
  s->hold_host(hosts[0], "B", now_ + 1s);
  s->release_host(hosts[0], "A");
  holder = s->host_holder(hosts[0], now_ + 1s);
  ASSERT_TRUE(holder);
  EXPECT_EQ(holder->replica_id, "B");
  EXPECT_EQ(s->hosts_held_by("A"), std::vector<std::string>{hosts[1]});

  // A stops being seen (killed): what it held is held by nobody once its time is up; B's stays.
  s->replica_alive("B", "http://10.0.0.2:8080", now_ + 40s);
  EXPECT_FALSE(s->host_holder(hosts[1], now_ + 20s));
  EXPECT_EQ(s->hosts_held(now_ + 20s), std::vector<std::string>{hosts[0]});
  const auto live = s->live_replicas(now_ + 1s);
  ASSERT_EQ(live.size(), 2u);
  EXPECT_EQ(live[0].replica_id, "A");
  EXPECT_EQ(live[1].replica_id, "B");
  EXPECT_EQ(live[1].address, "http://10.0.0.2:8080");
  const auto later = s->live_replicas(now_ + 20s);
  ASSERT_EQ(later.size(), 1u);
  EXPECT_EQ(later[0].replica_id, "B");
  // B stops cleanly: its holds go with it at once.
  s->replica_gone("B");
  EXPECT_FALSE(s->host_holder(hosts[0], now_ + 2s));
  EXPECT_TRUE(s->hosts_held_by("B").empty());
}

TEST_P(store_test, settings_changes_are_read_in_order_after_a_place_and_dropped_after_an_hour) {
  auto s = open();
  EXPECT_EQ(s->last_settings_change(), 0);
  const auto first = s->note_settings_change("alert_rule", "r1", "A", now_);
  const auto second = s->note_settings_change("health_check", "h1/web", "B", now_ + 1s);
  const auto third = s->note_settings_change("tags", "", "A", now_ + 2s);
  EXPECT_LT(first, second);
  EXPECT_LT(second, third);
  EXPECT_EQ(s->last_settings_change(), third);
  auto after = s->settings_changes_after(first, 10);
  ASSERT_EQ(after.size(), 2u);
  EXPECT_EQ(after[0].seq, second);
  EXPECT_EQ(after[0].what, "health_check");
  EXPECT_EQ(after[0].subject, "h1/web");
  EXPECT_EQ(after[0].by, "B");
  EXPECT_EQ(after[1].what, "tags");
  EXPECT_EQ(s->settings_changes_after(0, 1).size(), 1u);
  EXPECT_TRUE(s->settings_changes_after(third, 10).empty());
  // A change noted more than an hour after the first drops it; the numbers go on.
  const auto later = s->note_settings_change("blackouts", "", "A", now_ + 1h + 500ms);
  EXPECT_GT(later, third);
  after = s->settings_changes_after(0, 10);
  ASSERT_EQ(after.size(), 3u);
  EXPECT_EQ(after[0].seq, second);
}

TEST_P(store_test, a_download_ticket_is_spent_once_and_not_after_it_expires) {
  auto s = open();
  auto other = open();  // another replica on the same database
  s->add_download_ticket("h1", "1.2.0", "amd64", now_ + 10min, now_);
  s->add_download_ticket("h2", "1.2.0", "arm64", now_ + 10min, now_);
  auto spent = other->spend_download_ticket("h1", now_ + 1s);
  ASSERT_TRUE(spent);
  EXPECT_EQ(spent->first, "1.2.0");
  EXPECT_EQ(spent->second, "amd64");
  EXPECT_FALSE(s->spend_download_ticket("h1", now_ + 2s)) << "spent";
  EXPECT_FALSE(s->spend_download_ticket("h2", now_ + 11min)) << "expired";
  EXPECT_FALSE(s->spend_download_ticket("h3", now_));
}

TEST_P(store_test, sql_metacharacters_and_markup_are_stored_verbatim) {
  auto s = open();
  const std::string nasty = "x'); DROP TABLE users; -- \"<script>alert(1)</script>\" % _ \\ ?1";
  user u = s->create_user(nasty, nasty, "viewer");
  auto found = s->find_user_by_name(nasty);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->username, nasty);
  EXPECT_EQ(found->password_hash, nasty);
  EXPECT_FALSE(s->find_user_by_name("x"));
  EXPECT_FALSE(s->find_user_by_name("%"));  // no LIKE matching

  s->create_registration_token("reg", u.id, now_ + 1h);
  auto reg = sample_registration(nasty);
  reg.info.hostname = "<script>alert('host')</script>";
  reg.capabilities = nasty;
  auto out = s->register_with_token("reg", nasty, reg, now_);
  ASSERT_EQ(out.status, registration_status::ok);
  auto h = s->find_host(out.host_id);
  ASSERT_TRUE(h && h->agent);
  EXPECT_EQ(h->name, "<script>alert('host')</script>");
  EXPECT_EQ(h->agent->engine_id, nasty);
  EXPECT_EQ(h->agent->capabilities, nasty);
  EXPECT_EQ(s->reconnect_with_permanent_token(nasty, "", reg, now_).status, registration_status::ok);
  s->append_audit(u.id, nasty, nasty, "ok", now_);

  // An empty string stays an empty string, not NULL.
  user empty = s->create_user("", "", "");
  EXPECT_TRUE(s->find_user_by_name(""));
  EXPECT_EQ(s->count_users(), 2u);
  (void)empty;
}

TEST_P(store_test, concurrent_calls_from_four_threads_succeed) {
  auto s = open();
  user admin = s->create_user("admin", "h", "admin");
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      try {
        for (int i = 0; i < 25; ++i) {
          std::string tag = std::to_string(t) + "-" + std::to_string(i);
          s->create_session("sess-" + tag, admin.id, now_ + 1h);
          if (!s->find_session("sess-" + tag, now_)) ++failures;
          s->create_registration_token("reg-" + tag, admin.id, now_ + 1h);
          auto out = s->register_with_token("reg-" + tag, "perm-" + tag, sample_registration("E-" + tag), now_);
          if (out.status != registration_status::ok) ++failures;
          s->set_agent_status(out.agent_id, "online", now_);
          s->append_audit(admin.id, "test", tag, "ok", now_);
          (void)s->list_hosts();
        }
      } catch (const std::exception&) {
        ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(s->list_hosts().size(), 100u);
}

// ---- migration 2: stats rollups and events ----

stats_rollup_row rollup_row(std::string key, std::int64_t step, std::int64_t t, double cpu) {
  stats_rollup_row r;
  r.key = std::move(key);
  r.step = step;
  r.t = t;
  r.cpu_percent = cpu;
  r.memory_usage = cpu * 10;
  r.memory_limit = cpu * 100;
  r.memory_percent = cpu / 2;
  r.network_rx = 1e12 + cpu;  // counters beyond 32 bits must survive
  r.network_tx = 2e12 + cpu;
  r.disk_read = 3e12 + cpu;
  r.disk_write = 4e12 + cpu;
  r.pids = cpu + 1;
  return r;
}

TEST_P(store_test, rollups_round_trip_every_field_and_load_ordered_by_key_step_time) {
  auto s = open();
  s->save_rollups({rollup_row("ctr:h:b", 60, 120, 1), rollup_row("ctr:h:a", 900, 0, 2),
                   rollup_row("ctr:h:a", 60, 180, 3), rollup_row("ctr:h:a", 60, 60, 4),
                   rollup_row("ctr:h:a", 60, 0, 5)});
  auto rows = s->load_rollups(0);
  ASSERT_EQ(rows.size(), 5u);
  std::vector<std::tuple<std::string, std::int64_t, std::int64_t>> order;
  for (const auto& r : rows) order.emplace_back(r.key, r.step, r.t);
  EXPECT_EQ(order, (std::vector<std::tuple<std::string, std::int64_t, std::int64_t>>{
                       {"ctr:h:a", 60, 0}, {"ctr:h:a", 60, 60}, {"ctr:h:a", 60, 180}, {"ctr:h:a", 900, 0},
                       {"ctr:h:b", 60, 120}}));
  const stats_rollup_row want = rollup_row("ctr:h:a", 60, 180, 3);
  const stats_rollup_row& got = rows[2];
  EXPECT_DOUBLE_EQ(got.cpu_percent, want.cpu_percent);
  EXPECT_DOUBLE_EQ(got.memory_usage, want.memory_usage);
  EXPECT_DOUBLE_EQ(got.memory_limit, want.memory_limit);
  EXPECT_DOUBLE_EQ(got.memory_percent, want.memory_percent);
  EXPECT_DOUBLE_EQ(got.network_rx, want.network_rx);
  EXPECT_DOUBLE_EQ(got.network_tx, want.network_tx);
  EXPECT_DOUBLE_EQ(got.disk_read, want.disk_read);
  EXPECT_DOUBLE_EQ(got.disk_write, want.disk_write);
  EXPECT_DOUBLE_EQ(got.pids, want.pids);

  auto recent = s->load_rollups(120);  // t >= since, inclusive
  ASSERT_EQ(recent.size(), 2u);
  EXPECT_EQ(recent[0].t, 180);
  EXPECT_EQ(recent[1].key, "ctr:h:b");
  EXPECT_TRUE(s->load_rollups(181).empty());
  // The same rows one series at a time, as a rule's preview walks a week of them.
  std::vector<std::pair<std::string, std::size_t>> series;
  s->for_each_rollup_series(0, [&](const std::string& key, const std::vector<stats_rollup_row>& rows_of_key) {
    for (const auto& r : rows_of_key) EXPECT_EQ(r.key, key);
    series.emplace_back(key, rows_of_key.size());
  });
  EXPECT_EQ(series, (std::vector<std::pair<std::string, std::size_t>>{{"ctr:h:a", 4}, {"ctr:h:b", 1}}));
  s->save_rollups({});
  EXPECT_EQ(s->load_rollups(0).size(), 5u);
}

TEST_P(store_test, saving_a_rollup_again_replaces_it) {
  auto s = open();
  s->save_rollups({rollup_row("k", 60, 60, 1)});
  s->save_rollups({rollup_row("k", 60, 60, 7), rollup_row("k", 900, 60, 8)});
  auto rows = s->load_rollups(0);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_DOUBLE_EQ(rows[0].cpu_percent, 7);
  EXPECT_DOUBLE_EQ(rows[0].network_rx, 1e12 + 7);
  EXPECT_DOUBLE_EQ(rows[1].cpu_percent, 8);
}

TEST_P(store_test, prune_rollups_deletes_only_older_rows_of_that_step) {
  auto s = open();
  s->save_rollups({rollup_row("a", 60, 0, 1), rollup_row("a", 60, 60, 1), rollup_row("a", 60, 120, 1),
                   rollup_row("b", 60, 30, 1), rollup_row("a", 900, 0, 1)});
  EXPECT_EQ(s->prune_rollups(60, 120), 3u);  // t < before_t: 120 stays
  auto rows = s->load_rollups(0);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].step, 60);
  EXPECT_EQ(rows[0].t, 120);
  EXPECT_EQ(rows[1].step, 900);
  EXPECT_EQ(s->prune_rollups(60, 120), 0u);
}

event_record event(std::string host, std::string container, std::string action, std::string timestamp) {
  event_record e;
  e.host_id = std::move(host);
  e.container_id = std::move(container);
  e.container_name = "name-" + e.container_id;
  e.image = "nginx:1.25";
  e.type = "container";
  e.action = std::move(action);
  e.attributes = R"({"exitCode":"0"})";
  e.timestamp = std::move(timestamp);
  return e;
}

std::vector<std::string> actions_of(const std::vector<event_record>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.action);
  return out;
}

TEST_P(store_test, events_round_trip_and_list_newest_first) {
  auto s = open();
  // Appended out of time order; the two at 00:02 keep their append order as the tie-break.
  s->append_events({event("h1", "c1", "create", "2026-01-01T00:01:00Z"),
                    event("h1", "c1", "die", "2026-01-01T00:03:00Z"),
                    event("h1", "c1", "start", "2026-01-01T00:02:00Z"),
                    event("h1", "c1", "attach", "2026-01-01T00:02:00Z")});
  auto events = s->list_events({});
  EXPECT_EQ(actions_of(events), (std::vector<std::string>{"die", "attach", "start", "create"}));
  const event_record& e = events[0];
  EXPECT_GT(e.id, 0);
  EXPECT_EQ(e.host_id, "h1");
  EXPECT_EQ(e.container_id, "c1");
  EXPECT_EQ(e.container_name, "name-c1");
  EXPECT_EQ(e.image, "nginx:1.25");
  EXPECT_EQ(e.type, "container");
  EXPECT_EQ(e.attributes, R"({"exitCode":"0"})");
  EXPECT_EQ(e.timestamp, "2026-01-01T00:03:00Z");
  EXPECT_GT(events[1].id, events[2].id);
}

TEST_P(store_test, events_filter_by_host_container_and_time) {
  auto s = open();
  s->append_events({event("h1", "c1", "a", "2026-01-01T00:01:00Z"), event("h1", "c2", "b", "2026-01-01T00:02:00Z"),
                    event("h2", "c1", "c", "2026-01-01T00:03:00Z"), event("h1", "c1", "d", "2026-01-01T00:04:00Z"),
                    event("h2", "c3", "e", "2026-01-01T00:05:00Z")});
  event_filter f;
  f.host_id = "h1";
  EXPECT_EQ(actions_of(s->list_events(f)), (std::vector<std::string>{"d", "b", "a"}));
  f.container_id = "c1";
  EXPECT_EQ(actions_of(s->list_events(f)), (std::vector<std::string>{"d", "a"}));
  f = {};
  f.container_id = "c1";
  EXPECT_EQ(actions_of(s->list_events(f)), (std::vector<std::string>{"d", "c", "a"}));
  f = {};
  f.since = "2026-01-01T00:02:00Z";  // inclusive at both ends
  f.until = "2026-01-01T00:04:00Z";
  EXPECT_EQ(actions_of(s->list_events(f)), (std::vector<std::string>{"d", "c", "b"}));
  f.until.clear();
  EXPECT_EQ(actions_of(s->list_events(f)), (std::vector<std::string>{"e", "d", "c", "b"}));
  f = {};
  f.until = "2026-01-01T00:01:59Z";
  EXPECT_EQ(actions_of(s->list_events(f)), (std::vector<std::string>{"a"}));
  f = {};
  f.host_id = "h2";
  f.since = "2026-01-01T00:04:00Z";
  EXPECT_EQ(actions_of(s->list_events(f)), (std::vector<std::string>{"e"}));
  f = {};
  f.host_id = "h3";
  EXPECT_TRUE(s->list_events(f).empty());
  f = {};
  f.limit = 2;
  EXPECT_EQ(actions_of(s->list_events(f)), (std::vector<std::string>{"e", "d"}));  // the newest two
  auto update = event("h1", "c1", "completed", "2026-01-01T00:06:00Z");
  update.type = "update";
  s->append_events({update});
  f = {};
  f.type = "update";
  EXPECT_EQ(actions_of(s->list_events(f)), (std::vector<std::string>{"completed"}));
  f.type = "container";
  EXPECT_EQ(actions_of(s->list_events(f)).size(), 5u);
}

TEST_P(store_test, event_times_in_other_forms_compare_as_times) {
  auto s = open();
  // Docker writes fractions and offsets; as text ".900Z" would sort before "Z" of the same second.
  s->append_events({event("h", "c", "frac", "2026-01-01T00:00:10.900Z"),
                    event("h", "c", "offset", "2026-01-01T02:00:20+02:00")});
  auto events = s->list_events({});
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].action, "offset");
  EXPECT_EQ(events[0].timestamp, "2026-01-01T00:00:20Z");
  EXPECT_EQ(events[1].timestamp, "2026-01-01T00:00:10Z");
  event_filter f;
  f.since = "2026-01-01T00:00:10.000Z";
  f.until = "2026-01-01T00:00:10.500Z";
  EXPECT_EQ(actions_of(s->list_events(f)), (std::vector<std::string>{"frac"}));
}

TEST_P(store_test, event_limit_is_capped_at_1000) {
  auto s = open();
  std::vector<event_record> many;
  for (int i = 0; i < 1005; ++i) {
    char ts[32];
    std::snprintf(ts, sizeof ts, "2026-01-01T%02d:%02d:%02dZ", i / 3600, (i / 60) % 60, i % 60);
    many.push_back(event("h", "c", std::to_string(i), ts));
  }
  s->append_events(many);
  event_filter f;
  EXPECT_EQ(s->list_events(f).size(), 100u);  // the default
  f.limit = 5000;
  auto capped = s->list_events(f);
  ASSERT_EQ(capped.size(), max_event_limit);
  EXPECT_EQ(capped.front().action, "1004");
  EXPECT_EQ(capped.back().action, "5");
}

TEST_P(store_test, prune_events_deletes_older_than_the_timestamp) {
  auto s = open();
  s->append_events({event("h", "c", "a", "2026-01-01T00:01:00Z"), event("h", "c", "b", "2026-01-01T00:02:00Z"),
                    event("h", "c", "c", "2026-01-01T00:03:00Z")});
  EXPECT_EQ(s->prune_events("2026-01-01T00:02:00Z"), 1u);
  EXPECT_EQ(actions_of(s->list_events({})), (std::vector<std::string>{"c", "b"}));
  EXPECT_EQ(s->prune_events("2026-01-01T00:02:00Z"), 0u);
}

TEST_P(store_test, rollup_keys_and_event_text_with_sql_metacharacters_are_stored_verbatim) {
  auto s = open();
  const std::string nasty = "x'); DROP TABLE events; -- \"<script>alert(1)</script>\" % _ \\ ?1";
  s->save_rollups({rollup_row(nasty, 60, 0, 1)});
  auto rows = s->load_rollups(0);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].key, nasty);

  event_record e = event(nasty, nasty, nasty, "2026-01-01T00:00:00Z");
  e.container_name = nasty;
  e.image = nasty;
  e.type = nasty;
  e.attributes = R"({"name":")" + nasty + R"("})";
  s->append_events({e, event("other", "c", "start", "2026-01-01T00:00:00Z")});
  event_filter f;
  f.host_id = nasty;
  f.container_id = nasty;
  auto events = s->list_events(f);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].host_id, nasty);
  EXPECT_EQ(events[0].container_id, nasty);
  EXPECT_EQ(events[0].container_name, nasty);
  EXPECT_EQ(events[0].image, nasty);
  EXPECT_EQ(events[0].type, nasty);
  EXPECT_EQ(events[0].action, nasty);
  EXPECT_EQ(events[0].attributes, e.attributes);
  f.host_id = "%";  // no LIKE matching
  f.container_id.clear();
  EXPECT_TRUE(s->list_events(f).empty());
  f.since = nasty;  // not a time: compared as given, matches nothing, breaks nothing
  f.host_id.clear();
  EXPECT_TRUE(s->list_events(f).empty());
  EXPECT_EQ(s->list_events({}).size(), 2u);
}


TEST_P(store_test, permanent_token_rotates_and_the_old_one_retires_only_when_the_next_is_used) {
  auto s = open();
  s->create_registration_token("reg", "admin-id", now_ + 15min);
  auto reg = sample_registration();
  ASSERT_EQ(s->register_with_token("reg", "t0", reg, now_).status, registration_status::ok);
  // Reconnect with t0: t1 is issued; the agent crashes before storing it and comes back with t0.
  EXPECT_EQ(s->reconnect_with_permanent_token("t0", "t1", reg, now_).status, registration_status::ok);
  EXPECT_EQ(s->reconnect_with_permanent_token("t0", "t2", reg, now_).status, registration_status::ok);
  // t1 was replaced by t2 before anyone used it.
  EXPECT_EQ(s->reconnect_with_permanent_token("t1", "x", reg, now_).status, registration_status::unknown_token);
  // The agent stored t2 and uses it: t0 retires, t3 is next.
  EXPECT_EQ(s->reconnect_with_permanent_token("t2", "t3", reg, now_).status, registration_status::ok);
  EXPECT_EQ(s->reconnect_with_permanent_token("t0", "x", reg, now_).status, registration_status::unknown_token);
  // A stolen current token is still bound to its engine.
  auto intruder = reg;
  intruder.engine_id = "OTHER";
  EXPECT_EQ(s->reconnect_with_permanent_token("t2", "x", intruder, now_).status, registration_status::wrong_engine);
  EXPECT_EQ(s->reconnect_with_permanent_token("t3", "t4", reg, now_).status, registration_status::ok);
}

TEST_P(store_test, revoked_agent_stays_revoked_until_an_admin_mints_a_reattach_token) {
  auto s = open();
  s->create_registration_token("reg", "admin-id", now_ + 15min);
  auto reg = sample_registration();
  auto out = s->register_with_token("reg", "t0", reg, now_);
  ASSERT_EQ(s->reconnect_with_permanent_token("t0", "t1", reg, now_).status, registration_status::ok);
  EXPECT_TRUE(s->revoke_agent(out.host_id, now_));
  EXPECT_FALSE(s->revoke_agent("no-such-host", now_));
  EXPECT_EQ(s->reconnect_with_permanent_token("t0", "x", reg, now_).status, registration_status::revoked);
  EXPECT_EQ(s->reconnect_with_permanent_token("t1", "x", reg, now_).status, registration_status::unknown_token);
  auto host = s->find_host(out.host_id);
  ASSERT_TRUE(host && host->agent);
  EXPECT_EQ(host->agent->revoked_at, to_iso8601(now_));
  EXPECT_EQ(host->agent->status, "offline");
  // A plain registration token does not lift the revocation.
  s->create_registration_token("reg2", "admin-id", now_ + 15min);
  EXPECT_EQ(s->register_with_token("reg2", "fresh", reg, now_).status, registration_status::revoked);
  EXPECT_EQ(s->find_host(out.host_id)->agent->revoked_at, to_iso8601(now_));
  s->create_registration_token("re", "admin-id", now_ + 15min, out.host_id);
  ASSERT_EQ(s->register_with_token("re", "fresh", reg, now_).status, registration_status::ok);
  EXPECT_EQ(s->reconnect_with_permanent_token("fresh", "y", reg, now_).status, registration_status::ok);
  EXPECT_EQ(s->find_host(out.host_id)->agent->revoked_at, "");
}

TEST_P(store_test, agents_offline_past_the_retention_are_removed_with_their_hosts) {
  auto s = open();
  auto reg = sample_registration();
  s->create_registration_token("r1", "admin-id", now_ + 15min);
  s->create_registration_token("r2", "admin-id", now_ + 15min);
  s->create_registration_token("r3", "admin-id", now_ + 15min);
  auto old_one = s->register_with_token("r1", "p1", reg, now_ - 40 * 24h);
  reg.engine_id = "ENGINE-2";
  reg.info.hostname = "recent";
  auto recent = s->register_with_token("r2", "p2", reg, now_ - 40 * 24h);
  reg.engine_id = "ENGINE-3";
  reg.info.hostname = "online";
  auto online = s->register_with_token("r3", "p3", reg, now_ - 40 * 24h);
  s->set_agent_status(old_one.agent_id, "offline", now_ - 31 * 24h);
  s->set_agent_status(recent.agent_id, "offline", now_ - 29 * 24h);
  s->set_agent_status(online.agent_id, "online", now_ - 40 * 24h);  // connected now, however long ago it was seen
  auto removed = s->remove_agents_offline_since(now_ - 30 * 24h);
  ASSERT_EQ(removed.size(), 1u);
  EXPECT_EQ(removed[0].agent_id, old_one.agent_id);
  EXPECT_EQ(removed[0].host_id, old_one.host_id);
  EXPECT_EQ(removed[0].host_name, "node-a");
  EXPECT_EQ(removed[0].last_seen_at, to_iso8601(now_ - 31 * 24h));
  EXPECT_FALSE(s->find_host(old_one.host_id));
  EXPECT_TRUE(s->find_host(recent.host_id));
  EXPECT_TRUE(s->find_host(online.host_id));
  EXPECT_EQ(s->reconnect_with_permanent_token("p1", "x", sample_registration(), now_).status,
            registration_status::unknown_token);
  EXPECT_TRUE(s->remove_agents_offline_since(now_ - 30 * 24h).empty());
}

TEST_P(store_test, api_keys_are_listed_revoked_by_their_owner_and_expire) {
  auto s = open();
  auto alice = s->create_user("alice", "h", "admin");
  auto bob = s->create_user("bob", "h", "viewer");
  auto a = s->create_api_key("a", "hash-a", alice.id, "operator", now_ + 1h);
  auto b = s->create_api_key("b", "hash-b", bob.id, "viewer", std::nullopt);
  EXPECT_EQ(s->list_api_keys("").size(), 2u);
  auto bobs = s->list_api_keys(bob.id);
  ASSERT_EQ(bobs.size(), 1u);
  EXPECT_EQ(bobs[0].id, b);
  EXPECT_EQ(bobs[0].username, "bob");
  EXPECT_EQ(bobs[0].expires_at, "");
  EXPECT_EQ(s->list_api_keys(alice.id)[0].expires_at, to_iso8601(now_ + 1h));
  EXPECT_FALSE(s->revoke_api_key(a, bob.id));  // not bob's
  EXPECT_TRUE(s->find_api_key("hash-a"));
  EXPECT_TRUE(s->revoke_api_key(a, alice.id));
  EXPECT_FALSE(s->find_api_key("hash-a"));
  EXPECT_TRUE(s->list_api_keys(alice.id)[0].revoked);
  EXPECT_TRUE(s->revoke_api_key(b, ""));  // an admin may revoke any
  EXPECT_FALSE(s->find_api_key("hash-b"));
  s->create_api_key("c", "hash-c", alice.id, "viewer", now_ - 1s);
  EXPECT_FALSE(s->find_api_key("hash-c"));
}

TEST_P(store_test, every_session_of_a_user_can_be_ended_at_once) {
  auto s = open();
  auto alice = s->create_user("alice", "h", "admin");
  auto bob = s->create_user("bob", "h", "viewer");
  s->create_session("s1", alice.id, now_ + 1h);
  s->create_session("s2", alice.id, now_ + 1h);
  s->create_session("s3", bob.id, now_ + 1h);
  EXPECT_EQ(s->delete_sessions_of_user(alice.id, "s2"), 1u);  // all but the one that asks
  EXPECT_FALSE(s->find_session("s1", now_));
  EXPECT_TRUE(s->find_session("s2", now_));
  EXPECT_EQ(s->delete_sessions_of_user(alice.id), 1u);
  EXPECT_FALSE(s->find_session("s2", now_));
  EXPECT_TRUE(s->find_session("s3", now_));
}

TEST_P(store_test, users_are_disabled_demoted_and_deleted_but_never_the_last_admin) {
  auto s = open();
  auto alice = s->create_user("alice", "h", "admin");
  auto bob = s->create_user("bob", "h", "operator");
  s->create_session("bob-s", bob.id, now_ + 1h);
  s->create_api_key("k", "bob-key", bob.id, "operator", std::nullopt);

  EXPECT_EQ(s->update_user(alice.id, std::string("viewer"), std::nullopt), user_change::last_admin);
  EXPECT_EQ(s->update_user(alice.id, std::nullopt, true), user_change::last_admin);
  EXPECT_EQ(s->delete_user(alice.id), user_change::last_admin);
  EXPECT_EQ(s->find_user(alice.id)->role, "admin");
  EXPECT_EQ(s->update_user("nobody", std::nullopt, true), user_change::not_found);

  // Disabled: the sessions are gone and the key stops working, but both come back only by new ones.
  ASSERT_EQ(s->update_user(bob.id, std::nullopt, true), user_change::ok);
  EXPECT_TRUE(s->find_user(bob.id)->disabled);
  EXPECT_FALSE(s->find_session("bob-s", now_));
  EXPECT_FALSE(s->find_api_key("bob-key"));
  ASSERT_EQ(s->update_user(bob.id, std::nullopt, false), user_change::ok);
  EXPECT_FALSE(s->find_session("bob-s", now_)) << "enabling does not bring ended sessions back";
  EXPECT_TRUE(s->find_api_key("bob-key"));

  // With a second admin, the first may step down; then the second is the last.
  ASSERT_EQ(s->update_user(bob.id, std::string("admin"), std::nullopt), user_change::ok);
  ASSERT_EQ(s->update_user(alice.id, std::string("viewer"), std::nullopt), user_change::ok);
  EXPECT_EQ(s->delete_user(bob.id), user_change::last_admin);
  ASSERT_EQ(s->delete_user(alice.id), user_change::ok);
  EXPECT_FALSE(s->find_user(alice.id));
  EXPECT_EQ(s->list_users().size(), 1u);

  s->set_password_hash(bob.id, "new-hash");
  EXPECT_EQ(s->find_user(bob.id)->password_hash, "new-hash");
}

TEST_P(store_test, keys_never_outrank_their_user_and_die_with_the_key_that_made_them) {
  auto s = open();
  auto admin = s->create_user("root", "h", "admin");
  auto carol = s->create_user("carol", "h", "admin");
  auto parent = s->create_api_key("parent", "k-parent", carol.id, "admin", std::nullopt);
  auto child = s->create_api_key("child", "k-child", carol.id, "operator", std::nullopt, parent);
  s->create_api_key("grandchild", "k-grand", carol.id, "viewer", std::nullopt, child);
  s->create_api_key("sibling", "k-sibling", carol.id, "viewer", std::nullopt);
  auto p = s->find_api_key("k-parent");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->role, "admin");
  EXPECT_EQ(p->api_key_id, parent);

  // Demoting the user takes every key of theirs down to the new role.
  ASSERT_EQ(s->update_user(carol.id, std::string("viewer"), std::nullopt), user_change::ok);
  EXPECT_EQ(s->find_api_key("k-parent")->role, "viewer");
  EXPECT_EQ(s->find_api_key("k-child")->role, "viewer");

  // Revoking a key revokes what it made, however deep, and nothing else.
  ASSERT_TRUE(s->revoke_api_key(parent, ""));
  EXPECT_FALSE(s->find_api_key("k-child"));
  EXPECT_FALSE(s->find_api_key("k-grand"));
  EXPECT_TRUE(s->find_api_key("k-sibling"));
  EXPECT_EQ(s->revoke_api_keys_of_user(carol.id), 1u);
  EXPECT_FALSE(s->find_api_key("k-sibling"));
  (void)admin;
}

TEST_P(store_test, audit_log_lists_newest_first_with_since_and_limit) {
  auto s = open();
  auto alice = s->create_user("alice", "h", "admin");
  s->append_audit(alice.id, "stop", "h/c1", "ok", now_ - 2h);
  s->append_audit(alice.id, "start", "h/c1", "ok", now_ - 1h);
  s->append_audit("system", "remove_offline_agent", "h2", "offline since x", now_);
  auto all = s->list_audit("", 100);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].action, "remove_offline_agent");
  EXPECT_EQ(all[0].username, "");  // the server itself
  EXPECT_EQ(all[1].username, "alice");
  EXPECT_EQ(all[2].action, "stop");
  EXPECT_EQ(s->list_audit(to_iso8601(now_ - 90min), 100).size(), 2u);
  EXPECT_EQ(s->list_audit("", 1).size(), 1u);
}

// ---- migration 4: agent builds ----

TEST_P(store_test, agent_builds_are_kept_per_version_and_arch_once_and_listed_newest_first) {
  auto s = open();
  const agent_build_record first{"0.2.0", "amd64", "aa", "sig-a", 100, "2026-01-01T00:00:00Z", "u1"};
  const agent_build_record second{"0.3.0", "amd64", "bb", "sig-b", 200, "2026-01-02T00:00:00Z", "u1"};
  const agent_build_record arm{"0.3.0", "arm64", "cc", "sig-c", 300, "2026-01-02T00:00:00Z", "u1"};
  EXPECT_TRUE(s->add_agent_build(first));
  EXPECT_TRUE(s->add_agent_build(second));
  EXPECT_TRUE(s->add_agent_build(arm));
  auto again = first;
  again.sha256 = "ff";
  EXPECT_FALSE(s->add_agent_build(again)) << "a version is never replaced in place";

  auto found = s->find_agent_build("0.2.0", "amd64");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->sha256, "aa");
  EXPECT_EQ(found->signature, "sig-a");
  EXPECT_EQ(found->size, 100);
  EXPECT_EQ(found->created_at, "2026-01-01T00:00:00Z");
  EXPECT_EQ(found->created_by_user_id, "u1");
  EXPECT_FALSE(s->find_agent_build("0.2.0", "arm64"));

  auto all = s->list_agent_builds();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].version, "0.3.0");
  EXPECT_EQ(all[2].version, "0.2.0");

  EXPECT_TRUE(s->delete_agent_build("0.3.0", "arm64"));
  EXPECT_FALSE(s->delete_agent_build("0.3.0", "arm64"));
  EXPECT_EQ(s->list_agent_builds().size(), 2u);
}

TEST_P(store_test, a_reconnect_records_the_arch_the_agent_now_reports) {
  auto s = open();
  s->create_registration_token("reg", "admin-id", now_ + 15min);
  auto reg = sample_registration();
  ASSERT_EQ(s->register_with_token("reg", "perm", reg, now_).status, registration_status::ok);
  reg.arch = "arm64";
  auto out = s->reconnect_with_permanent_token("perm", "next", reg, now_);
  ASSERT_EQ(out.status, registration_status::ok);
  EXPECT_EQ(s->find_host(out.host_id)->agent->arch, "arm64");
}

// ---- migration 7: alert rules and alerts ----

TEST_P(store_test, alert_rules_are_saved_replaced_and_deleted) {
  auto s = open();
  s->save_alert_rule({"r1", "web stopped", true, R"({"kind":"container_stopped"})", "2026-12-01T00:00:00Z", "2026-12-01T00:00:00Z"});
  s->save_alert_rule({"r1", "web stopped!", false, R"({"kind":"container_started"})", "2099-01-01T00:00:00Z", "2026-12-02T00:00:00Z"});
  auto rules = s->list_alert_rules();
  ASSERT_EQ(rules.size(), 1u);
  EXPECT_EQ(rules[0].name, "web stopped!");
  EXPECT_FALSE(rules[0].enabled);
  EXPECT_EQ(rules[0].definition, R"({"kind":"container_started"})");
  EXPECT_EQ(rules[0].created_at, "2026-12-01T00:00:00Z") << "a replaced rule keeps when it was made";
  EXPECT_EQ(rules[0].updated_at, "2026-12-02T00:00:00Z");
  EXPECT_TRUE(s->delete_alert_rule("r1"));
  EXPECT_FALSE(s->delete_alert_rule("r1"));
  EXPECT_FALSE(s->find_alert_rule("r1"));
}

TEST_P(store_test, an_alert_is_one_row_from_firing_to_resolved) {
  auto s = open();
  alert_record a;
  a.id = "a1";
  a.rule_id = "r1";
  a.host_id = "h1";
  a.container_id = "c1";
  a.target_name = "web";
  a.kind = "container_stopped";
  a.severity = "error";
  a.state = "firing";
  a.fired_at = "2026-12-02T10:00:00Z";
  a.notified = true;
  auto b = a;
  b.id = "a2";
  b.host_id = "h2";
  b.fired_at = "2026-12-02T11:00:00Z";
  s->save_alerts({a, b}, {});
  a.state = "resolved";
  a.resolved_at = "2026-12-02T10:05:00Z";
  s->save_alerts({a}, {});
  EXPECT_EQ(s->list_alerts({}).size(), 2u);
  auto firing = s->list_alerts({"firing", "", 100});
  ASSERT_EQ(firing.size(), 1u);
  EXPECT_EQ(firing[0].id, "a2");
  auto resolved = s->find_alert("a1");
  ASSERT_TRUE(resolved);
  EXPECT_EQ(resolved->state, "resolved");
  EXPECT_EQ(resolved->resolved_at, "2026-12-02T10:05:00Z");
  EXPECT_TRUE(resolved->notified);
  EXPECT_EQ(s->list_alerts({"", "h2", 100}).size(), 1u);
  EXPECT_EQ(s->list_alerts({"", "", 1})[0].id, "a2") << "newest first";
}

// ---- migration 9: blackout windows ----

TEST_P(store_test, blackouts_are_kept_by_name_replaced_by_id_and_deleted) {
  auto s = open();
  s->save_blackout({"b1", "nightly", R"({"start":"22:00"})", "2026-12-01T00:00:00Z"});
  s->save_blackout({"b2", "backup", R"({"start":"02:00"})", "2026-12-01T00:00:00Z"});
  s->save_blackout({"b1", "nights", R"({"start":"23:00"})", "2026-12-09T00:00:00Z"});
  auto all = s->list_blackouts();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].id, "b2") << "by name";
  EXPECT_EQ(all[1].name, "nights");
  EXPECT_EQ(all[1].definition, R"({"start":"23:00"})");
  EXPECT_EQ(all[1].created_at, "2026-12-01T00:00:00Z");
  EXPECT_TRUE(s->delete_blackout("b1"));
  EXPECT_FALSE(s->delete_blackout("b1"));
  EXPECT_EQ(s->list_blackouts().size(), 1u);
}

// ---- migration 8: notification channels and the outbox ----

TEST_P(store_test, a_channel_is_kept_sealed_replaced_by_id_and_deleted_with_its_pending_messages) {
  auto s = open();
  s->save_channel({"c1", "ops", "webhook", "SEALED-1", true, "2026-12-01T00:00:00Z", "2026-12-01T00:00:00Z"});
  s->save_channel({"c2", "alpha", "ntfy", "SEALED-2", false, "2026-12-01T00:00:00Z", "2026-12-01T00:00:00Z"});
  s->save_channel({"c1", "ops chat", "slack", "SEALED-3", true, "2026-12-09T00:00:00Z", "2026-12-02T00:00:00Z"});
  auto channels = s->list_channels();
  ASSERT_EQ(channels.size(), 2u);
  EXPECT_EQ(channels[0].id, "c2") << "by name";
  EXPECT_FALSE(channels[0].enabled);
  auto c1 = s->find_channel("c1");
  ASSERT_TRUE(c1);
  EXPECT_EQ(c1->name, "ops chat");
  EXPECT_EQ(c1->type, "slack");
  EXPECT_EQ(c1->sealed_config, "SEALED-3");
  EXPECT_EQ(c1->created_at, "2026-12-01T00:00:00Z") << "a replaced channel keeps when it was made";

  notification_record n;
  n.alert_id = "a1";
  n.channel_id = "c1";
  n.message = R"({"title":"x"})";
  n.created_at = "2026-12-02T10:00:00Z";
  s->save_alerts({}, {n, n});
  auto sent = s->claim_due_notifications(0, 10, "me", 60000)[0];
  sent.state = "sent";
  s->record_attempt(sent);
  EXPECT_TRUE(s->delete_channel("c1"));
  EXPECT_FALSE(s->delete_channel("c1"));
  EXPECT_FALSE(s->find_channel("c1"));
  EXPECT_TRUE(s->claim_due_notifications(0, 10, "me", 60000).empty()) << "a deleted channel's pending messages go with it";
  ASSERT_EQ(s->list_notifications({}).size(), 1u) << "what was sent stays as history";
  EXPECT_EQ(s->list_notifications({})[0].state, "sent");
}

TEST_P(store_test, a_due_notification_is_claimed_by_one_live_server_until_its_claim_runs_out) {
  auto s = open();
  notification_record n;
  n.alert_id = "a1";
  n.channel_id = "c1";
  n.message = R"({"title":"x"})";
  n.next_attempt_ms = 1000;
  n.created_at = "2026-12-02T10:00:00Z";
  s->save_alerts({}, {n, n, n});
  const auto at = [](std::int64_t ms) { return sys_clock::time_point(std::chrono::milliseconds(ms)); };
  s->replica_alive("A", "http://a:1", at(100'000));
  s->replica_alive("B", "http://b:1", at(100'000));
  // Two live servers on one database ask at once: each row goes to one of them.
  std::vector<notification_record> first, second;
  std::thread other([&] { second = s->claim_due_notifications(2000, 10, "B", 62000); });
  first = s->claim_due_notifications(2000, 10, "A", 62000);
  other.join();
  EXPECT_EQ(first.size() + second.size(), 3u) << "every due row claimed once, none twice";
  EXPECT_TRUE(s->claim_due_notifications(61999, 10, "A", 121999).empty()) << "claimed rows wait for their sender";
  EXPECT_TRUE(s->claim_due_notifications(61999, 10, "B", 121999).empty());
  // A sender that died leaves them to whoever asks after the claim.
  EXPECT_EQ(s->claim_due_notifications(62000, 10, "B", 122000).size(), 3u);
  // A claim by a server that is no live replica (the previous run of a single server) holds nothing.
  EXPECT_EQ(s->claim_due_notifications(63000, 10, "single-server-run-2", 123000).size(), 0u) << "B is alive";
  EXPECT_EQ(s->claim_due_notifications(100'001, 10, "single-server-run-2", 160000).size(), 3u) << "B is gone";
  // A recorded attempt ends the claim: a retry is due at its own time, for anyone.
  auto claimed = s->claim_due_notifications(100'002, 10, "single-server-run-2", 160000);
  ASSERT_TRUE(claimed.empty()) << "its own claims hold against itself";
  auto again = s->claim_due_notifications(100'002, 10, "single-server-run-3", 160000);
  ASSERT_EQ(again.size(), 3u) << "the previous run's claims hold nothing";
  again[0].next_attempt_ms = 150'000;
  s->record_attempt(again[0]);
  EXPECT_TRUE(s->claim_due_notifications(149'999, 10, "single-server-run-3", 200000).empty());
  EXPECT_EQ(s->claim_due_notifications(150'000, 10, "single-server-run-3", 200000).size(), 1u);
}

TEST_P(store_test, notifications_are_stored_with_their_alert_and_come_due_in_order) {
  auto s = open();
  alert_record a;
  a.id = "a1";
  a.rule_id = "r1";
  a.host_id = "h1";
  a.kind = "host_down";
  a.severity = "critical";
  a.state = "firing";
  a.fired_at = "2026-12-02T10:00:00Z";
  notification_record n;
  n.alert_id = "a1";
  n.channel_id = "c1";
  n.message = R"({"title":"first"})";
  n.next_attempt_ms = 1000;
  n.created_at = "2026-12-02T10:00:00Z";
  n.group_key = "h1";
  auto later = n;
  later.channel_id = "c2";
  later.message = R"({"title":"second"})";
  later.next_attempt_ms = 5000;
  s->save_alerts({a}, {later, n});
  EXPECT_TRUE(s->find_alert("a1"));
  EXPECT_EQ(s->next_notification_due(), 1000);
  EXPECT_TRUE(s->claim_due_notifications(999, 10, "me", 60999).empty());
  auto due = s->claim_due_notifications(5000, 10, "me", 65000);
  ASSERT_EQ(due.size(), 2u);
  EXPECT_EQ(due[0].message, R"({"title":"first"})") << "the earliest due first";
  EXPECT_EQ(due[0].state, "pending");
  EXPECT_EQ(due[0].attempts, 0);
  EXPECT_EQ(due[0].group_key, "h1");

  auto retry = due[0];
  retry.attempts = 1;
  retry.next_attempt_ms = 9000;
  retry.last_error = "HTTP 500";
  s->record_attempt(retry);
  auto failed = due[1];
  failed.state = "failed";
  failed.attempts = 8;
  failed.last_error = "HTTP 404";
  s->record_attempt(failed);
  EXPECT_EQ(s->next_notification_due(), 9000);
  EXPECT_TRUE(s->claim_due_notifications(8999, 10, "me", 68999).empty()) << "a failed message is never due again";
  auto stored = s->list_notifications({"pending", "a1", 10});
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].attempts, 1);
  EXPECT_EQ(stored[0].last_error, "HTTP 500");
  EXPECT_EQ(s->list_notifications({"failed", "", 10}).at(0).last_error, "HTTP 404");
  failed = stored[0];
  failed.state = "sent";
  failed.sent_at = "2026-12-02T10:00:09Z";
  s->record_attempt(failed);
  EXPECT_FALSE(s->next_notification_due()) << "nothing pending";
}

// ---- migration 11: tags ----

TEST_P(store_test, tags_are_replaced_per_host_or_container_and_go_with_their_host) {
  auto s = open();
  s->create_registration_token("r1", "admin-id", now_ + 15min);
  auto host = s->register_with_token("r1", "p1", sample_registration(), now_);
  s->set_tags(host.host_id, "", {"prod", "eu"});
  s->set_tags(host.host_id, "web", {"frontend"});
  s->set_tags(host.host_id, "web", {"frontend", "team-a"});  // replaces
  s->set_tags(host.host_id, "db", {});
  auto all = s->list_tags();
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[0].container_name, "");
  EXPECT_EQ(all[0].tag, "eu");
  EXPECT_EQ(all[2].container_name, "web");
  EXPECT_EQ(all[3].tag, "team-a");
  EXPECT_THROW(s->set_tags("no-such-host", "", {"x"}), store_error) << "a tag on a host that is not there";
  s->set_agent_status(host.agent_id, "offline", now_ - 40 * 24h);
  ASSERT_EQ(s->remove_agents_offline_since(now_ - 30 * 24h).size(), 1u);
  EXPECT_TRUE(s->list_tags().empty()) << "the removed host's tags went with it";
}

// ---- migration 12: health checks ----

TEST_P(store_test, health_checks_are_kept_by_host_and_name_replaced_removed_and_go_with_their_host) {
  auto s = open();
  s->create_registration_token("r1", "admin-id", now_ + 15min);
  auto host = s->register_with_token("r1", "p1", sample_registration(), now_);
  s->save_health_check({host.host_id, "web", R"({"url":"http://{container}/"})", "", "2026-12-03T00:00:00Z"});
  s->save_health_check({host.host_id, "db", R"({"url":"tcp://{container}:5432"})", "v1:sealed", "2026-12-03T00:00:00Z"});
  s->save_health_check({host.host_id, "web", R"({"url":"http://{container}/health"})", "", "2026-12-03T00:01:00Z"});  // replaces
  auto all = s->list_health_checks();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].container_name, "db");
  EXPECT_EQ(all[0].secrets_sealed, "v1:sealed");
  EXPECT_EQ(all[1].settings_json, R"({"url":"http://{container}/health"})");
  EXPECT_TRUE(s->delete_health_check(host.host_id, "db"));
  EXPECT_FALSE(s->delete_health_check(host.host_id, "db")) << "already gone";
  EXPECT_THROW(s->save_health_check({"no-such-host", "x", "{}", "", ""}), store_error);
  s->set_agent_status(host.agent_id, "offline", now_ - 40 * 24h);
  ASSERT_EQ(s->remove_agents_offline_since(now_ - 30 * 24h).size(), 1u);
  EXPECT_TRUE(s->list_health_checks().empty()) << "the removed host's checks went with it";
}

INSTANTIATE_TEST_SUITE_P(each_database, store_test, ::testing::Values(backend::sqlite, backend::postgres),
                         [](const auto& param_info) { return std::string(backend_name(param_info.param)); });

}  // namespace

}  // namespace dockmon::store
