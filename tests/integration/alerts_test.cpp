// Alerts end to end: a real server and agent on the test engine, the docker CLI doing what goes wrong,
// and the alerts read back through the API and /metrics.
#include "harness.hpp"
#include "receiver.hpp"

#include <gtest/gtest.h>

#include <sys/statvfs.h>

using namespace dockmon;
using namespace dockmon::test;

namespace {

using alert_host = server_and_agent;

// A webhook channel to the receiver; its id.
std::string add_channel(test_server& server, const receiver& hook) {
  auto res = server.post("/api/notification-channels", R"({"name":"hook","type":"webhook","config":{"url":")" + hook.url() + "\"}}");
  EXPECT_EQ(res.status, 201u) << res.body;
  return res.status == 201 ? std::string(res.json().at("id").as_string()) : std::string();
}

std::string add_rule(test_server& server, const std::string& body) {
  auto res = server.post("/api/alert-rules", body);
  EXPECT_EQ(res.status, 201u) << res.body;
  return res.status == 201 ? std::string(res.json().at("id").as_string()) : std::string();
}


}  // namespace

TEST(alerts, a_killed_container_fires_one_alert_that_survives_a_restart_and_its_start_resolves) {
  alert_host h;
  add_rule(h.server, R"({"name":"stopped","kind":"container_stopped","severity":"error","scope":{"name":"it-alert-*"}})");
  scoped_container c("it-alert-kill", "sleep 100000");
  scoped_container other("it-other-kill", "sleep 100000");
  // The agent's event stream opens just after it registers: a kill before that would go unseen.
  ASSERT_TRUE(wait_until([&] { return event_seen(h.server, c.id, "start") && event_seen(h.server, other.id, "start"); }, 20s));
  ASSERT_EQ(docker_cli("kill it-alert-kill it-other-kill").exit_code, 0);

  auto fired = wait_for_alert(h.server, "it-alert-kill", "firing");
  ASSERT_TRUE(fired) << h.server.get("/api/alerts").body << "\nrules: " << h.server.get("/api/alert-rules").body
                     << "\nevents: " << h.server.get("/api/events?container_id=" + c.id).body;
  EXPECT_EQ(fired->at("kind").as_string(), "container_stopped");
  EXPECT_EQ(fired->at("severity").as_string(), "error");
  EXPECT_EQ(fired->at("host_id").as_string(), h.host_id);
  EXPECT_EQ(fired->at("container_id").as_string(), c.id);
  EXPECT_NE(fired->at("message").as_string().find("it-alert-kill"), std::string::npos);
  EXPECT_NE(fired->at("message").as_string().find("exit code 137"), std::string::npos) << fired->at("message");
  ASSERT_TRUE(wait_until([&] { return event_seen(h.server, other.id, "die"); }, 20s));
  EXPECT_TRUE(alerts_on(h.server, "it-other-kill").empty()) << "outside the rule's scope";
  EXPECT_NE(h.server.get("/metrics").body.find("dockmon_alerts_firing{severity=\"error\"} 1\n"), std::string::npos);

  // A restart of the server: the alert is still the one firing alert, not fired again.
  h.server.restart();
  ASSERT_TRUE(h.server.wait_for_host(h.host_id, "online", 20s));
  auto after = alerts_on(h.server, "it-alert-kill");
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].at("id"), fired->at("id"));
  EXPECT_EQ(after[0].at("state").as_string(), "firing");

  ASSERT_EQ(docker_cli("start it-alert-kill").exit_code, 0);
  auto resolved = wait_for_alert(h.server, "it-alert-kill", "resolved");
  ASSERT_TRUE(resolved);
  EXPECT_EQ(resolved->at("id"), fired->at("id")) << "one alert from firing to resolved";
  EXPECT_EQ(alerts_on(h.server, "it-alert-kill").size(), 1u);
}

