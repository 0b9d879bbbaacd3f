// Container operations through the REST API change the real container as `docker inspect` sees it.
#include "harness.hpp"

#include <gtest/gtest.h>

using namespace dockmon;
using namespace dockmon::test;

namespace {

class containers : public shared_host {};

}  // namespace

TEST_F(containers, list_shows_every_state) {
  scoped_container running("it-list-running", "sleep 1000");
  scoped_container stopped("it-list-stopped", "true");
  ASSERT_TRUE(wait_until([&] { return docker_inspect(stopped.name, "{{.State.Running}}") == "false"; }, 10s));
  auto res = server_->get(base());
  ASSERT_EQ(res.status, 200u) << res.body;
  auto list = res.json();  // kept alive: a range-for over a temporary's member would dangle
  std::map<std::string, std::string> states;
  for (auto& c : list.as_array())
    states[std::string(c.at("name").as_string())] = std::string(c.at("state").as_string());
  EXPECT_EQ(states["it-list-running"], "running");
  EXPECT_EQ(states["it-list-stopped"], "exited");
  for (auto& c : list.as_array()) {
    if (c.at("name").as_string() != "it-list-running") continue;
    EXPECT_EQ(c.at("id").as_string(), running.id);
    EXPECT_EQ(c.at("image").as_string(), "dockmon-test/busybox:latest");
  }
}

TEST_F(containers, inspect_returns_dockers_own_answer) {
  scoped_container c("it-inspect", "sleep 1000", "--label team=ops");
  auto res = server_->get(base() + "/it-inspect");
  ASSERT_EQ(res.status, 200u) << res.body;
  auto body = res.json();
  EXPECT_EQ(body.at("Id").as_string(), c.id);
  EXPECT_EQ(body.at("Config").at("Labels").at("team").as_string(), "ops");
}

TEST_F(containers, stop_start_restart_kill_change_the_real_container) {
  // `trap` makes busybox's PID 1 honour SIGTERM, so stop does not wait for the kill timeout.
  scoped_container c("it-lifecycle", "trap \"exit 0\" TERM; sleep 100000 & wait");
  auto stop = server_->post(base() + "/it-lifecycle/stop?timeout=5");
  ASSERT_EQ(stop.status, 200u) << stop.body;
  EXPECT_EQ(stop.json().at("status").as_string(), "stopped");
  EXPECT_TRUE(stop.json().at("success").as_bool());
  EXPECT_EQ(docker_inspect(c.name, "{{.State.Running}}"), "false");

  auto start = server_->post(base() + "/it-lifecycle/start");
  ASSERT_EQ(start.status, 200u) << start.body;
  EXPECT_EQ(start.json().at("status").as_string(), "started");
  EXPECT_EQ(docker_inspect(c.name, "{{.State.Running}}"), "true");

  auto started_at = docker_inspect(c.name, "{{.State.StartedAt}}");
  auto restart = server_->post(base() + "/it-lifecycle/restart?timeout=5");
  ASSERT_EQ(restart.status, 200u) << restart.body;
  EXPECT_EQ(restart.json().at("status").as_string(), "restarted");
  EXPECT_EQ(docker_inspect(c.name, "{{.State.Running}}"), "true");
  EXPECT_NE(docker_inspect(c.name, "{{.State.StartedAt}}"), started_at);

  auto kill = server_->post(base() + "/it-lifecycle/kill");
  ASSERT_EQ(kill.status, 200u) << kill.body;
  EXPECT_EQ(kill.json().at("status").as_string(), "killed");
  EXPECT_EQ(docker_inspect(c.name, "{{.State.Running}}"), "false");
  EXPECT_EQ(docker_inspect(c.name, "{{.State.ExitCode}}"), "137");
}

