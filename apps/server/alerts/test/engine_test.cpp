// The engine on Docker's events as telemetry keeps them, and on agents coming and going, with the clock
// in the test's hands.
#include "alerts/engine.hpp"

#include <gtest/gtest.h>

using namespace dockmon;
using namespace dockmon::server::alerts;
using namespace std::chrono_literals;

namespace {

const time_point t0 = time_point(std::chrono::hours(24 * 20000));
const std::string web_id(64, 'a');

rule make_rule(const std::string& id, const std::string& definition) {
  auto parsed = parse_rule(id, "rule " + id, json::parse(definition));
  if (auto* error = std::get_if<std::string>(&parsed)) throw std::runtime_error(*error);
  return std::get<rule>(parsed);
}

store::event_record event(const std::string& action, const std::string& name = "web-1", const std::string& exit_code = "137") {
  store::event_record e;
  e.host_id = "h1";
  e.container_id = name == "web-1" ? web_id : std::string(64, 'b');
  e.container_name = name;
  e.type = "container";
  e.action = action;
  e.attributes = R"({"name":")" + name + R"(","exitCode":")" + exit_code + R"(","tier":"front"})";
  return e;
}

}  // namespace

TEST(alert_engine, a_killed_container_fires_once_and_its_start_resolves_it) {
  engine e;
  e.set_rule(make_rule("r1", R"({"kind":"container_stopped","severity":"critical"})"), t0);
  e.host_connected("h1", "node-a", t0);
  e.on_container_event(event("die"), t0 + 1s);
  auto fired = e.take_changes();
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0].state, "firing");
  EXPECT_EQ(fired[0].severity, "critical");
  EXPECT_EQ(fired[0].container_id, web_id);
  EXPECT_EQ(fired[0].message, "web-1 on node-a stopped (exit code 137)");
  EXPECT_TRUE(fired[0].notified);
  EXPECT_EQ(e.firing_by_severity().at("critical"), 1u);
  e.on_container_event(event("start"), t0 + 5s);
  auto resolved = e.take_changes();
  ASSERT_EQ(resolved.size(), 1u);
  EXPECT_EQ(resolved[0].id, fired[0].id) << "one alert, one row";
  EXPECT_EQ(resolved[0].state, "resolved");
  EXPECT_TRUE(e.firing_by_severity().empty());
}

TEST(alert_engine, a_stop_asked_of_this_server_is_not_unexpected) {
  engine e;
  e.set_rule(make_rule("r1", R"({"kind":"container_stopped"})"), t0);
  e.expect_stop("h1", web_id, t0 + 60s);
  e.on_container_event(event("die", "web-1", "143"), t0 + 10s);
  EXPECT_TRUE(e.take_changes().empty());
  e.on_container_event(event("die"), t0 + 61s);
  EXPECT_EQ(e.take_changes().size(), 1u) << "the expectation ended";
}

TEST(alert_engine, scope_leaves_other_containers_alone) {
  engine e;
  e.set_rule(make_rule("r1", R"({"kind":"container_stopped","scope":{"name":"web-*","label":"tier=front"}})"), t0);
  e.on_container_event(event("die", "db-1"), t0);
  EXPECT_TRUE(e.take_changes().empty());
  e.on_container_event(event("die", "web-1"), t0);
  EXPECT_EQ(e.take_changes().size(), 1u);
}

TEST(alert_engine, a_restart_loop_is_one_alert) {
  engine e;
  e.set_rule(make_rule("r1", R"({"kind":"container_restarting","occurrences":3,"window_seconds":60})"), t0);
  std::size_t rows = 0;
  for (int i = 0; i < 30; ++i) {
    e.on_container_event(event("die", "web-1", "1"), t0 + std::chrono::seconds(2 * i));
    e.on_container_event(event("start"), t0 + std::chrono::seconds(2 * i + 1));
    e.tick(t0 + std::chrono::seconds(2 * i + 1));
    rows += e.take_changes().size();
  }
  EXPECT_EQ(rows, 1u);
}