TEST(alerts, a_stop_through_this_server_is_expected_and_raises_nothing) {
  alert_host h;
  add_rule(h.server, R"({"name":"stopped","kind":"container_stopped"})");
  scoped_container c("it-alert-stop", "trap \"exit 0\" TERM; sleep 100000 & wait");
  ASSERT_TRUE(wait_until([&] { return event_seen(h.server, c.id, "start"); }, 20s));
  auto stop = h.server.post("/api/hosts/" + h.host_id + "/containers/it-alert-stop/stop?timeout=5");
  ASSERT_EQ(stop.status, 200u) << stop.body;
  ASSERT_TRUE(wait_until([&] { return event_seen(h.server, c.id, "die"); }, 20s));
  EXPECT_TRUE(alerts_on(h.server, "it-alert-stop").empty());
  // The same container dying by itself afterwards is unexpected.
  ASSERT_EQ(docker_cli("start it-alert-stop").exit_code, 0);
  ASSERT_EQ(docker_cli("kill it-alert-stop").exit_code, 0);
  EXPECT_TRUE(wait_for_alert(h.server, "it-alert-stop", "firing"));
}

TEST(alerts, a_crash_loop_is_one_restarting_alert_and_one_message) {
  alert_host h;
  receiver hook;
  add_rule(h.server, R"({"name":"loop","kind":"container_restarting","occurrences":3,"window_seconds":60,"channel_ids":[")" +
                         add_channel(h.server, hook) + "\"]}");
  scoped_container c("it-alert-loop", "exit 1", "--restart always");
  ASSERT_TRUE(wait_until([&] { return std::atoi(docker_inspect(c.name, "{{.RestartCount}}").c_str()) >= 5; }, 30s));
  ASSERT_TRUE(wait_for_alert(h.server, "it-alert-loop", "firing"));
  ASSERT_TRUE(wait_until([&] { return std::atoi(docker_inspect(c.name, "{{.RestartCount}}").c_str()) >= 6; }, 30s));
  EXPECT_EQ(alerts_on(h.server, "it-alert-loop").size(), 1u) << h.server.get("/api/alerts").body;
  ASSERT_TRUE(hook.wait_for(1, 10s));
  EXPECT_EQ(hook.requests().size(), 1u) << "one message for the loop, the cooldown holds the rest";
  EXPECT_EQ(hook.requests()[0].json().at("kind").as_string(), "container_restarting");
}

TEST(alerts, a_host_whose_agent_stops_is_down_after_its_grace_and_up_when_it_returns) {
  alert_host h;
  receiver hook;
  const auto channel = add_channel(h.server, hook);
  add_rule(h.server, R"({"name":"down","kind":"host_down","severity":"critical","fire_after_seconds":2,"channel_ids":[")" + channel +
                         "\"]}");
  add_rule(h.server, R"({"name":"stopped","kind":"container_stopped","channel_ids":[")" + channel + "\"]}");
  scoped_container c("it-alert-host", "sleep 100000");
  const auto host_name = std::string(h.server.host(h.host_id)->at("name").as_string());
  // From before the stop: the agent's link may drop before its process has quite gone.
  const auto stopped_at = std::chrono::steady_clock::now();
  h.agent.proc().stop();
  auto down = wait_for_alert(h.server, host_name, "firing");
  ASSERT_TRUE(down) << h.server.get("/api/alerts").body;
  EXPECT_GE(std::chrono::steady_clock::now() - stopped_at, std::chrono::seconds(2)) << "not before the grace";
  EXPECT_EQ(down->at("kind").as_string(), "host_down");
  EXPECT_EQ(down->at("container_id").as_string(), "");
  auto all = h.server.get("/api/alerts").json();
  EXPECT_EQ(all.as_array().size(), 1u) << "the host's containers raise nothing of their own: " << all;

  ASSERT_TRUE(hook.wait_for(1, 10s));
  EXPECT_EQ(hook.requests()[0].json().at("kind").as_string(), "host_down");
  EXPECT_EQ(hook.requests()[0].json().at("host_name").as_string(), host_name);
  EXPECT_NE(hook.requests()[0].body.find("alerts of its containers tell no one until it is back"), std::string::npos)
      << "says once that its containers are held: " << hook.requests()[0].body;

  h.agent.restart();
  auto up = wait_for_alert(h.server, host_name, "resolved");
  ASSERT_TRUE(up);
  EXPECT_EQ(up->at("id"), down->at("id"));
  ASSERT_TRUE(hook.wait_for(2, 20s)) << "the all-clear, held to the end of the host's burst window (10 s)";
  EXPECT_EQ(hook.requests()[1].json().at("event").as_string(), "resolved");
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(hook.requests().size(), 2u) << "one host-down message and its all-clear, nothing of its containers";

  // The agent's links are kept as events: a preview of the rule replays them and finds the one outage.
  ASSERT_TRUE(wait_until([&] {
    const auto events = h.server.get("/api/events?type=agent&host_id=" + h.host_id).json();
    return events.as_array().size() >= 3;  // connected, disconnected, connected
  }, 20s)) << h.server.get("/api/events?type=agent").body;
  auto preview = h.server.post("/api/alert-rules/preview", R"({"kind":"host_down","fire_after_seconds":2})");
  ASSERT_EQ(preview.status, 200u) << preview.body;
  EXPECT_TRUE(preview.json().at("supported").as_bool());
  EXPECT_EQ(preview.json().at("fired_24h").as_int64(), 1) << preview.body;
}

