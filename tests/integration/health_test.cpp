// Health checks end to end: a busybox httpd on the host network serves a health file, the agent probes
// it from the host, the docker CLI removes the file and witnesses the restarts, and the server's API and
// alerts say what happened. A raw agent checks the frames against DockMon's field names.
#include "harness.hpp"

#include <gtest/gtest.h>

#include <future>
#include <set>
#include <thread>

using namespace dockmon;
using namespace dockmon::test;

namespace {

// httpd on 127.0.0.1:port, serving /www; the health file is made on the first start only (a restart
// does not bring it back: the test decides when it is back).
std::string health_server(unsigned short port) {
  return "[ -d /www ] || { mkdir /www && echo ok > /www/health; }; exec httpd -f -p 127.0.0.1:" + std::to_string(port) + " -h /www";
}

std::string check_path(const std::string& host_id, const std::string& container) {
  return "/api/hosts/" + host_id + "/containers/" + container + "/health-check";
}

std::string check_body(unsigned short port, const std::string& extra = {}) {
  return R"({"url":"http://{container}:)" + std::to_string(port) +
         R"(/health","interval_s":5,"timeout_s":2,"failure_threshold":2,"auto_restart":true,"restart_delay_s":0)" + extra + "}";
}

void add_rule(test_server& server, const std::string& body) {
  auto res = server.post("/api/alert-rules", body);
  ASSERT_EQ(res.status, 201u) << res.body;
}

// The check's status as the API shows it, once it is in `state`; nullopt on timeout.
std::optional<json::object> wait_for_check(test_server& server, const std::string& host_id, const std::string& container,
                                           const std::string& state, std::chrono::milliseconds timeout = 30s) {
  std::optional<json::object> found;
  wait_until([&] {
    auto res = server.get(check_path(host_id, container));
    if (res.status != 200) return false;
    auto status = res.json();
    if (status.at("state").as_string() != state) return false;
    found = status.as_object();
    return true;
  }, timeout);
  return found;
}

std::string started_at(const std::string& name) { return docker_inspect(name, "{{.State.StartedAt}}"); }

std::set<std::string> health_actions(test_server& server, const std::string& name) {
  std::set<std::string> out;
  auto res = server.get("/api/events?type=health&limit=200");
  if (res.status != 200) return out;
  auto list = res.json();
  for (const auto& e : list.as_array())
    if (e.at("container_name").as_string() == name) out.insert(std::string(e.at("action").as_string()));
  return out;
}

}  // namespace

TEST(health_checks, a_failing_check_fires_an_alert_restarts_once_and_the_file_back_resolves_it) {
  server_and_agent h;
  add_rule(h.server, R"({"name":"health","kind":"health_check_failed","scope":{"name":"it-health-*"}})");
  const auto port = free_port();
  scoped_container web("it-health-web", health_server(port), "--network host");
  auto put = h.server.put(check_path(h.host_id, web.name), check_body(port, R"(,"max_restarts":3)"));
  ASSERT_EQ(put.status, 200u) << put.body;
  EXPECT_EQ(put.json().at("container_name").as_string(), web.name);
  ASSERT_TRUE(wait_for_check(h.server, h.host_id, web.name, "healthy")) << h.server.get(check_path(h.host_id, web.name)).body
                                                                         << h.agent.log();
  const auto first_start = started_at(web.name);

  ASSERT_EQ(docker_cli("exec it-health-web rm /www/health").exit_code, 0);
  auto fired = wait_for_alert(h.server, web.name, "firing", 30s);
  ASSERT_TRUE(fired) << h.server.get(check_path(h.host_id, web.name)).body;
  EXPECT_EQ(fired->at("kind").as_string(), "health_check_failed");
  EXPECT_NE(fired->at("message").as_string().find("404"), std::string::npos) << fired->at("message");
  ASSERT_TRUE(wait_until([&] { return started_at(web.name) != first_start; }, 30s)) << "the agent restarts it";
  const auto second_start = started_at(web.name);
  ASSERT_EQ(docker_cli("exec it-health-web sh -c 'echo ok > /www/health'").exit_code, 0);

  auto resolved = wait_for_alert(h.server, web.name, "resolved", 30s);
  ASSERT_TRUE(resolved);
  EXPECT_EQ(resolved->at("id"), fired->at("id"));
  auto status = wait_for_check(h.server, h.host_id, web.name, "healthy");
  ASSERT_TRUE(status);
  EXPECT_EQ(started_at(web.name), second_start) << "one restart, not more";
  const auto& log = status->at("restart_log").as_array();
  ASSERT_EQ(log.size(), 1u) << json::serialize(*status);
  EXPECT_TRUE(log[0].at("ok").as_bool());
  EXPECT_EQ(log[0].at("reason").as_string(), "health_check");
  EXPECT_EQ(status->at("restarts").as_int64(), 0) << "healthy again: the count starts over";
  EXPECT_EQ(health_actions(h.server, web.name), (std::set<std::string>{"healthy", "unhealthy", "auto_restart"}));
  // The agent's own record says it restarted the container.
  EXPECT_NE(shell("cat " + h.agent.data_dir() + "/audit.log").output.find("auto_restart"), std::string::npos);
}