TEST_F(containers, rename_and_remove) {
  scoped_container c("it-rename-old", "sleep 1000");
  auto rename = server_->post(base() + "/it-rename-old/rename", R"({"new_name":"it-rename-new"})");
  ASSERT_EQ(rename.status, 200u) << rename.body;
  EXPECT_EQ(rename.json().at("status").as_string(), "renamed");
  EXPECT_EQ(docker_inspect(c.id, "{{.Name}}"), "/it-rename-new");

  auto refused = server_->del(base() + "/it-rename-new");
  EXPECT_EQ(refused.status, 409u) << "a running container needs force: " << refused.body;
  EXPECT_EQ(docker_inspect(c.id, "{{.State.Running}}"), "true");

  auto removed = server_->del(base() + "/it-rename-new?force=true");
  ASSERT_EQ(removed.status, 200u) << removed.body;
  EXPECT_TRUE(removed.json().at("removed").as_bool());
  EXPECT_EQ(docker_inspect(c.id, "{{.Id}}"), "<missing>");
}

TEST_F(containers, logs_carry_stdout_and_stderr_and_honour_tail) {
  // Docker copies stdout and stderr separately: the pause gives the two streams a definite order.
  scoped_container c("it-logs", "for i in 1 2 3 4 5; do echo out-$i; done; sleep 1; echo err-line >&2; sleep 1000");
  ASSERT_TRUE(wait_until([&] { return docker_cli("logs it-logs").output.find("err-line") != std::string::npos; }, 10s));
  auto all = server_->get(base() + "/it-logs/logs?tail=100");
  ASSERT_EQ(all.status, 200u) << all.body;
  std::string logs(all.json().at("logs").as_string());
  EXPECT_NE(logs.find("out-1\n"), std::string::npos) << logs;
  EXPECT_NE(logs.find("err-line\n"), std::string::npos) << logs;
  EXPECT_EQ(logs.find('\x01'), std::string::npos) << "multiplexing headers were removed";

  auto tail = server_->get(base() + "/it-logs/logs?tail=2");
  ASSERT_EQ(tail.status, 200u);
  std::string last(tail.json().at("logs").as_string());
  EXPECT_EQ(last.find("out-1"), std::string::npos) << last;
  EXPECT_NE(last.find("err-line"), std::string::npos) << last;

  EXPECT_EQ(server_->get(base() + "/it-logs/logs?tail=lots").status, 400u);
  EXPECT_EQ(server_->get(base() + "/it-logs/logs?tail=10001").status, 400u);
}

TEST_F(containers, tty_logs_are_passed_through) {
  scoped_container c("it-tty", "echo tty-line; sleep 1000", "-t");
  ASSERT_TRUE(wait_until([&] { return docker_cli("logs it-tty").output.find("tty-line") != std::string::npos; }, 10s));
  auto res = server_->get(base() + "/it-tty/logs?tail=10");
  ASSERT_EQ(res.status, 200u) << res.body;
  EXPECT_NE(std::string(res.json().at("logs").as_string()).find("tty-line"), std::string::npos);
}

TEST_F(containers, errors_have_fitting_statuses) {
  auto missing = server_->post(base() + "/no-such-container-here/start");
  EXPECT_EQ(missing.status, 404u) << missing.body;
  EXPECT_NE(missing.body.find("No such container"), std::string::npos);
  EXPECT_EQ(server_->get(base() + "/no-such-container-here").status, 404u);
  EXPECT_EQ(server_->post(base() + "/bad%2F..%2Fid/start").status, 400u);
  EXPECT_EQ(server_->post(base() + "/x/rename", R"({"new_name":"../etc"})").status, 400u);
  EXPECT_EQ(server_->get("/api/hosts/00000000-0000-0000-0000-000000000000/containers").status, 404u);
  EXPECT_EQ(server_->get("/api/hosts/not-a-host").status, 404u);
  EXPECT_EQ(server_->post(base() + "/x/explode").status, 404u);
}

