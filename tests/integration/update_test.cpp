// Rolling container updates against the test dockerd and the local registry (127.0.0.1:5000): images
// built here in two versions, pushed, removed locally so the agent really pulls them; the docker CLI
// and the events the server stored are the witnesses.
#include "harness.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

using namespace dockmon;
using namespace dockmon::test;

namespace {

std::string registry() {
  const char* r = std::getenv("DOCKMON_TEST_REGISTRY");
  return r != nullptr && *r != '\0' ? r : "127.0.0.1:5000";
}

// Builds an image FROM the busybox test image whose /version says `version`, with the given
// HEALTHCHECK line, pushes it to the registry and removes it locally.
void build_and_push(const std::string& tag, const std::string& version, const std::string& healthcheck,
                    const std::string& command = "cat /version; sleep 100000") {
  const auto dir = make_temp_dir("dockmon-it-image");
  std::ofstream(dir + "/version") << version << "\n";
  std::ofstream(dir + "/Dockerfile") << "FROM dockmon-test/busybox:latest\n"
                                     << "COPY version /version\n"
                                     << healthcheck << "\n"
                                     << "LABEL dockmon.test.version=" << version << "\n"
                                     << "CMD [\"sh\", \"-c\", \"" << command << "\"]\n";
  auto built = shell("DOCKER_BUILDKIT=0 docker -H " + docker_host() + " build -q -t " + tag + " " + dir + " 2>&1");
  ASSERT_EQ(built.exit_code, 0) << built.output;
  auto pushed = docker_cli("push " + tag + " 2>&1");
  ASSERT_EQ(pushed.exit_code, 0) << pushed.output;
  docker_cli("rmi " + tag);
  std::filesystem::remove_all(dir);
}

class updates : public shared_host {
 protected:
  http_response update(const std::string& name, const std::string& image, int health_timeout = 30) {
    json::object body{{"image", image}, {"health_timeout", health_timeout}, {"stop_timeout", 2}};
    return server_->post(base() + "/" + name + "/update", json::serialize(body));
  }

  // The stored update events for a container id (old or new), oldest first.
  std::vector<std::string> update_actions(const std::string& container_id) {
    auto res = server_->get("/api/events?type=update&host_id=" + host_id_ + "&limit=1000");
    std::vector<std::string> actions;
    if (res.status != 200) return actions;
    auto list = res.json();
    for (const auto& e : list.as_array()) {
      if (e.at("type") != "update") continue;
      const auto& attrs = e.at("attributes").as_object();
      const bool mine = e.at("container_id").as_string() == container_id ||
                        (attrs.contains("old_container_id") && attrs.at("old_container_id").as_string() == container_id);
      if (mine) actions.insert(actions.begin(), std::string(e.at("action").as_string()));
    }
    return actions;
  }

  bool has_action(const std::string& container_id, const std::string& action) {
    auto actions = update_actions(container_id);
    return std::find(actions.begin(), actions.end(), action) != actions.end();
  }
};

// Removes the named containers (and volumes) when the test ends, however it ends.
struct cleanup {
  std::vector<std::string> containers, volumes;
  ~cleanup() {
    for (const auto& c : containers) docker_cli("rm -f " + c);
    for (const auto& v : volumes) docker_cli("volume rm " + v);
  }
};

const std::string good_health = "HEALTHCHECK --interval=1s --timeout=2s --retries=3 CMD test -f /version";

}  // namespace