TEST(health_checks, a_check_that_keeps_failing_stops_restarting_after_the_limit_and_says_it_gave_up) {
  server_and_agent h;
  add_rule(h.server, R"({"name":"gave up","kind":"auto_restart_gave_up","scope":{"name":"it-health-*"}})");
  const auto port = free_port();
  // Serves, but the health file never exists: every probe is a 404.
  scoped_container web("it-health-dead", "mkdir -p /www && exec httpd -f -p 127.0.0.1:" + std::to_string(port) + " -h /www",
                       "--network host");
  auto put = h.server.put(check_path(h.host_id, web.name), check_body(port, R"(,"max_restarts":1)"));
  ASSERT_EQ(put.status, 200u) << put.body;
  auto gave_up = wait_for_alert(h.server, web.name, "firing", 60s);
  ASSERT_TRUE(gave_up) << h.server.get(check_path(h.host_id, web.name)).body;
  EXPECT_EQ(gave_up->at("kind").as_string(), "auto_restart_gave_up");
  const auto last_start = started_at(web.name);
  std::this_thread::sleep_for(12s);  // more than two intervals: a restart would have come by now
  EXPECT_EQ(started_at(web.name), last_start) << "no restart after giving up";
  auto status = h.server.get(check_path(h.host_id, web.name)).json();
  EXPECT_TRUE(status.at("gave_up").as_bool());
  const auto& log = status.at("restart_log").as_array();
  ASSERT_EQ(log.size(), 2u) << json::serialize(status);
  EXPECT_FALSE(log[0].at("gave_up").as_bool());
  EXPECT_TRUE(log[1].at("gave_up").as_bool());
}

TEST(health_checks, a_container_stopped_through_the_api_is_not_restarted_and_a_read_only_agent_never_restarts) {
  server_and_agent h;
  const auto port = free_port();
  scoped_container web("it-health-stop", health_server(port), "--network host");
  ASSERT_EQ(h.server.put(check_path(h.host_id, web.name), check_body(port)).status, 200u);
  ASSERT_TRUE(wait_for_check(h.server, h.host_id, web.name, "healthy"));
  auto stop = h.server.post("/api/hosts/" + h.host_id + "/containers/" + web.name + "/stop?timeout=2");
  ASSERT_EQ(stop.status, 200u) << stop.body;
  ASSERT_TRUE(wait_for_check(h.server, h.host_id, web.name, "stopped", 20s));
  std::this_thread::sleep_for(12s);
  EXPECT_EQ(docker_inspect(web.name, "{{.State.Running}}"), "false") << "stopped on purpose stays stopped";

  // The same check on an agent whose allow-list is read_only: it says unhealthy, and restarts nothing.
  // (The first agent stops its check first: it would restart the container.)
  ASSERT_EQ(h.server.del(check_path(h.host_id, web.name)).status, 200u);
  ASSERT_TRUE(wait_until([&] { return h.agent.log().find("health check for " + web.id.substr(0, 12) + " removed") != std::string::npos; }, 10s));
  test_server server;
  test_agent agent(server.port(), server.registration_token(), {}, {{"AGENT_ALLOW", "read_only"}});
  auto host = server.wait_for_engine(engine_id());
  ASSERT_TRUE(host);
  const std::string host_id(host->at("id").as_string());
  ASSERT_EQ(docker_cli("start " + web.name).exit_code, 0);
  ASSERT_EQ(server.put(check_path(host_id, web.name), check_body(port)).status, 200u);
  ASSERT_TRUE(wait_for_check(server, host_id, web.name, "healthy"));
  const auto start = started_at(web.name);
  ASSERT_EQ(docker_cli("exec it-health-stop rm /www/health").exit_code, 0);
  ASSERT_TRUE(wait_for_check(server, host_id, web.name, "unhealthy"));
  std::this_thread::sleep_for(7s);
  EXPECT_EQ(started_at(web.name), start) << "read_only: checks run, nothing restarts";
  EXPECT_NE(agent.log().find("does not let it restart"), std::string::npos);
}