TEST(alerts, rules_are_checked_and_alerts_are_acknowledged_by_operators) {
  alert_host h;
  auto bad = h.server.post("/api/alert-rules", R"({"name":"x","kind":"container_exploded"})");
  EXPECT_EQ(bad.status, 400u);
  EXPECT_NE(bad.body.find("kind must be one of"), std::string::npos) << bad.body;
  EXPECT_EQ(h.server.post("/api/alert-rules", R"({"kind":"container_stopped"})").status, 400u) << "a name is required";
  auto rule_id = add_rule(h.server, R"({"name":"stopped","kind":"container_stopped"})");
  auto listed = h.server.get("/api/alert-rules");
  ASSERT_EQ(listed.status, 200u);
  EXPECT_NE(listed.body.find("\"cooldown_seconds\":300"), std::string::npos) << "defaults are shown: " << listed.body;

  scoped_container c("it-alert-ack", "sleep 100000");
  ASSERT_TRUE(wait_until([&] { return event_seen(h.server, c.id, "start"); }, 20s));
  ASSERT_EQ(docker_cli("kill it-alert-ack").exit_code, 0);
  auto fired = wait_for_alert(h.server, "it-alert-ack", "firing");
  ASSERT_TRUE(fired);
  const std::string alert_id(fired->at("id").as_string());
  const std::map<std::string, std::string> operator_key{{"Authorization", "Bearer " + h.server.api_key("operator")}};
  auto acked = h.server.request(http::verb::post, "/api/alerts/" + alert_id + "/acknowledge", "{}", operator_key);
  ASSERT_EQ(acked.status, 200u) << acked.body;
  EXPECT_FALSE(acked.json().at("acknowledged_at").is_null());
  EXPECT_EQ(h.server.post("/api/alerts/" + alert_id + "/snooze", R"({"minutes":0})").status, 400u);
  EXPECT_EQ(h.server.post("/api/alerts/" + alert_id + "/snooze", R"({"minutes":30})").status, 200u);
  EXPECT_EQ(h.server.post("/api/alerts/00000000-0000-4000-8000-000000000000/acknowledge").status, 404u);
  // DESIGN.md section 11's names: snooze {seconds}, state=all, container_name and started_at.
  auto by_seconds = h.server.post("/api/alerts/" + alert_id + "/snooze", R"({"seconds":600})");
  ASSERT_EQ(by_seconds.status, 200u) << by_seconds.body;
  EXPECT_EQ(by_seconds.json().at("container_name").as_string(), "it-alert-ack");
  EXPECT_EQ(by_seconds.json().at("started_at"), fired->at("fired_at"));
  EXPECT_EQ(h.server.get("/api/alerts?state=all").json().as_array().size(), 1u);
  auto contract = h.server.post("/api/alert-rules", R"({"name":"contract","kind":"cpu_high","threshold":80,"duration_s":30,)"
                                                     R"("cooldown_s":60,"scope":{"container_pattern":"web-*","tags":["prod"]}})");
  ASSERT_EQ(contract.status, 201u) << contract.body;
  EXPECT_EQ(contract.json().at("threshold_percent").to_number<double>(), 80);
  EXPECT_EQ(contract.json().at("fire_after_seconds").as_int64(), 30);
  EXPECT_EQ(contract.json().at("scope").at("name").as_string(), "web-*");
  EXPECT_EQ(contract.json().at("scope").at("tag").as_string(), "prod");
  EXPECT_EQ(h.server.del("/api/alert-rules/" + std::string(contract.json().at("id").as_string())).status, 200u);

  // Resolved by hand: the alert ends, and the next kill is a new alert.
  auto resolved = h.server.request(http::verb::post, "/api/alerts/" + alert_id + "/resolve", "{}", operator_key);
  ASSERT_EQ(resolved.status, 200u) << resolved.body;
  EXPECT_EQ(resolved.json().at("state").as_string(), "resolved");
  EXPECT_NE(resolved.json().at("message").as_string().find("resolved by "), std::string::npos) << resolved.body;
  EXPECT_EQ(h.server.post("/api/alerts/" + alert_id + "/resolve").status, 409u) << "only once";
  ASSERT_EQ(docker_cli("start it-alert-ack").exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return event_seen(h.server, c.id, "start"); }, 20s));
  ASSERT_EQ(docker_cli("kill it-alert-ack").exit_code, 0);
  // A new firing alert, not the resolved one (both may carry the same second: the newest-first order ties).
  ASSERT_TRUE(wait_until([&] {
    for (const auto& a : alerts_on(h.server, "it-alert-ack"))
      if (a.at("state").as_string() == "firing" && a.at("id").as_string() != alert_id) return true;
    return false;
  }, 20s)) << h.server.get("/api/alerts").body;

  // Disabling the rule ends its alert at once.
  auto disabled = h.server.request(http::verb::patch, "/api/alert-rules/" + rule_id, R"({"enabled":false})",
                                   {{"Cookie", h.server.cookie()}});
  ASSERT_EQ(disabled.status, 200u) << disabled.body;
  EXPECT_FALSE(disabled.json().at("enabled").as_bool());
  ASSERT_TRUE(wait_for_alert(h.server, "it-alert-ack", "resolved"));
  EXPECT_EQ(h.server.post("/api/alerts/" + alert_id + "/acknowledge").status, 409u);
  EXPECT_NE(h.server.get("/api/audit").body.find("resolve_alert"), std::string::npos);
  auto audit = h.server.get("/api/audit");
  EXPECT_NE(audit.body.find("acknowledge_alert"), std::string::npos);
  EXPECT_NE(audit.body.find("update_alert_rule"), std::string::npos);
}