TEST(alert_engine, a_host_is_down_after_its_grace_and_up_when_its_agent_returns) {
  engine e;
  e.set_rule(make_rule("down", R"({"kind":"host_down","fire_after_seconds":30})"), t0);
  e.host_connected("h1", "node-a", t0);
  e.host_disconnected("h1", t0 + 10s);
  e.tick(t0 + 39s);
  EXPECT_TRUE(e.take_changes().empty()) << "29 s is within the grace";
  e.tick(t0 + 40s);
  auto down = e.take_changes();
  ASSERT_EQ(down.size(), 1u);
  EXPECT_EQ(down[0].kind, "host_down");
  EXPECT_EQ(down[0].target_name, "node-a");
  e.tick(t0 + 100s);
  EXPECT_TRUE(e.take_changes().empty()) << "still the one alert";
  e.host_connected("h1", "node-a", t0 + 120s);
  auto up = e.take_changes();
  ASSERT_EQ(up.size(), 1u);
  EXPECT_EQ(up[0].state, "resolved");
}

TEST(alert_engine, a_host_whose_agent_never_returns_after_a_restart_is_down) {
  engine e;
  e.set_rule(make_rule("down", R"({"kind":"host_down","fire_after_seconds":60})"), t0);
  e.host_known("h1", "node-a", t0);
  e.tick(t0 + 60s);
  EXPECT_EQ(e.take_changes().size(), 1u);
}

TEST(alert_engine, a_firing_alert_comes_back_after_a_restart_without_firing_again) {
  engine before;
  before.set_rule(make_rule("r1", R"({"kind":"container_stopped"})"), t0);
  before.on_container_event(event("die"), t0);
  auto stored = before.take_changes();
  ASSERT_EQ(stored.size(), 1u);

  engine after;
  after.set_rule(make_rule("r1", R"({"kind":"container_stopped"})"), t0 + 1h);
  after.restore(stored, t0 + 1h);
  after.tick(t0 + 1h + 1s);
  EXPECT_TRUE(after.take_changes().empty());
  after.on_container_event(event("die"), t0 + 1h + 2s);
  EXPECT_TRUE(after.take_changes().empty()) << "it is still firing: no second alert";
  after.on_container_event(event("start"), t0 + 1h + 3s);
  auto resolved = after.take_changes();
  ASSERT_EQ(resolved.size(), 1u);
  EXPECT_EQ(resolved[0].id, stored[0].id);
  EXPECT_EQ(resolved[0].state, "resolved");
}

TEST(alert_engine, a_hosts_alerts_follow_its_agent_to_another_replica_but_host_down_stays_with_the_leader) {
  engine a;
  a.set_rule(make_rule("r1", R"({"kind":"container_stopped"})"), t0);
  a.set_rule(make_rule("down", R"({"kind":"host_down","fire_after_seconds":60})"), t0);
  a.host_connected("h1", "node-a", t0);
  a.on_container_event(event("die"), t0 + 1s);
  auto fired = a.take_changes();
  ASSERT_EQ(fired.size(), 1u);
  store::alert_record down = fired[0];
  down.id = "down-alert";
  down.rule_id = "down";
  down.kind = "host_down";
  down.container_id.clear();

  // The agent moves to b: b takes on the container's alert (and not the leader's host_down), ends it
  // on the start; taking it twice changes nothing.
  engine b;
  b.set_rule(make_rule("r1", R"({"kind":"container_stopped"})"), t0);
  b.set_rule(make_rule("down", R"({"kind":"host_down","fire_after_seconds":60})"), t0);
  b.host_connected("h1", "node-a", t0 + 2s);
  b.take_changes();
  b.adopt({fired[0], down}, t0 + 2s);
  b.adopt({fired[0]}, t0 + 3s);
  EXPECT_TRUE(b.take_changes().empty());
  EXPECT_FALSE(b.acknowledge("down-alert", "ops", t0 + 3s)) << "host_down is the leader's";
  b.on_container_event(event("start"), t0 + 4s);
  auto resolved = b.take_changes();
  ASSERT_EQ(resolved.size(), 1u);
  EXPECT_EQ(resolved[0].id, fired[0].id);
  EXPECT_EQ(resolved[0].state, "resolved");

  // a forgets the host's alerts without ending them: the start it never hears leaves nothing behind.
  a.forget_host("h1");
  EXPECT_TRUE(a.take_changes().empty());
  EXPECT_FALSE(a.acknowledge(fired[0].id, "ops", t0 + 5s));
}