TEST(health_checks, an_agent_restarted_while_the_server_is_down_keeps_checking_and_reports_when_it_is_back) {
  server_and_agent h;
  const auto port = free_port();
  scoped_container web("it-health-away", health_server(port), "--network host");
  ASSERT_EQ(h.server.put(check_path(h.host_id, web.name), check_body(port)).status, 200u);
  ASSERT_TRUE(wait_for_check(h.server, h.host_id, web.name, "healthy"));
  const auto first_start = started_at(web.name);

  h.server.kill_hard();
  h.agent.restart();  // with no server to sync from: only its data folder's last synced set
  ASSERT_EQ(docker_cli("exec it-health-away rm /www/health").exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return started_at(web.name) != first_start; }, 40s)) << h.agent.log();
  ASSERT_EQ(docker_cli("exec it-health-away sh -c 'echo ok > /www/health'").exit_code, 0);

  h.server.restart();
  ASSERT_TRUE(h.server.wait_for_host(h.host_id, "online", 30s));
  auto status = wait_for_check(h.server, h.host_id, web.name, "healthy", 40s);
  ASSERT_TRUE(status) << h.server.get(check_path(h.host_id, web.name)).body;
  // What happened while the server was away reached it: the restart among it.
  ASSERT_TRUE(wait_until([&] { return health_actions(h.server, web.name).contains("auto_restart"); }, 20s))
      << h.server.get("/api/events?type=health").body;
}

TEST(health_checks, the_server_speaks_dockmon_s_frames_and_checks_what_users_send) {
  test_server server;
  ws_client ws(server.port());
  ws.keep_health_sync();
  ws.send(register_frame(server.registration_token(), "ENGINE:HEALTH"));
  auto reply = ws.read_json();
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->at("type").as_string(), "auth_success");
  EXPECT_TRUE(reply->at("health_thresholds").as_bool()) << "this server lets the agent apply the thresholds";
  const std::string host_id(reply->at("host_id").as_string());
  const std::string permanent(reply->at("permanent_token").as_string());
  auto sync = ws.read_json();
  ASSERT_TRUE(sync);
  EXPECT_EQ(json::serialize(*sync), R"({"type":"health_check_configs_sync","payload":{"configs":[]}})")
      << "after every registration, even with nothing to check";

  const std::string id = "4f2a1c9e8d7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f";
  auto bad = server.put(check_path(host_id, "web"), R"({"url":"file:///etc/passwd"})");
  auto put = std::async(std::launch::async, [&] {
    return server.put(check_path(host_id, "web"),
                      R"({"url":"http://{container}:8080/health","expected_status":"200-299","headers":{"X-Key":"k"},)"
                      R"("auth":{"type":"basic","username":"u","password":"secret-pw"}})");
  });
  // The server asks the agent which container "web" is.
  auto op = ws.read_json();
  ASSERT_TRUE(op);
  ASSERT_EQ(op->at("type").as_string(), "container_operation") << json::serialize(*op);
  ws.send(json::object{{"correlation_id", op->at("correlation_id")}, {"success", true},
                       {"container", json::object{{"Id", id}, {"Name", "/web"}}}});
  EXPECT_EQ(bad.status, 400u);
  EXPECT_NE(bad.body.find("url"), std::string::npos) << bad.body << " (refused before the agent is asked anything)";
  auto res = put.get();
  ASSERT_EQ(res.status, 200u) << res.body;
  EXPECT_EQ(res.body.find("secret-pw"), std::string::npos) << "answers mask the credentials";
  EXPECT_EQ(server.sql("SELECT settings || secrets_sealed FROM health_checks").find("secret-pw"), std::string::npos)
      << "and the store holds them sealed";

  auto pushed = ws.read_json();
  ASSERT_TRUE(pushed);
  ASSERT_EQ(pushed->at("type").as_string(), "health_check_config") << "a change is pushed at once";
  const auto& cfg = pushed->at("payload").as_object();
  // backend/agent/health_check_sync.py's _build_config_payload, field by field.
  for (const char* field : {"container_id", "host_id", "enabled", "url", "method", "expected_status_codes", "timeout_seconds",
                            "check_interval_seconds", "follow_redirects", "verify_ssl", "headers_json", "auth_config_json"})
    EXPECT_TRUE(cfg.contains(field)) << field;
  EXPECT_EQ(cfg.at("container_id").as_string(), id.substr(0, 12)) << "DockMon's short id";
  EXPECT_EQ(cfg.at("host_id").as_string(), host_id);
  EXPECT_EQ(cfg.at("expected_status_codes").as_string(), "200-299");
  EXPECT_TRUE(cfg.at("headers_json").is_string()) << "headers and auth travel as JSON text";
  EXPECT_EQ(json::parse(cfg.at("auth_config_json").as_string()).at("password").as_string(), "secret-pw")
      << "the agent gets the real credentials";
  EXPECT_EQ(cfg.at("failure_threshold").as_int64(), 3) << "our policy fields beside DockMon's";

  // The agent's results: a state change reaches the API and the events.
  ws.send(json::object{{"type", "event"}, {"command", "health_check_result"},
                       {"payload", json::object{{"container_id", id.substr(0, 12)}, {"host_id", host_id}, {"healthy", false},
                                                {"status_code", 503}, {"response_time_ms", 7}, {"error_message", "status 503"},
                                                {"timestamp", "2026-12-03T10:00:00Z"}, {"state", "unhealthy"},
                                                {"consecutive_failures", 3}, {"restarts", 0}, {"gave_up", false}}}});
  ASSERT_TRUE(wait_for_check(server, host_id, "web", "unhealthy", 10s));
  ASSERT_TRUE(wait_for_check(server, host_id, id, "unhealthy", 10s)) << "found by the container's id as well";

  // Removed: the agent is told to stop that check.
  auto gone = server.del(check_path(host_id, "web"));
  ASSERT_EQ(gone.status, 200u) << gone.body;
  auto removal = ws.read_json();
  ASSERT_TRUE(removal);
  EXPECT_EQ(json::serialize(*removal), R"({"type":"health_check_config_remove","payload":{"container_id":")" + id.substr(0, 12) + "\"}}");
  EXPECT_EQ(server.get(check_path(host_id, "web")).status, 404u);
  EXPECT_EQ(server.sql("SELECT COUNT(*) FROM health_checks"), "0\n");
  (void)permanent;
}

