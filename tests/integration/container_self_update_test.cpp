// The agent's self-update in container mode, on the test dockerd: the agent runs as a container from an
// image built here by scripts/agent-image (the static agent in an image FROM scratch, pushed to the
// local registry as two versions), with the test engine's socket and a data volume. The docker CLI and the server's host record
// and stored events are the witnesses.
#include "harness.hpp"

#include "dockmon/common/time.hpp"

#include <gtest/gtest.h>

#include <memory>

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace dockmon;
using namespace dockmon::test;

namespace {

const std::string current_version = DOCKMON_VERSION;
const std::string next_version = current_version + "-next";

std::string registry() {
  const char* r = std::getenv("DOCKMON_TEST_REGISTRY");
  return r != nullptr && *r != '\0' ? r : "127.0.0.1:5000";
}

std::string trimmed(std::string out) {
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

std::string text(const json::value& v) { return v.is_string() ? std::string(v.get_string()) : std::string(); }

// Pushes the image built as `tag` and returns its name by digest (repository@sha256:...).
std::string push(const std::string& tag) {
  auto pushed = docker_cli("push " + tag + " 2>&1");
  EXPECT_EQ(pushed.exit_code, 0) << pushed.output;
  return trimmed(docker_cli("inspect -f '{{index .RepoDigests 0}}' " + tag).output);
}

// The agent's image as users build it (scripts/agent-image), from the given static agent.
std::string build_push_agent(const std::string& tag, const std::string& binary) {
  auto built = shell("DOCKER_HOST=" + docker_host() + " " + DOCKMON_SOURCE_DIR + "/scripts/agent-image --binary " + binary +
                     " " + tag + " 2>&1");
  EXPECT_EQ(built.exit_code, 0) << built.output;
  return push(tag);
}

// An image whose program never registers: busybox's sleep where the agent should be.
std::string build_push_silent(const std::string& tag) {
  const auto dir = make_temp_dir("dockmon-it-silent-image");
  std::filesystem::copy_file("/bin/busybox", dir + "/busybox");
  std::ofstream(dir + "/Dockerfile") << "FROM scratch\nCOPY busybox /busybox\nENTRYPOINT [\"/busybox\", \"sleep\", \"100000\"]\n";
  auto built = shell("DOCKER_BUILDKIT=0 docker -H " + docker_host() + " build -q -t " + tag + " " + dir + " 2>&1");
  std::filesystem::remove_all(dir);
  EXPECT_EQ(built.exit_code, 0) << built.output;
  return push(tag);
}

class container_self_updates : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    keys_ = make_temp_dir("dockmon-it-keys");
    for (const auto* who : {"operator", "stranger"}) {
      auto made = shell(std::string(DOCKMON_SERVER_BIN) + " keygen --out " + keys_ + "/" + who);
      ASSERT_EQ(made.exit_code, 0) << made.output;
    }
    std::ifstream pub(keys_ + "/operator/agent-signing.pub");
    std::getline(pub, pubkey_);
    const auto repo = registry() + "/dockmon-it/agent";
    v1_ = build_push_agent(repo + ":v1", DOCKMON_STATIC_AGENT_BIN);
    v2_ = build_push_agent(repo + ":v2", DOCKMON_STATIC_AGENT_NEXT_BIN);
    silent_ = build_push_silent(repo + ":silent");
    ASSERT_NE(v2_.find("@sha256:"), std::string::npos) << v2_;
  }
  static void TearDownTestSuite() {
    if (!::testing::Test::HasFailure()) std::filesystem::remove_all(keys_);
  }

  void SetUp() override {
    server_ = std::make_unique<test_server>();
    name_ = std::string("dockmon-it-agent-") + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    volume_ = name_ + "-data";
    remove_containers();
    docker_cli("volume rm -f " + volume_);  // a run that crashed leaves the identity of another server
  }
  void TearDown() override {
    if (HasFailure()) {
      for (const auto& id : containers()) ADD_FAILURE() << "logs of " << id << ":\n" << docker_cli("logs " + id + " 2>&1 | head -30").output;
    }
    remove_containers();
    docker_cli("volume rm -f " + volume_);
  }

  // Every container named after this test: the agent, its copies, the retired one.
  std::vector<std::string> containers() {
    std::vector<std::string> ids;
    std::istringstream out(docker_cli("ps -aq --no-trunc --filter name=" + name_).output);
    for (std::string id; out >> id;) ids.push_back(id);
    return ids;
  }
  void remove_containers() {
    for (const auto& id : containers()) docker_cli("rm -f " + id);
  }

  // Runs the agent's container from the v1 image and waits until the server shows it online.
  void start_agent(const std::string& deadline = "60s") {
    const auto socket = docker_host().substr(std::string("unix://").size());
    auto run = docker_cli("run -d --name " + name_ + " --network host --restart unless-stopped -v " + volume_ +
                          ":/data -v " + socket + ":/var/run/docker.sock -e DOCKMON_URL=http://127.0.0.1:" +
                          std::to_string(server_->port()) + " -e REGISTRATION_TOKEN=" + server_->registration_token() +
                          " -e DOCKMON_UPDATE_PUBKEY=" + pubkey_ + " -e DOCKMON_UPDATE_DEADLINE=" + deadline +
                          " -e AGENT_MODE=container -e RECONNECT_INITIAL=200ms -e RECONNECT_MAX=2s " +
                          registry() + "/dockmon-it/agent:v1 2>&1");
    ASSERT_EQ(run.exit_code, 0) << run.output;
    first_id_ = docker_inspect(name_, "{{.Id}}");
    auto host = server_->wait_for_engine(engine_id(), 30s);
    ASSERT_TRUE(host);
    host_id_ = text(host->at("id"));
    ASSERT_TRUE(runs(current_version));
    arch_ = text(server_->host(host_id_)->at("agent").at("arch"));
  }