TEST(alerts, a_container_held_above_its_cpu_threshold_fires_after_the_duration_and_clears_when_it_calms) {
  alert_host h;
  add_rule(h.server, R"({"name":"hot","kind":"cpu_high","threshold_percent":50,"fire_after_seconds":3,"scope":{"name":"it-alert-cpu"}})");
  // Busy until /tmp/calm appears (the test's and busybox's shell builtins only), then idle.
  scoped_container c("it-alert-cpu", "while [ ! -f /tmp/calm ]; do :; done; sleep 100000");
  const auto started = std::chrono::steady_clock::now();
  auto fired = wait_for_alert(h.server, "it-alert-cpu", "firing", 30s);
  ASSERT_TRUE(fired) << h.server.get("/api/alerts").body;
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::seconds(3)) << "not before the duration";
  EXPECT_EQ(fired->at("kind").as_string(), "cpu_high");
  EXPECT_NE(fired->at("message").as_string().find("CPU above 50.0% for 3 s"), std::string::npos) << fired->at("message");

  ASSERT_EQ(docker_cli("exec it-alert-cpu touch /tmp/calm").exit_code, 0);
  auto calm = wait_for_alert(h.server, "it-alert-cpu", "resolved", 30s);
  ASSERT_TRUE(calm);
  EXPECT_EQ(calm->at("id"), fired->at("id"));
}