TEST(health_checks, a_container_that_exits_by_itself_is_restarted_when_asked_until_the_attempts_run_out) {
  server_and_agent h;
  const auto port = free_port();
  // Serves for four seconds (busybox httpd without -f runs in the background), then exits with 3 by
  // itself: no kill, no stop, Docker's restart policy "no".
  scoped_container web("it-health-exit", "mkdir -p /www && echo ok > /www/health && httpd -p 127.0.0.1:" + std::to_string(port) +
                                             " -h /www; sleep 4; exit 3", "--network host");
  auto put = h.server.put(check_path(h.host_id, web.name),
                          R"({"url":"http://{container}:)" + std::to_string(port) +
                              R"(/health","interval_s":5,"failure_threshold":2,"restart_on_exit":true,"max_restarts":2,"restart_delay_s":0})");
  ASSERT_EQ(put.status, 200u) << put.body;
  ASSERT_TRUE(wait_until([&] {
    auto res = h.server.get(check_path(h.host_id, web.name));
    return res.status == 200 && res.json().at("gave_up").as_bool();
  }, 60s)) << h.server.get(check_path(h.host_id, web.name)).body << h.agent.log();
  auto last = h.server.get(check_path(h.host_id, web.name)).json();
  const auto& log = last.at("restart_log").as_array();
  ASSERT_EQ(log.size(), 3u) << json::serialize(last);
  EXPECT_EQ(log[0].at("reason").as_string(), "exited");
  EXPECT_TRUE(log[0].at("ok").as_bool());
  EXPECT_EQ(log[1].at("attempt").as_int64(), 2);
  EXPECT_TRUE(log[2].at("gave_up").as_bool());
  EXPECT_EQ(log[2].at("reason").as_string(), "exited");
  EXPECT_EQ(docker_inspect(web.name, "{{.State.ExitCode}}"), "3") << "left as it ended after the last attempt";
  EXPECT_TRUE(wait_for_check(h.server, h.host_id, web.name, "stopped", 20s));
}