TEST(alert_engine, a_changed_rule_ends_its_alerts_and_acknowledging_marks_the_row) {
  engine e;
  e.set_rule(make_rule("r1", R"({"kind":"container_stopped"})"), t0);
  e.on_container_event(event("die"), t0);
  auto fired = e.take_changes();
  auto acked = e.acknowledge(fired.at(0).id, "alice", t0 + 1s);
  ASSERT_TRUE(acked);
  EXPECT_EQ(acked->acknowledged_by, "alice");
  EXPECT_EQ(e.take_changes().size(), 1u);
  e.set_rule(make_rule("r1", R"({"kind":"container_stopped","severity":"warning"})"), t0 + 2s);
  auto ended = e.take_changes();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].state, "resolved");
  EXPECT_FALSE(e.acknowledge(fired[0].id, "alice", t0 + 3s)) << "no longer firing";
}

TEST(alert_rule, definitions_are_checked_field_by_field) {
  auto error = [](const std::string& definition) {
    auto parsed = parse_rule("r", "n", json::parse(definition));
    auto* text = std::get_if<std::string>(&parsed);
    return text != nullptr ? *text : std::string();
  };
  EXPECT_NE(error(R"({"kind":"nonsense"})").find("kind must be one of"), std::string::npos);
  EXPECT_NE(error(R"({"kind":"container_stopped","severity":"loud"})").find("severity"), std::string::npos);
  EXPECT_NE(error(R"({"kind":"container_stopped","cooldown_seconds":-1})").find("cooldown_seconds"), std::string::npos);
  EXPECT_NE(error(R"({"kind":"container_stopped","occurrences":0})").find("occurrences"), std::string::npos);
  EXPECT_NE(error(R"({"kind":"host_down","scope":{"name":"web"}})").find("host rule"), std::string::npos);
  EXPECT_NE(error(R"({"kind":"container_stopped","scope":{"hosts":"h1"}})").find("scope.hosts"), std::string::npos);
  EXPECT_EQ(error(R"({"kind":"container_restarting","scope":{"hosts":["h1"],"tag":"prod"}})"), "");
  auto r = make_rule("r", R"({"kind":"container_restarting"})");
  EXPECT_EQ(r.controls.occurrences, 3u) << "a quiet default";
  EXPECT_EQ(definition_json(r).at("window_seconds").as_int64(), 300);
}

TEST(alert_engine, cpu_above_its_threshold_fires_after_the_duration_and_clears_below_the_clear_line) {
  engine e;
  e.set_rule(make_rule("cpu", R"({"kind":"cpu_high","threshold_percent":90,"fire_after_seconds":30})"), t0);
  e.host_connected("h1", "node-a", t0);
  for (int i = 0; i <= 29; ++i) e.on_sample("h1", web_id, "web-1", 99, 10, t0 + std::chrono::seconds(i));
  EXPECT_TRUE(e.take_changes().empty()) << "not before 30 s";
  e.on_sample("h1", web_id, "web-1", 99, 10, t0 + 30s);
  auto fired = e.take_changes();
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0].kind, "cpu_high");
  EXPECT_EQ(fired[0].message, "web-1 on node-a: CPU above 90.0% for 30 s (now 99.0%)");
  e.on_sample("h1", web_id, "web-1", 85, 10, t0 + 31s);  // under 90, over the clear line of 80
  EXPECT_TRUE(e.take_changes().empty());
  e.on_sample("h1", web_id, "web-1", 50, 10, t0 + 32s);
  auto cleared = e.take_changes();
  ASSERT_EQ(cleared.size(), 1u);
  EXPECT_EQ(cleared[0].state, "resolved");
}