  bool runs(const std::string& version, std::chrono::milliseconds timeout = 30s) {
    return agent_runs(*server_, host_id_, version, timeout);
  }

  std::string sign(const std::string& who, const std::string& version, const std::string& image) {
    auto r = shell("{ " + std::string(DOCKMON_SERVER_BIN) + " sign-agent-image --key " + keys_ + "/" + who +
                   "/agent-signing.key --version " + version + " --arch " + arch_ + " --digest " + image + " 2>/dev/null; }");
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return trimmed(r.output);
  }

  http_response request_update(const std::string& version, const std::string& image, const std::string& signature) {
    asked_at_ = to_iso8601(sys_clock::now());
    json::object body{{"version", version}, {"image", image}, {"signature", signature}};
    return server_->post("/api/hosts/" + host_id_ + "/agent/update", json::serialize(body));
  }

  std::optional<json::object> outcome(const std::string& action, std::chrono::milliseconds timeout = 90s) {
    return agent_update_outcome(*server_, host_id_, asked_at_, action, timeout);
  }

  // The first container is still the agent: running, under its own name, the only one of this test.
  void expect_first_container_carries_on() {
    EXPECT_EQ(docker_inspect(name_, "{{.Id}}"), first_id_);
    EXPECT_EQ(docker_inspect(first_id_, "{{.State.Running}}"), "true");
    EXPECT_EQ(containers(), std::vector<std::string>{first_id_}) << "the copy is removed";
    EXPECT_TRUE(runs(current_version));
  }

  std::unique_ptr<test_server> server_;  // one per test: no test depends on another's state
  static std::string keys_, pubkey_, v1_, v2_, silent_;
  std::string name_, volume_, first_id_, host_id_, arch_, asked_at_;
};

std::string container_self_updates::keys_;
std::string container_self_updates::pubkey_;
std::string container_self_updates::v1_;
std::string container_self_updates::v2_;
std::string container_self_updates::silent_;

}  // namespace

TEST_F(container_self_updates, the_agent_moves_to_the_signed_image_and_its_first_container_is_gone) {
  ASSERT_NO_FATAL_FAILURE(start_agent());
  const auto caps = server_->host(host_id_)->at("agent").at("capabilities");
  EXPECT_EQ(caps.at("self_update"), true);
  EXPECT_EQ(caps.at("self_update_image"), true);
  // A container agent is not sent a binary.
  auto native = server_->post("/api/hosts/" + host_id_ + "/agent/update", R"({"version":"9.9.9"})");
  EXPECT_EQ(native.status, 400u) << native.body;

  const auto asked = std::chrono::steady_clock::now();
  auto res = request_update(next_version, v2_, sign("operator", next_version, v2_));
  ASSERT_EQ(res.status, 202u) << res.body;
  EXPECT_TRUE(runs(next_version, 90s));
  std::printf("handover: the server saw %s %lld ms after the request\n", next_version.c_str(),
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - asked).count()));
  ASSERT_TRUE(wait_until([&] { return containers().size() == 1 && containers()[0] != first_id_; }, 30s))
      << "the first container removes itself";
  const auto copy = containers()[0];
  EXPECT_EQ(docker_inspect(copy, "{{.Name}}"), "/" + name_) << "the copy carries the original name";
  EXPECT_EQ(docker_inspect(copy, "{{.State.Running}}"), "true");
  EXPECT_EQ(docker_inspect(copy, "{{.HostConfig.RestartPolicy.Name}}"), "unless-stopped");
  EXPECT_NE(docker_inspect(copy, "{{range .Mounts}}{{.Name}} {{end}}").find(volume_), std::string::npos);
  EXPECT_EQ(docker_inspect(copy, "{{.Image}}"), docker_cli("inspect -f {{.Id}} " + v2_).output.substr(0, 71));
  auto completed = outcome("completed");
  ASSERT_TRUE(completed);
  EXPECT_EQ(text(completed->at("version")), next_version);
  EXPECT_EQ(server_->hosts().size(), 1u) << "the copy is the same agent, not a new host";
}

TEST_F(container_self_updates, an_image_whose_agent_never_registers_leaves_the_first_container_running) {
  ASSERT_NO_FATAL_FAILURE(start_agent("8s"));
  const std::string version = current_version + "-silent";
  auto res = request_update(version, silent_, sign("operator", version, silent_));
  ASSERT_EQ(res.status, 202u) << res.body;
  auto rolled_back = outcome("rolled_back");
  ASSERT_TRUE(rolled_back);
  EXPECT_NE(text(rolled_back->at("error")).find("did not register"), std::string::npos) << text(rolled_back->at("error"));
  expect_first_container_carries_on();
}

TEST_F(container_self_updates, an_image_signed_by_another_key_is_refused_and_nothing_changes) {
  ASSERT_NO_FATAL_FAILURE(start_agent());
  auto res = request_update(next_version, v2_, sign("stranger", next_version, v2_));
  ASSERT_EQ(res.status, 202u) << res.body;
  auto failed = outcome("failed");
  ASSERT_TRUE(failed);
  EXPECT_NE(text(failed->at("error")).find("signature does not verify"), std::string::npos) << text(failed->at("error"));
  expect_first_container_carries_on();
}