TEST_F(updates, a_container_moves_to_v2_with_its_configuration_and_its_data) {
  const auto repo = registry() + "/dockmon-it/update-good";
  build_and_push(repo + ":v1", "v1", good_health);
  build_and_push(repo + ":v2", "v2", good_health);
  cleanup done{{"it-update-good"}, {"it-update-data"}};
  docker_cli("rm -f it-update-good");
  docker_cli("volume rm it-update-data");
  auto run = docker_cli("run -d --name it-update-good --network none -e APP_MODE=prod -l team=web "
                        "--restart unless-stopped -v it-update-data:/data --memory 64m " + repo + ":v1");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const std::string old_id = docker_inspect("it-update-good", "{{.Id}}");  // the output has the pull's progress too
  ASSERT_EQ(docker_cli("exec it-update-good sh -c 'echo precious > /data/file'").exit_code, 0);
  ASSERT_TRUE(wait_until([] { return docker_inspect("it-update-good", "{{.State.Health.Status}}") == "healthy"; }, 30s));

  // The live feed shows the stages as they happen.
  ws_client feed(server_->port(), "/ws", {{"Cookie", server_->cookie()}});
  feed.send(json::object{{"type", "subscribe"}, {"hosts", json::array{host_id_}}});

  auto res = update("it-update-good", repo + ":v2");
  ASSERT_EQ(res.status, 202u) << res.body;
  EXPECT_EQ(res.json().at("status"), "update_started");
  std::vector<std::string> stages;
  bool saw_layer = false;
  const auto deadline = std::chrono::steady_clock::now() + 90s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto frame = feed.read_json(5s);
    if (!frame || !frame->is_object()) continue;
    const auto& f = frame->as_object();
    if (f.at("type") != "update_progress") continue;
    std::string stage(f.at("stage").as_string());
    if (f.contains("layer")) saw_layer = true;
    if (stages.empty() || stages.back() != stage) stages.push_back(stage);
    if (stage == "completed" || stage == "failed") break;
  }
  const std::vector<std::string> expected{"pulling", "configuring", "backup", "creating", "starting", "health_check",
                                          "cleanup", "completed"};
  EXPECT_EQ(stages, expected);
  EXPECT_TRUE(saw_layer) << "per-layer pull progress";

  // Same name, new image, same configuration, same data; the old container is gone.
  EXPECT_EQ(docker_inspect("it-update-good", "{{.Config.Image}}"), repo + ":v2");
  const auto new_id = docker_inspect("it-update-good", "{{.Id}}");
  EXPECT_NE(new_id, old_id);
  EXPECT_EQ(docker_inspect(old_id, "{{.Id}}"), "<missing>");
  EXPECT_EQ(docker_inspect("it-update-good", "{{.State.Running}}"), "true");
  EXPECT_EQ(docker_inspect("it-update-good", "{{.State.Health.Status}}"), "healthy");
  EXPECT_NE(docker_inspect("it-update-good", "{{json .Config.Env}}").find("APP_MODE=prod"), std::string::npos);
  EXPECT_EQ(docker_inspect("it-update-good", "{{index .Config.Labels \"team\"}}"), "web");
  EXPECT_EQ(docker_inspect("it-update-good", "{{index .Config.Labels \"dockmon.test.version\"}}"), "v2");
  EXPECT_EQ(docker_inspect("it-update-good", "{{.HostConfig.RestartPolicy.Name}}"), "unless-stopped");
  EXPECT_EQ(docker_inspect("it-update-good", "{{.HostConfig.Memory}}"), "67108864");
  EXPECT_EQ(docker_cli("exec it-update-good cat /version").output, "v2\n");
  EXPECT_EQ(docker_cli("exec it-update-good cat /data/file").output, "precious\n");
  EXPECT_TRUE(wait_until([&] { return has_action(new_id, "update_complete"); }, 10s)) << "the outcome is stored as an event";
  EXPECT_TRUE(has_action(old_id, "completed"));
  docker_cli("rm -f it-update-good");
  docker_cli("volume rm it-update-data");
}

TEST_F(updates, an_image_whose_healthcheck_fails_is_rolled_back) {
  const auto repo = registry() + "/dockmon-it/update-bad";
  build_and_push(repo + ":v1", "v1", good_health);
  build_and_push(repo + ":v2", "v2", "HEALTHCHECK --interval=1s --timeout=1s --retries=2 CMD false");
  cleanup done{{"it-update-bad"}, {}};
  docker_cli("rm -f it-update-bad");
  auto run = docker_cli("run -d --name it-update-bad --network none -l team=web " + repo + ":v1");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const std::string old_id = docker_inspect("it-update-bad", "{{.Id}}");  // the output has the pull's progress too

  auto res = update("it-update-bad", repo + ":v2", 20);
  ASSERT_EQ(res.status, 202u) << res.body;
  ASSERT_TRUE(wait_until([&] { return has_action(old_id, "rollback"); }, 90s)) << agent_->log();
  EXPECT_TRUE(has_action(old_id, "failed"));
  // The original, under its own name, running again; nothing left of the new one.
  EXPECT_EQ(docker_inspect("it-update-bad", "{{.Id}}"), old_id);
  EXPECT_EQ(docker_inspect("it-update-bad", "{{.State.Running}}"), "true");
  EXPECT_EQ(docker_inspect("it-update-bad", "{{.Config.Image}}"), repo + ":v1");
  EXPECT_EQ(docker_cli("ps -a --filter label=dockmon.test.version=v2 -q").output, "\n") << "the failed container was removed";
  docker_cli("rm -f it-update-bad");
}