TEST(alert_engine, host_metric_rules_watch_hosts_and_a_stopped_container_ends_its_metric_alert) {
  engine e;
  e.set_rule(make_rule("mem", R"({"kind":"memory_high","threshold_percent":80,"fire_after_seconds":0,"target":"host"})"), t0);
  e.set_rule(make_rule("cpu", R"({"kind":"cpu_high","fire_after_seconds":0})"), t0);
  e.on_sample("h1", web_id, "web-1", 10, 95, t0);
  EXPECT_TRUE(e.take_changes().empty()) << "a host rule ignores containers, and the CPU is low";
  e.on_sample("h1", {}, {}, 10, 95, t0);
  auto host = e.take_changes();
  ASSERT_EQ(host.size(), 1u);
  EXPECT_EQ(host[0].container_id, "");
  e.on_sample("h1", web_id, "web-1", 300, 10, t0 + 1s);
  ASSERT_EQ(e.take_changes().size(), 1u);
  e.on_container_event(event("die"), t0 + 2s);
  auto ended = e.take_changes();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].kind, "cpu_high");
  EXPECT_EQ(ended[0].state, "resolved");
}

TEST(alert_engine, a_rule_with_channels_makes_a_notice_per_notified_change_and_none_in_its_cooldown) {
  engine e;
  e.set_rule(make_rule("r1", R"({"kind":"container_stopped","channel_ids":["c1","c2","c1"],"cooldown_seconds":600,
                                  "template":"{{container_name}} is down"})"),
             t0);
  e.set_rule(make_rule("quiet", R"({"kind":"container_stopped"})"), t0);
  e.host_connected("h1", "node-a", t0);
  e.on_container_event(event("die"), t0 + 1s);
  auto notices = e.take_notices();
  ASSERT_EQ(notices.size(), 1u) << "a rule without channels tells no one";
  EXPECT_EQ(notices[0].event, "fired");
  EXPECT_EQ(notices[0].rule_name, "rule r1");
  EXPECT_EQ(notices[0].host_name, "node-a");
  EXPECT_EQ(notices[0].channel_ids, (std::vector<std::string>{"c1", "c2"})) << "each channel once";
  EXPECT_EQ(notices[0].message_template, "{{container_name}} is down");
  EXPECT_EQ(notices[0].alert.message, "web-1 on node-a stopped (exit code 137)");
  EXPECT_TRUE(e.take_notices().empty()) << "taken once";

  e.on_container_event(event("start"), t0 + 5s);
  notices = e.take_notices();
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_EQ(notices[0].event, "resolved");
  EXPECT_EQ(notices[0].alert.state, "resolved");

  // Down again within the cooldown: an alert, but no message.
  e.on_container_event(event("die"), t0 + 60s);
  EXPECT_EQ(e.take_changes().size(), 6u) << "each rule's alert fired, resolved and fired";
  EXPECT_TRUE(e.take_notices().empty());
  e.on_container_event(event("start"), t0 + 70s);
  EXPECT_TRUE(e.take_notices().empty()) << "no all-clear for an alarm nobody heard";
  e.on_container_event(event("die"), t0 + 700s);
  EXPECT_EQ(e.take_notices().size(), 1u) << "after the cooldown";
}