TEST(alerts, a_failed_update_raises_one_update_failed_alert_naming_the_container) {
  alert_host h;
  add_rule(h.server, R"({"name":"bad update","kind":"update_failed","scope":{"name":"it-alert-update"}})");
  scoped_container c("it-alert-update", "sleep 100000");
  ASSERT_TRUE(wait_until([&] { return event_seen(h.server, c.id, "start"); }, 20s));
  const char* registry = std::getenv("DOCKMON_TEST_REGISTRY");
  const std::string missing = std::string(registry != nullptr && *registry != '\0' ? registry : "127.0.0.1:5000") +
                              "/dockmon-it/never-pushed:missing";
  auto res = h.server.post("/api/hosts/" + h.host_id + "/containers/it-alert-update/update", R"({"image":")" + missing + "\"}");
  ASSERT_EQ(res.status, 202u) << res.body;
  auto failed = wait_for_alert(h.server, "it-alert-update", "resolved", 60s);
  ASSERT_TRUE(failed) << h.server.get("/api/events?type=update").body;
  EXPECT_EQ(failed->at("kind").as_string(), "update_failed");
  EXPECT_EQ(failed->at("container_id").as_string(), c.id);
  EXPECT_NE(failed->at("message").as_string().find("update of it-alert-update on "), std::string::npos) << failed->at("message");
  EXPECT_NE(failed->at("message").as_string().find("failed"), std::string::npos);
  EXPECT_EQ(alerts_on(h.server, "it-alert-update").size(), 1u);
}

TEST(alerts, a_rules_preview_over_the_recorded_events_counts_what_the_live_rule_did) {
  docker_cli("rm -f it-alert-preview");  // a leftover of an earlier run, before the agent would see it go
  alert_host h;
  const std::string rule = R"({"name":"live","kind":"container_stopped","cooldown_seconds":3600,"scope":{"name":"it-alert-preview"}})";
  add_rule(h.server, rule);
  scoped_container c("it-alert-preview", "sleep 100000");
  ASSERT_TRUE(wait_until([&] { return event_seen(h.server, c.id, "start"); }, 20s));
  // Alerts of one second share their fired_at, so "the newest" is not told apart: count them instead.
  // Only this container's: a leftover of an earlier run, removed as this one started, may have one too.
  auto of_container = [&] {
    auto list = alerts_on(h.server, "it-alert-preview");
    std::erase_if(list, [&](const json::object& a) { return a.at("container_id").as_string() != c.id; });
    return list;
  };
  auto firing_of = [&](std::size_t alerts, std::size_t firing) {
    return wait_until([&] {
      auto list = of_container();
      std::size_t now_firing = 0;
      for (const auto& a : list) now_firing += a.at("state").as_string() == "firing" ? 1 : 0;
      return list.size() == alerts && now_firing == firing;
    }, 20s);
  };
  for (std::size_t i = 0; i < 3; ++i) {
    ASSERT_EQ(docker_cli("kill it-alert-preview").exit_code, 0);
    ASSERT_TRUE(firing_of(i + 1, 1)) << i << h.server.get("/api/alerts").body;
    ASSERT_EQ(docker_cli("start it-alert-preview").exit_code, 0);
    ASSERT_TRUE(firing_of(i + 1, 0)) << i << h.server.get("/api/alerts").body;
  }
  const auto live = of_container();
  ASSERT_EQ(live.size(), 3u);
  std::size_t live_notified = 0;
  for (const auto& a : live) live_notified += a.at("notified").as_bool() ? 1 : 0;
  // The stored events are written in batches: wait until all six (3 die, 3 start after the first) are in.
  ASSERT_TRUE(wait_until([&] {
    auto res = h.server.get("/api/events?type=container&container_id=" + c.id + "&limit=100");
    std::size_t dies = 0;
    const auto events = res.json();
    for (const auto& e : events.as_array()) dies += e.at("action").as_string() == "die" ? 1 : 0;
    return dies == 3;
  }, 20s));

  auto preview = h.server.post("/api/alert-rules/preview", rule);
  ASSERT_EQ(preview.status, 200u) << preview.body;
  const auto counts = preview.json().as_object();
  EXPECT_TRUE(counts.at("supported").as_bool());
  EXPECT_EQ(counts.at("fired_24h").as_int64(), 3) << preview.body;
  EXPECT_EQ(counts.at("fired_7d").as_int64(), 3);
  EXPECT_EQ(live_notified, 1u) << "the live rule's cooldown let the first through";
  EXPECT_EQ(counts.at("notified_24h").as_int64(), 2) << "the preview: that one and its all-clear, as the live rule would send";
  // CPU rules replay the stored history: this server's is minutes old and calm.
  auto cpu_rule = h.server.post("/api/alert-rules/preview", R"({"kind":"cpu_high","threshold_percent":95})");
  ASSERT_EQ(cpu_rule.status, 200u) << cpu_rule.body;
  EXPECT_TRUE(cpu_rule.json().at("supported").as_bool()) << cpu_rule.body;
  EXPECT_EQ(cpu_rule.json().at("fired_7d").as_int64(), 0);
  auto disk_rule = h.server.post("/api/alert-rules/preview", R"({"kind":"disk_low"})");
  ASSERT_EQ(disk_rule.status, 200u);
  EXPECT_FALSE(disk_rule.json().at("supported").as_bool());
  EXPECT_EQ(h.server.post("/api/alert-rules/preview", R"({"kind":"nope"})").status, 400u);
}