TEST_F(updates, a_pull_that_fails_changes_nothing) {
  const auto repo = registry() + "/dockmon-it/update-missing";
  build_and_push(repo + ":v1", "v1", good_health);
  cleanup done{{"it-update-missing"}, {}};
  docker_cli("rm -f it-update-missing");
  auto run = docker_cli("run -d --name it-update-missing --network none " + repo + ":v1");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const std::string old_id = docker_inspect("it-update-missing", "{{.Id}}");  // the output has the pull's progress too
  const auto started_at = docker_inspect("it-update-missing", "{{.State.StartedAt}}");

  auto res = update("it-update-missing", repo + ":no-such-tag");
  ASSERT_EQ(res.status, 202u) << res.body;
  ASSERT_TRUE(wait_until([&] { return has_action(old_id, "failed"); }, 60s)) << agent_->log();
  EXPECT_FALSE(has_action(old_id, "rollback")) << "nothing to roll back: nothing was touched";
  EXPECT_EQ(docker_inspect("it-update-missing", "{{.Id}}"), old_id);
  EXPECT_EQ(docker_inspect("it-update-missing", "{{.State.StartedAt}}"), started_at) << "not even restarted";

  // Bad requests are refused before they reach the agent, and viewers may not update.
  EXPECT_EQ(server_->post(base() + "/it-update-missing/update", R"({"image":"bad image!"})").status, 400u);
  EXPECT_EQ(server_->post(base() + "/it-update-missing/update", R"({"image":"x","health_timeout":-1})").status, 400u);
  auto viewer = server_->api_key("viewer");
  EXPECT_EQ(server_->request(http::verb::post, base() + "/it-update-missing/update", R"({"image":"x:v2"})",
                             {{"Authorization", "Bearer " + viewer}})
                .status,
            403u);
  docker_cli("rm -f it-update-missing");
}

TEST_F(updates, registry_credentials_are_never_written_down) {
  const auto repo = registry() + "/dockmon-it/update-creds";
  build_and_push(repo + ":v1", "v1", good_health);
  build_and_push(repo + ":v2", "v2", good_health);
  cleanup done{{"it-update-creds"}, {}};
  docker_cli("rm -f it-update-creds");
  auto run = docker_cli("run -d --name it-update-creds --network none " + repo + ":v1");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const std::string old_id = docker_inspect("it-update-creds", "{{.Id}}");  // the output has the pull's progress too
  const std::string secret = "s3cr3t-Pa55word-for-the-registry";
  json::object body{{"image", repo + ":v2"},
                    {"registry_auth", json::object{{"username", "deploy"}, {"password", secret}, {"serveraddress", registry()}}}};
  auto res = server_->post(base() + "/it-update-creds/update", json::serialize(body));
  ASSERT_EQ(res.status, 202u) << res.body;
  ASSERT_TRUE(wait_until([&] { return has_action(old_id, "completed"); }, 90s)) << agent_->log();
  EXPECT_EQ(agent_->log().find(secret), std::string::npos);
  EXPECT_EQ(server_->proc().log().find(secret), std::string::npos);
  EXPECT_EQ(shell("cat " + agent_->data_dir() + "/audit.log").output.find(secret), std::string::npos);
  EXPECT_EQ(server_->sql("SELECT * FROM audit_log; SELECT * FROM events;").find(secret), std::string::npos);
  docker_cli("rm -f it-update-creds");
}