TEST(alert_engine, update_outcomes_fire_one_shot_alerts_on_the_container_and_self_update_failures_on_the_host) {
  engine e;
  e.set_rule(make_rule("done", R"({"kind":"update_completed","scope":{"name":"web-*"}})"), t0);
  e.set_rule(make_rule("bad", R"({"kind":"update_failed"})"), t0);
  e.set_rule(make_rule("self", R"({"kind":"self_update_failed"})"), t0);
  e.host_connected("h1", "node-a", t0);
  e.on_container_event(event("start"), t0);  // the engine learns web-1's name from its events
  e.take_changes();

  store::event_record failed;
  failed.host_id = "h1";
  failed.container_id = web_id;
  failed.type = "update";
  failed.action = "failed";
  failed.attributes = R"({"message":"update of web-1 to img:2 failed","error":"the healthcheck failed"})";
  e.on_container_event(failed, t0 + 1s);
  auto rollback = failed;
  rollback.action = "rollback";
  e.on_container_event(rollback, t0 + 2s);
  auto changes = e.take_changes();
  ASSERT_EQ(changes.size(), 1u) << "the rollback stage after the failure is the same story";
  EXPECT_EQ(changes[0].kind, "update_failed");
  EXPECT_EQ(changes[0].state, "resolved") << "one-shot";
  EXPECT_EQ(changes[0].target_name, "web-1");
  EXPECT_EQ(changes[0].message, "update of web-1 on node-a failed: update of web-1 to img:2 failed (the healthcheck failed)");

  store::event_record complete;
  complete.host_id = "h1";
  complete.container_id = std::string(64, 'c');
  complete.container_name = "web-1";
  complete.image = "img:2";
  complete.type = "update";
  complete.action = "update_complete";
  complete.attributes = "{}";
  e.on_container_event(complete, t0 + 3s);
  complete.container_name = "db";
  e.on_container_event(complete, t0 + 4s);
  changes = e.take_changes();
  ASSERT_EQ(changes.size(), 1u) << "db is outside the rule's scope";
  EXPECT_EQ(changes[0].severity, "info");
  EXPECT_EQ(changes[0].container_id, std::string(64, 'c'));
  EXPECT_EQ(changes[0].message, "update of web-1 on node-a completed: now runs img:2");

  store::event_record self;
  self.host_id = "h1";
  self.type = "agent_update";
  self.action = "rolled_back";
  self.attributes = R"({"message":"1.2.0 did not register","version":"1.2.0"})";
  e.on_container_event(self, t0 + 5s);
  changes = e.take_changes();
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].kind, "self_update_failed");
  EXPECT_EQ(changes[0].container_id, "");
  EXPECT_EQ(changes[0].target_name, "node-a");
  EXPECT_EQ(changes[0].message, "agent of host node-a: self-update rolled back: 1.2.0 did not register");
}