TEST_F(containers, dockmon_itself_cannot_be_stopped_killed_removed_renamed_or_updated) {
  scoped_container by_name("dockmon-it-self", "sleep 1000");
  scoped_container by_label("it-labelled", "sleep 1000", "--label app=dockmon");
  for (const char* name : {"dockmon-it-self", "it-labelled"}) {
    std::string path = base() + "/" + name;
    const auto id = docker_inspect(name, "{{.Id}}");
    EXPECT_EQ(server_->post(path + "/stop").status, 403u) << name;
    EXPECT_EQ(server_->post(path + "/kill").status, 403u) << name;
    EXPECT_EQ(server_->del(path + "?force=true").status, 403u) << name;
    EXPECT_EQ(server_->post(path + "/rename", R"({"new_name":"not-dockmon-any-more"})").status, 403u) << name;
    EXPECT_EQ(server_->post(path + "/update", R"({"image":"dockmon-test/busybox:latest"})").status, 403u) << name;
    EXPECT_EQ(docker_inspect(name, "{{.State.Running}}"), "true") << name;
    EXPECT_EQ(docker_inspect(name, "{{.Id}}"), id) << name << " was not replaced";
  }
  EXPECT_EQ(server_->get(base() + "/dockmon-it-self/logs").status, 200u) << "looking is allowed";
}

TEST_F(containers, viewers_see_no_environment_values_in_inspect_or_logs) {
  const std::string secret = "hunter2-very-secret-value";
  scoped_container c("it-secrets", "echo connecting with $DB_PASSWORD; sleep 100000", "-e DB_PASSWORD=" + secret + " -e MODE=1");
  ASSERT_TRUE(wait_until([&] { return docker_cli("logs it-secrets").output.find(secret) != std::string::npos; }, 10s));
  auto viewer = server_->api_key("viewer");
  auto as_viewer = [&](const std::string& path) {
    return server_->request(http::verb::get, base() + path, {}, {{"Authorization", "Bearer " + viewer}});
  };
  auto inspect = as_viewer("/it-secrets");
  ASSERT_EQ(inspect.status, 200u) << inspect.body;
  EXPECT_EQ(inspect.body.find(secret), std::string::npos) << inspect.body;
  EXPECT_NE(inspect.body.find("DB_PASSWORD=(hidden)"), std::string::npos) << "the names stay";
  auto logs = as_viewer("/it-secrets/logs");
  ASSERT_EQ(logs.status, 200u) << logs.body;
  EXPECT_EQ(logs.body.find(secret), std::string::npos) << logs.body;
  EXPECT_NE(logs.body.find("connecting with (hidden)"), std::string::npos) << logs.body;
  // Operators (and admins) see what is there.
  EXPECT_NE(server_->get(base() + "/it-secrets").body.find("DB_PASSWORD=" + secret), std::string::npos);
  EXPECT_NE(server_->get(base() + "/it-secrets/logs").body.find(secret), std::string::npos);
}

TEST_F(containers, credentials_and_roles_are_enforced) {
  scoped_container c("it-roles", "sleep 1000");
  for (auto [method, path] : {std::pair{http::verb::get, std::string("/api/hosts")},
                              std::pair{http::verb::get, "/api/hosts/" + host_id_},
                              std::pair{http::verb::get, base()},
                              std::pair{http::verb::post, base() + "/it-roles/stop"},
                              std::pair{http::verb::delete_, base() + "/it-roles"},
                              std::pair{http::verb::post, std::string("/api/agent/generate-token")},
                              std::pair{http::verb::post, std::string("/api/api-keys")}}) {
    EXPECT_EQ(server_->request(method, path, "{}", {}).status, 401u) << path;
    EXPECT_EQ(server_->request(method, path, "{}", {{"Authorization", "Bearer dm_forged"}}).status, 401u) << path;
    EXPECT_EQ(server_->request(method, path, "{}", {{"Cookie", "dockmon_session=forged"}}).status, 401u) << path;
  }
  auto viewer = server_->api_key("viewer");
  std::map<std::string, std::string> as_viewer{{"Authorization", "Bearer " + viewer}};
  EXPECT_EQ(server_->request(http::verb::get, base(), {}, as_viewer).status, 200u);
  EXPECT_EQ(server_->request(http::verb::post, base() + "/it-roles/stop", {}, as_viewer).status, 403u);
  EXPECT_EQ(server_->request(http::verb::post, "/api/agent/generate-token", {}, as_viewer).status, 403u);
  EXPECT_EQ(docker_inspect(c.name, "{{.State.Running}}"), "true");

  auto operator_key = server_->api_key("operator");
  auto stop = server_->request(http::verb::post, base() + "/it-roles/kill", {}, {{"Authorization", "Bearer " + operator_key}});
  EXPECT_EQ(stop.status, 200u) << stop.body;
  EXPECT_EQ(docker_inspect(c.name, "{{.State.Running}}"), "false");
}