TEST(alerts, a_host_disk_fuller_than_its_threshold_fires_for_that_mount_point) {
  alert_host h;
  // The agent reports the host's filesystems to this server (it advertised them): "/" among them.
  std::optional<json::object> root;
  ASSERT_TRUE(wait_until([&] {
    const auto stats = h.server.get("/api/hosts/" + h.host_id + "/stats").json();
    for (const auto& fs : stats.at("filesystems").as_array())
      if (fs.at("mount").as_string() == "/") root = fs.as_object();
    return root.has_value();
  }, 20s)) << h.server.get("/api/hosts/" + h.host_id + "/stats").body;
  struct statvfs st {};
  ASSERT_EQ(::statvfs("/", &st), 0);
  EXPECT_EQ(root->at("total_bytes").to_number<double>(), static_cast<double>(st.f_blocks) * st.f_frsize);
  const double used = root->at("used_percent").to_number<double>();
  const double df_use = 100.0 * static_cast<double>(st.f_blocks - st.f_bfree) / static_cast<double>(st.f_blocks - st.f_bfree + st.f_bavail);
  EXPECT_NEAR(used, df_use, 1.0) << "df's Use%";
  EXPECT_GT(used, 0);
  EXPECT_LT(used, 100);

  // A line below what "/" uses fires; one above it would not.
  add_rule(h.server, R"({"name":"disk","kind":"disk_low","mount":"/","fire_after_seconds":0,"threshold_percent":)" +
                         std::to_string(used / 2) + "}");
  add_rule(h.server, R"({"name":"roomy","kind":"disk_low","mount":"/","fire_after_seconds":0,"threshold_percent":99.99})");
  EXPECT_EQ(h.server.post("/api/alert-rules", R"({"name":"x","kind":"disk_low","threshold_percent":150})").status, 400u);
  auto fired = wait_for_alert(h.server, "/", "firing", 60s);
  ASSERT_TRUE(fired) << h.server.get("/api/alerts").body;
  EXPECT_EQ(fired->at("kind").as_string(), "disk_low");
  EXPECT_EQ(fired->at("host_id").as_string(), h.host_id);
  EXPECT_EQ(fired->at("container_id").as_string(), "");
  EXPECT_NE(fired->at("message").as_string().find(": / is "), std::string::npos) << fired->at("message");
  std::this_thread::sleep_for(3s);
  EXPECT_EQ(alerts_on(h.server, "/").size(), 1u) << "one alert, from the rule whose line the disk is above";
}