TEST(alert_engine, a_full_disk_fires_per_mount_point_and_clears_below_its_clear_line_and_survives_a_restart) {
  engine e;
  e.set_rule(make_rule("disk", R"({"kind":"disk_low","threshold_percent":90,"fire_after_seconds":60,"mount":"/srv/*"})"), t0);
  e.host_connected("h1", "node-a", t0);
  const std::vector<std::pair<std::string, double>> full{{"/", 99}, {"/srv/data", 95}, {"/srv/logs", 40}};
  e.on_disk_sample("h1", full, t0);
  e.on_disk_sample("h1", full, t0 + 59s);
  EXPECT_TRUE(e.take_changes().empty()) << "not before 60 s";
  e.on_disk_sample("h1", full, t0 + 60s);
  auto fired = e.take_changes();
  ASSERT_EQ(fired.size(), 1u) << "/ is not under /srv, /srv/logs is not full";
  EXPECT_EQ(fired[0].kind, "disk_low");
  EXPECT_EQ(fired[0].target_name, "/srv/data");
  EXPECT_EQ(fired[0].container_id, "");
  EXPECT_EQ(fired[0].message, "host node-a: /srv/data is 95.0% full (above 90.0% for 1 min)");

  engine after;  // the server restarts: the alert stays firing, one row
  after.set_rule(make_rule("disk", R"({"kind":"disk_low","threshold_percent":90,"fire_after_seconds":60,"mount":"/srv/*"})"), t0);
  after.restore(fired, t0 + 70s);
  after.on_disk_sample("h1", {{"/srv/data", 96}}, t0 + 71s);
  EXPECT_TRUE(after.take_changes().empty()) << "still firing: no second alert";
  after.on_disk_sample("h1", {{"/srv/data", 87}}, t0 + 72s);
  EXPECT_TRUE(after.take_changes().empty()) << "above the clear line of 85";
  after.on_disk_sample("h1", {{"/srv/data", 60}}, t0 + 73s);
  auto cleared = after.take_changes();
  ASSERT_EQ(cleared.size(), 1u);
  EXPECT_EQ(cleared[0].id, fired[0].id);
  EXPECT_EQ(cleared[0].state, "resolved");
}

TEST(alert_engine, a_snoozed_rule_keeps_its_alerts_but_tells_no_one_until_it_wakes) {
  engine e;
  e.set_rule(make_rule("r1", R"({"kind":"container_stopped","channel_ids":["c1"]})"), t0);
  e.host_connected("h1", "node-a", t0);
  ASSERT_TRUE(e.snooze_rule("r1", t0 + 1h));
  EXPECT_FALSE(e.snooze_rule("nope", t0 + 1h));
  e.on_container_event(event("die"), t0 + 1s);
  auto fired = e.take_changes();
  ASSERT_EQ(fired.size(), 1u) << "the alert is kept";
  EXPECT_FALSE(fired[0].notified);
  EXPECT_TRUE(e.take_notices().empty());
  e.on_container_event(event("start"), t0 + 2s);
  e.take_changes();
  EXPECT_TRUE(e.take_notices().empty()) << "an unheard alert has no all-clear";
  e.snooze_rule("r1", time_point{});  // woken
  e.on_container_event(event("die"), t0 + 3s);
  e.take_changes();
  EXPECT_EQ(e.take_notices().size(), 1u);

  auto snoozed = make_rule("r2", R"({"kind":"container_stopped","snoozed_until":"2030-01-01T00:00:00Z"})");
  EXPECT_EQ(definition_json(snoozed).at("snoozed_until").as_string(), "2030-01-01T00:00:00Z") << "kept across a restart";
}

TEST(alert_engine, a_host_that_is_away_holds_the_messages_of_its_containers_and_says_so) {
  engine e;
  e.set_rule(make_rule("stop", R"({"kind":"container_stopped","channel_ids":["c1"]})"), t0);
  e.set_rule(make_rule("down", R"({"kind":"host_down","fire_after_seconds":30,"channel_ids":["c1"]})"), t0);
  e.host_connected("h1", "node-a", t0);
  e.host_disconnected("h1", t0 + 1s);
  e.on_container_event(event("die"), t0 + 2s);  // from the backlog of an agent on its way down
  ASSERT_EQ(e.take_changes().size(), 1u) << "the container's alert is kept";
  EXPECT_TRUE(e.take_notices().empty()) << "but tells no one";
  e.tick(t0 + 32s);
  auto down = e.take_notices();
  ASSERT_EQ(down.size(), 1u);
  EXPECT_EQ(down[0].alert.kind, "host_down");
  EXPECT_NE(down[0].alert.message.find("alerts of its containers tell no one until it is back"), std::string::npos)
      << down[0].alert.message;
  e.host_connected("h1", "node-a", t0 + 40s);
  e.on_container_event(event("die", "db-1"), t0 + 41s);
  e.take_changes();
  const auto after = e.take_notices();
  ASSERT_EQ(after.size(), 2u) << "the host's all-clear, then its containers speak again";
  EXPECT_EQ(after[1].alert.kind, "container_stopped");
}

TEST(alert_engine, a_sample_is_weighed_only_against_the_rules_whose_scope_takes_it) {
  engine e;
  for (int i = 0; i < 100; ++i)
    e.set_rule(make_rule("r" + std::to_string(i), R"({"kind":"cpu_high","fire_after_seconds":0,"scope":{"hosts":["other-)" +
                                                       std::to_string(i) + R"("]}})"),
               t0);
  e.set_rule(make_rule("mine", R"({"kind":"cpu_high","fire_after_seconds":0,"scope":{"name":"web-*"}})"), t0);
  e.on_sample("h1", web_id, "web-1", 99, 10, t0);
  auto fired = e.take_changes();
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0].rule_id, "mine");
  // A renamed container is weighed again under its new name.
  e.on_container_event(event("rename", "db-1"), t0 + 1s);
  e.on_sample("h1", std::string(64, 'b'), "db-1", 99, 10, t0 + 2s);
  EXPECT_TRUE(e.take_changes().empty());
}

TEST(alert_engine, rules_scoped_by_tag_see_host_tags_container_tags_and_the_compose_project) {
  engine e;
  e.set_rule(make_rule("shop", R"({"kind":"container_stopped","scope":{"tag":"shop"}})"), t0);
  e.set_rule(make_rule("prod", R"({"kind":"container_oom","scope":{"tag":"prod"}})"), t0);
  e.set_rule(make_rule("mine", R"({"kind":"container_started","scope":{"tag":"mine"}})"), t0);
  auto composed = event("die");
  composed.attributes = R"({"name":"web-1","exitCode":"1","com.docker.compose.project":"shop"})";
  e.on_container_event(composed, t0);
  auto fired = e.take_changes();
  ASSERT_EQ(fired.size(), 1u) << "its compose project is a tag";
  EXPECT_EQ(fired[0].rule_id, "shop");
  e.on_container_event(event("oom"), t0 + 1s);
  EXPECT_TRUE(e.take_changes().empty()) << "the host has no tags yet";
  server::tag_book tags;
  tags.load({{"h1", "", "prod"}, {"h1", "db-1", "mine"}});
  e.set_tags(tags);
  e.on_container_event(event("oom"), t0 + 2s);
  auto oom = e.take_changes();
  ASSERT_EQ(oom.size(), 1u) << "the host's tag is its containers' too";
  EXPECT_EQ(oom[0].rule_id, "prod");
  e.on_container_event(event("start"), t0 + 3s);
  for (const auto& change : e.take_changes()) EXPECT_NE(change.rule_id, "mine") << "web-1 is not tagged mine";
  e.on_container_event(event("start", "db-1"), t0 + 4s);
  auto started = e.take_changes();
  ASSERT_EQ(started.size(), 1u);
  EXPECT_EQ(started[0].rule_id, "mine");
}

TEST(alert_rule, the_field_names_of_design_section_11_are_taken_too) {
  auto r = make_rule("r", R"({"kind":"cpu_high","threshold":80,"clear_threshold":60,"duration_s":30,"cooldown_s":10,
      "clear_delay_s":5,"scope":{"host_ids":["h1"],"container_pattern":"web-*","labels":{"tier":"front"},"tags":["prod"]}})");
  EXPECT_EQ(r.limit.above, 80);
  EXPECT_EQ(r.limit.clear_below, 60);
  EXPECT_EQ(r.controls.fire_after, 30s);
  EXPECT_EQ(r.controls.cooldown, 10s);
  EXPECT_EQ(r.controls.clear_after, 5s);
  EXPECT_EQ(r.scope.host_ids, std::vector<std::string>{"h1"});
  EXPECT_EQ(r.scope.name_pattern, "web-*");
  EXPECT_EQ(r.scope.label, "tier=front");
  EXPECT_EQ(r.scope.tag, "prod");
  auto restarting = make_rule("r", R"({"kind":"container_restarting","occurrences":4,"window_s":120})");
  EXPECT_EQ(restarting.controls.window, 120s);
  auto parsed = parse_rule("r", "n", json::parse(R"({"kind":"container_stopped","scope":{"tags":["a","b"]}})"));
  ASSERT_TRUE(std::holds_alternative<std::string>(parsed));
  EXPECT_NE(std::get<std::string>(parsed).find("one tag"), std::string::npos);
  // The alias wins over a stored field, as a PATCH needs.
  EXPECT_EQ(make_rule("r", R"({"kind":"cpu_high","threshold_percent":90,"threshold":70})").limit.above, 70);
}

TEST(alert_engine, a_container_being_updated_tells_no_one_until_the_outcome_which_speaks) {
  engine e;
  e.set_rule(make_rule("started", R"({"kind":"container_started","channel_ids":["c1"],"cooldown_seconds":0})"), t0);
  e.set_rule(make_rule("done", R"({"kind":"update_completed","channel_ids":["c1"]})"), t0);
  e.host_connected("h1", "node-a", t0);
  e.updating("h1", "web-1", t0 + 30min);
  auto old_one = event("start", "web-1-dockmon-backup-1700000000");  // the old container, renamed aside
  e.on_container_event(old_one, t0 + 1s);
  e.on_container_event(event("start"), t0 + 2s);  // the new container under the name
  EXPECT_EQ(e.take_changes().size(), 2u) << "the alerts are kept";
  EXPECT_TRUE(e.take_notices().empty()) << "but say nothing during the update";
  e.on_container_event(event("start", "db-1"), t0 + 3s);
  EXPECT_EQ(e.take_notices().size(), 1u) << "other containers speak";

  store::event_record complete;
  complete.host_id = "h1";
  complete.container_id = web_id;
  complete.container_name = "web-1";
  complete.type = "update";
  complete.action = "update_complete";
  e.on_container_event(complete, t0 + 4s);
  auto told = e.take_notices();
  ASSERT_EQ(told.size(), 1u) << "the outcome speaks";
  EXPECT_EQ(told[0].alert.kind, "update_completed");
  e.on_container_event(event("start"), t0 + 5s);
  EXPECT_EQ(e.take_notices().size(), 1u) << "and the container speaks again after it";
}

TEST(alert_engine, an_alert_resolved_by_hand_ends_with_an_all_clear_and_the_next_occurrence_is_a_new_alert) {
  engine e;
  e.set_rule(make_rule("r1", R"({"kind":"container_stopped","channel_ids":["c1"],"cooldown_seconds":0})"), t0);
  e.host_connected("h1", "node-a", t0);
  e.on_container_event(event("die"), t0);
  const auto fired = e.take_changes().at(0);
  e.take_notices();
  auto done = e.resolve(fired.id, "alice", t0 + 1s);
  ASSERT_TRUE(done);
  EXPECT_EQ(done->state, "resolved");
  EXPECT_EQ(done->message, "web-1 on node-a stopped (exit code 137) (resolved by alice)");
  auto told = e.take_notices();
  ASSERT_EQ(told.size(), 1u);
  EXPECT_EQ(told[0].event, "resolved");
  EXPECT_FALSE(e.resolve(fired.id, "alice", t0 + 2s)) << "once";
  e.on_container_event(event("die"), t0 + 3s);
  auto changes = e.take_changes();
  ASSERT_EQ(changes.size(), 2u);  // the hand-resolved row, then the new alert
  EXPECT_NE(changes.back().id, fired.id);
  EXPECT_EQ(changes.back().state, "firing");
}

TEST(alert_engine, a_failed_health_check_fires_by_name_through_a_restart_and_its_recovery_resolves_it_and_gave_up) {
  engine e;
  e.set_rule(make_rule("hc", R"({"kind":"health_check_failed","scope":{"name":"web-*"}})"), t0);
  e.set_rule(make_rule("gu", R"({"kind":"auto_restart_gave_up"})"), t0);
  e.host_connected("h1", "node-a", t0);
  auto health = [](const std::string& action, const std::string& name, const std::string& attributes = "{}") {
    store::event_record h;
    h.host_id = "h1";
    h.container_id = web_id.substr(0, 12);
    h.container_name = name;
    h.type = "health";
    h.action = action;
    h.attributes = attributes;
    return h;
  };
  e.on_container_event(health("unhealthy", "web-1", R"({"error":"status 503"})"), t0 + 1s);
  e.on_container_event(health("unhealthy", "db", R"({"error":"refused"})"), t0 + 1s);
  auto fired = e.take_changes();
  ASSERT_EQ(fired.size(), 1u) << "db is outside the rule's scope";
  EXPECT_EQ(fired[0].kind, "health_check_failed");
  EXPECT_EQ(fired[0].state, "firing");
  EXPECT_EQ(fired[0].message, "health check of web-1 on node-a failed: status 503");
  e.on_container_event(health("auto_restart", "web-1"), t0 + 2s);
  e.on_container_event(health("gave_up", "web-1", R"({"attempt":3})"), t0 + 3s);
  auto gave_up = e.take_changes();
  ASSERT_EQ(gave_up.size(), 1u);
  EXPECT_EQ(gave_up[0].kind, "auto_restart_gave_up");
  EXPECT_EQ(gave_up[0].state, "firing") << "until the check is healthy again";
  EXPECT_EQ(gave_up[0].message, "gave up restarting web-1 on node-a after 3 restarts");
  auto recovered = health("healthy", "web-1");
  recovered.container_id = std::string(12, 'c');  // a new container under the same name
  e.on_container_event(recovered, t0 + 9s);
  auto resolved = e.take_changes();
  ASSERT_EQ(resolved.size(), 2u);
  EXPECT_EQ(resolved[0].state, "resolved");
  EXPECT_EQ(resolved[1].state, "resolved");
}