TEST_F(containers, sign_in_and_out) {
  EXPECT_EQ(http_request(server_->port(), http::verb::post, "/api/auth/login", R"({"username":"admin","password":"wrong"})")
                .status,
            401u);
  auto ok = http_request(server_->port(), http::verb::post, "/api/auth/login",
                         R"({"username":"admin","password":"integration-admin-pw"})");
  ASSERT_EQ(ok.status, 200u);
  auto cookie = ok.headers["set-cookie"];
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos);
  std::map<std::string, std::string> session{{"Cookie", cookie.substr(0, cookie.find(';'))}};
  EXPECT_EQ(server_->request(http::verb::get, "/api/auth/me", {}, session).status, 200u);
  EXPECT_EQ(server_->request(http::verb::post, "/api/auth/logout", {}, session).status, 200u);
  EXPECT_EQ(server_->request(http::verb::get, "/api/auth/me", {}, session).status, 401u);
}

TEST_F(containers, a_log_request_bigger_than_the_cap_gets_the_newest_10_mib_and_memory_stays_bounded) {
  // 12000 lines of 4096 bytes: the largest tail the API allows (10000 lines) asks the agent for 40 MiB;
  // it keeps the newest 10 MiB of whole lines while reading and answers with those.
  scoped_container c("it-biglog",
                     "x=x; for i in 1 2 3 4 5 6 7 8 9 10 11 12; do x=$x$x; done; i=0; while [ $i -lt 12000 ]; do echo $x; i=$((i+1)); done; "
                     "echo END-OF-LOG; sleep 1000");
  ASSERT_TRUE(wait_until([&] { return docker_cli("logs --tail 1 it-biglog").output.find("END-OF-LOG") != std::string::npos; }, 60s));
  auto res = server_->get(base() + "/it-biglog/logs?tail=10000");
  ASSERT_EQ(res.status, 200u) << res.body.substr(0, 300);
  std::string logs(res.json().at("logs").as_string());
  EXPECT_LE(logs.size(), 10u * 1024 * 1024);
  EXPECT_GE(logs.size(), 9u * 1024 * 1024);
  EXPECT_EQ(logs.substr(logs.size() - 11), "END-OF-LOG\n") << "the newest lines are the ones kept";
  EXPECT_EQ(logs.find('\n'), 4096u) << "whole lines only";
  // The agent read 40 MiB and holds none of it afterwards beyond its usual few MiB plus the cap.
  auto rss = shell("awk '/^VmRSS/ {print $2}' /proc/" + std::to_string(agent_->proc().pid()) + "/status").output;
  EXPECT_LT(std::stoul(rss), 64UL * 1024) << "agent RSS " << rss << " KiB";
  EXPECT_EQ(server_->get(base() + "/it-biglog/logs?tail=10737418240").status, 400u) << "10 Gi lines";
}

TEST_F(containers, container_ids_with_path_or_url_metacharacters_never_reach_docker) {
  for (const char* bad : {"..%2F..%2Fversion", "..", "x%3Fforce%3D1", "x;reboot", "x%00y", "%2e%2e"}) {
    EXPECT_EQ(server_->get(base() + "/" + bad).status, 400u) << bad;
    EXPECT_EQ(server_->post(base() + "/" + std::string(bad) + "/stop").status, 400u) << bad;
  }
  EXPECT_EQ(agent_->log().find("..%2F"), std::string::npos) << "refused by the server before the agent saw it";
}