TEST(alerts, tags_on_hosts_and_containers_show_in_the_lists_scope_rules_and_survive_a_restart) {
  alert_host h;
  scoped_container shop("it-tag-shop", "sleep 100000", "--label com.docker.compose.project=shop");
  scoped_container plain("it-tag-plain", "sleep 100000");
  const std::string host_path = "/api/hosts/" + h.host_id;
  auto host_tags = h.server.put(host_path + "/tags", R"({"tags":["prod","eu","prod"]})");
  ASSERT_EQ(host_tags.status, 200u) << host_tags.body;
  EXPECT_EQ(json::serialize(host_tags.json().at("tags")), R"(["eu","prod"])");
  EXPECT_EQ(h.server.put(host_path + "/tags", R"({"tags":["not a tag"]})").status, 400u);
  EXPECT_EQ(h.server.put("/api/hosts/no-such-host/tags", R"({"tags":[]})").status, 404u);
  // By id: the agent says which name it stands for, and the tag follows the name.
  auto mine = h.server.put(host_path + "/containers/" + plain.id + "/tags", R"({"tags":["mine"]})");
  ASSERT_EQ(mine.status, 200u) << mine.body;
  EXPECT_EQ(mine.json().at("container_name").as_string(), "it-tag-plain");

  auto tags_of = [&](const std::string& name) {
    const auto list = h.server.get(host_path + "/containers").json();
    for (const auto& c : list.as_array())
      if (c.at("name").as_string() == name) return json::serialize(c.at("tags"));
    return std::string("(not listed)");
  };
  EXPECT_EQ(tags_of("it-tag-shop"), R"(["shop"])") << "the compose project is a tag";
  EXPECT_EQ(tags_of("it-tag-plain"), R"(["mine"])");

  const auto shop_rule = add_rule(h.server, R"({"name":"shop","kind":"container_stopped","scope":{"tag":"shop"}})");
  const auto mine_rule = add_rule(h.server, R"({"name":"mine","kind":"container_stopped","scope":{"tag":"mine"}})");
  const auto prod_rule = add_rule(h.server, R"({"name":"prod","kind":"container_started","scope":{"tag":"prod"}})");
  h.server.restart();  // the tags are kept
  ASSERT_TRUE(h.server.wait_for_host(h.host_id, "online", 20s));
  EXPECT_EQ(json::serialize(h.server.get(host_path).json().at("tags")), R"(["eu","prod"])");
  ASSERT_TRUE(wait_until([&] { return event_seen(h.server, shop.id, "start") && event_seen(h.server, plain.id, "start"); }, 20s));
  ASSERT_EQ(docker_cli("kill it-tag-shop it-tag-plain").exit_code, 0);
  auto shop_alert = wait_for_alert(h.server, "it-tag-shop", "firing");
  auto plain_alert = wait_for_alert(h.server, "it-tag-plain", "firing");
  ASSERT_TRUE(shop_alert && plain_alert) << h.server.get("/api/alerts").body;
  EXPECT_EQ(shop_alert->at("rule_id").as_string(), shop_rule);
  EXPECT_EQ(plain_alert->at("rule_id").as_string(), mine_rule);
  EXPECT_EQ(alerts_on(h.server, "it-tag-shop").size(), 1u) << "not the rule of the other tag";
  EXPECT_EQ(alerts_on(h.server, "it-tag-plain").size(), 1u);
  ASSERT_EQ(docker_cli("start it-tag-plain").exit_code, 0);
  ASSERT_TRUE(wait_until([&] {
    for (const auto& a : alerts_on(h.server, "it-tag-plain"))
      if (a.at("rule_id").as_string() == prod_rule) return true;
    return false;
  }, 20s)) << "the host's tag is its containers' too: " << h.server.get("/api/alerts").body;
  EXPECT_NE(h.server.get("/api/audit").body.find("set_tags"), std::string::npos);
}