TEST_F(updates, a_container_that_owns_the_host_moves_to_another_repository_only_when_confirmed) {
  const auto repo = registry() + "/dockmon-it/update-privileged";
  const auto other = registry() + "/dockmon-it/someone-elses";
  build_and_push(repo + ":v1", "v1", good_health);
  build_and_push(other + ":v1", "other", good_health);
  cleanup done{{"it-update-privileged", "it-update-socket"}, {}};
  docker_cli("rm -f it-update-privileged it-update-socket");
  // This sandbox cannot start a privileged container (no capabilities to give), but it can create one, and
  // the refusal comes before anything is started.
  ASSERT_EQ(docker_cli("create --name it-update-privileged --network none --privileged " + repo + ":v1").exit_code, 0);
  const auto socket = docker_host().substr(std::string("unix://").size());
  ASSERT_EQ(docker_cli("run -d --name it-update-socket --network none -v " + socket + ":/var/run/docker.sock " + repo + ":v1").exit_code, 0);
  const std::string old_id = docker_inspect("it-update-socket", "{{.Id}}");

  for (const char* name : {"it-update-privileged", "it-update-socket"}) {
    auto refused = update(name, other + ":v1");
    EXPECT_EQ(refused.status, 403u) << name << ": " << refused.body;
    EXPECT_NE(refused.body.find("allow_privileged_repository_change"), std::string::npos) << refused.body;
    EXPECT_EQ(docker_inspect(name, "{{.Config.Image}}"), repo + ":v1") << name;
  }
  EXPECT_EQ(docker_inspect("it-update-socket", "{{.Id}}"), old_id) << "nothing was touched";
  auto audit = server_->get("/api/audit?limit=50");
  EXPECT_NE(audit.body.find("privileged container to another repository, not confirmed"), std::string::npos) << audit.body;

  json::object body{{"image", other + ":v1"}, {"health_timeout", 30}, {"stop_timeout", 2}, {"allow_privileged_repository_change", true}};
  auto confirmed = server_->post(base() + "/it-update-socket/update", json::serialize(body));
  ASSERT_EQ(confirmed.status, 202u) << confirmed.body;
  ASSERT_TRUE(wait_until([&] { return has_action(old_id, "completed"); }, 90s)) << agent_->log();
  EXPECT_EQ(docker_inspect("it-update-socket", "{{.Config.Image}}"), other + ":v1");
  EXPECT_NE(docker_inspect("it-update-socket", "{{json .Mounts}}").find("/var/run/docker.sock"), std::string::npos)
      << "with the socket it had";
  auto audit_after = server_->get("/api/audit?limit=50");
  EXPECT_NE(audit_after.body.find("(privileged, another repository: confirmed)"), std::string::npos) << audit_after.body;
}

TEST_F(updates, without_a_healthcheck_a_settled_run_decides) {
  const auto repo = registry() + "/dockmon-it/update-nohealth";
  build_and_push(repo + ":v1", "v1", "");
  build_and_push(repo + ":v2", "v2", "");
  build_and_push(repo + ":crashes", "crashes", "", "cat /version; exit 3");
  cleanup done{{"it-update-nohealth"}, {}};
  docker_cli("rm -f it-update-nohealth");
  ASSERT_EQ(docker_cli("run -d --name it-update-nohealth --network none " + repo + ":v1").exit_code, 0);
  const std::string first_id = docker_inspect("it-update-nohealth", "{{.Id}}");
  ASSERT_EQ(docker_inspect("it-update-nohealth", "{{.State.Health}}"), "<nil>") << "no healthcheck in this image";

  // A program that keeps running is judged healthy once it has run for the settle time.
  ASSERT_EQ(update("it-update-nohealth", repo + ":v2").status, 202u);
  ASSERT_TRUE(wait_until([&] { return has_action(first_id, "completed"); }, 90s)) << agent_->log();
  EXPECT_EQ(docker_inspect("it-update-nohealth", "{{.Config.Image}}"), repo + ":v2");
  EXPECT_EQ(docker_inspect("it-update-nohealth", "{{.State.Running}}"), "true");
  const std::string second_id = docker_inspect("it-update-nohealth", "{{.Id}}");

  // One that exits at start does not settle: the v2 container comes back.
  ASSERT_EQ(update("it-update-nohealth", repo + ":crashes").status, 202u);
  ASSERT_TRUE(wait_until([&] { return has_action(second_id, "rollback"); }, 90s)) << agent_->log();
  EXPECT_EQ(docker_inspect("it-update-nohealth", "{{.Id}}"), second_id);
  EXPECT_EQ(docker_inspect("it-update-nohealth", "{{.Config.Image}}"), repo + ":v2");
  EXPECT_EQ(docker_inspect("it-update-nohealth", "{{.State.Running}}"), "true");
}

TEST_F(updates, registry_credentials_open_a_registry_that_requires_them) {
  const auto env = [](const char* name) {
    const char* v = std::getenv(name);
    return std::string(v != nullptr ? v : "");
  };
  const auto auth_registry = env("DOCKMON_TEST_AUTH_REGISTRY");
  const auto user = env("DOCKMON_TEST_AUTH_REGISTRY_USER");
  const auto password = env("DOCKMON_TEST_AUTH_REGISTRY_PASSWORD");
  ASSERT_FALSE(auth_registry.empty()) << "scripts/test-env start brings up the registry that requires credentials";
  const auto local = registry() + "/dockmon-it/update-private";
  const auto private_image = auth_registry + "/dockmon-it/private-app:v2";
  build_and_push(local + ":v1", "v1", good_health);
  build_and_push(local + ":v2", "private-v2", good_health);
  // The test's own docker client logs in with a config folder of its own, pushes, and forgets.
  const auto config = make_temp_dir("dockmon-it-docker-config");
  const auto as_user = "DOCKER_CONFIG=" + config + " docker -H " + docker_host() + " ";
  ASSERT_EQ(shell("echo '" + password + "' | " + as_user + "login " + auth_registry + " -u " + user + " --password-stdin").exit_code, 0);
  ASSERT_EQ(docker_cli("pull " + local + ":v2").exit_code, 0);
  ASSERT_EQ(docker_cli("tag " + local + ":v2 " + private_image).exit_code, 0);
  auto pushed = shell(as_user + "push " + private_image + " 2>&1");
  ASSERT_EQ(pushed.exit_code, 0) << pushed.output;
  docker_cli("rmi " + private_image + " " + local + ":v2");
  std::filesystem::remove_all(config);
  EXPECT_NE(docker_cli("pull " + private_image + " 2>&1").output.find("no basic auth credentials"), std::string::npos)
      << "the registry really requires credentials";

  cleanup done{{"it-update-private"}, {}};
  docker_cli("rm -f it-update-private");
  ASSERT_EQ(docker_cli("run -d --name it-update-private --network none " + local + ":v1").exit_code, 0);
  const std::string old_id = docker_inspect("it-update-private", "{{.Id}}");

  // Without credentials the pull is refused and nothing changes.
  ASSERT_EQ(update("it-update-private", private_image).status, 202u);
  ASSERT_TRUE(wait_until([&] { return has_action(old_id, "failed"); }, 60s)) << agent_->log();
  EXPECT_EQ(docker_inspect("it-update-private", "{{.Id}}"), old_id);

  // With them, the update goes through.
  json::object body{{"image", private_image},
                    {"health_timeout", 30},
                    {"stop_timeout", 2},
                    {"registry_auth", json::object{{"username", user}, {"password", password}, {"serveraddress", auth_registry}}}};
  ASSERT_EQ(server_->post(base() + "/it-update-private/update", json::serialize(body)).status, 202u);
  ASSERT_TRUE(wait_until([&] { return has_action(old_id, "completed"); }, 90s)) << agent_->log();
  EXPECT_EQ(docker_inspect("it-update-private", "{{.Config.Image}}"), private_image);
  EXPECT_EQ(docker_cli("exec it-update-private cat /version").output, "private-v2\n");
  EXPECT_EQ(agent_->log().find(password), std::string::npos);
  EXPECT_EQ(server_->proc().log().find(password), std::string::npos);
}
