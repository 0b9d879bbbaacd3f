// The agent's self-update in native mode, with real processes: the agent runs from a copy of its binary
// in a temporary folder (the swap never touches the build tree), the builds are dockmon-agent-next and
// dockmon-agent-broken (the same code under other versions; the broken one fails at start or never
// registers), signed with keys made by `dockmon-server keygen`. The server's host record, its stored
// events and sha256sum of the files are the witnesses.
#include "harness.hpp"

#include "dockmon/common/time.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

using namespace dockmon;
using namespace dockmon::test;

namespace {

const std::string current_version = DOCKMON_VERSION;
const std::string next_version = current_version + "-next";
const std::string broken_version = current_version + "-broken";

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream all;
  all << in.rdbuf();
  return all.str();
}

std::string sha256_of(const std::string& path) {
  auto r = shell("sha256sum " + path);
  return r.output.substr(0, 64);
}

// A JSON string's text; empty for anything else.
std::string text(const json::value& v) { return v.is_string() ? std::string(v.get_string()) : std::string(); }

std::string trimmed(std::string out) {
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

class self_updates : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    keys_ = make_temp_dir("dockmon-it-keys");
    for (const auto* who : {"operator", "stranger"}) {
      auto made = shell(std::string(DOCKMON_SERVER_BIN) + " keygen --out " + keys_ + "/" + who);
      ASSERT_EQ(made.exit_code, 0) << made.output;
    }
    pubkey_ = trimmed(file_bytes(keys_ + "/operator/agent-signing.pub"));
  }
  static void TearDownTestSuite() {
    if (!::testing::Test::HasFailure()) std::filesystem::remove_all(keys_);
  }

  void SetUp() override {
    server_ = std::make_unique<test_server>();
    dir_ = make_temp_dir("dockmon-it-selfupdate");
    std::filesystem::create_directories(dir_ + "/bin");
    std::filesystem::create_directories(dir_ + "/data");
    binary_ = dir_ + "/bin/dockmon-agent";
    // Stripped: the same code, a twelfth of the bytes to copy and sync at every swap.
    if (shell("strip -o " + binary_ + " " + DOCKMON_AGENT_BIN).exit_code != 0)
      std::filesystem::copy_file(DOCKMON_AGENT_BIN, binary_, std::filesystem::copy_options::overwrite_existing);
    original_sha_ = sha256_of(binary_);
  }
  void TearDown() override {
    agent_.reset();
    if (!HasFailure()) std::filesystem::remove_all(dir_);
  }

  // Starts the agent from the copy, natively, with the operator's public key unless told otherwise, and
  // waits until the server shows it online on the current version.
  void start_agent(std::map<std::string, std::string> env = {}) {
    env.try_emplace("DOCKMON_UPDATE_PUBKEY", pubkey_);
    env.try_emplace("AGENT_MODE", "native");
    agent_ = std::make_unique<test_agent>(server_->port(), server_->registration_token(), dir_ + "/data", env, binary_);
    auto host = server_->wait_for_engine(engine_id());
    ASSERT_TRUE(host) << agent_->log();
    host_id_ = std::string(host->at("id").as_string());
    ASSERT_TRUE(runs(current_version)) << agent_->log();
    arch_ = std::string(server_->host(host_id_)->at("agent").at("arch").as_string());
    ASSERT_FALSE(arch_.empty());
  }

  // Whether the server shows the agent online on `version` within the deadline.
  bool runs(const std::string& version, std::chrono::milliseconds timeout = 30s) {
    return agent_runs(*server_, host_id_, version, timeout);
  }

  // `dockmon-server sign-agent-build` with the key in keys_/<who>; the signature it prints.
  std::string sign(const std::string& who, const std::string& version, const std::string& file) {
    auto r = shell("{ " + std::string(DOCKMON_SERVER_BIN) + " sign-agent-build --key " + keys_ + "/" + who +
                   "/agent-signing.key --version " + version + " --arch " + arch_ + " " + file + " 2>/dev/null; }");
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return trimmed(r.output);
  }

  http_response upload(const std::string& file, const std::string& version, const std::string& signature) {
    return server_->request(http::verb::post, "/api/agent-builds?version=" + version + "&arch=" + arch_, file_bytes(file),
                            {{"Cookie", server_->cookie()},
                             {"X-Dockmon-Signature", signature},
                             {"Content-Type", "application/octet-stream"}});
  }

  // Uploads `file` as `version`, signed by `who` (as `signed_as` when the signature is for another version).
  void upload_build(const std::string& file, const std::string& version, const std::string& who = "operator",
                    const std::string& signed_as = {}) {
    auto res = upload(file, version, sign(who, signed_as.empty() ? version : signed_as, file));
    ASSERT_EQ(res.status, 201u) << res.body;
    EXPECT_EQ(text(res.json().at("sha256")), sha256_of(file));
  }

  http_response request_update(const std::string& version) {
    asked_at_ = to_iso8601(sys_clock::now());
    return server_->post("/api/hosts/" + host_id_ + "/agent/update", json::serialize(json::object{{"version", version}}));
  }

  std::optional<json::object> outcome(const std::string& action, std::chrono::milliseconds timeout = 60s) {
    return agent_update_outcome(*server_, host_id_, asked_at_, action, timeout);
  }

  static std::string error_of(const std::optional<json::object>& o) {
    return o ? std::string(o->at("error").as_string()) : "<no such event>";
  }

  // Asks for `version`, which the agent must refuse for a reason that says `why`, changing nothing.
  void expect_refused(const std::string& version, const std::string& why) {
    auto res = request_update(version);
    ASSERT_EQ(res.status, 202u) << res.body;
    auto failed = outcome("failed");
    EXPECT_NE(error_of(failed).find(why), std::string::npos) << error_of(failed);
    EXPECT_TRUE(runs(current_version, 1s));
    EXPECT_TRUE(agent_->proc().running());
    EXPECT_EQ(sha256_of(binary_), original_sha_);
    EXPECT_FALSE(std::filesystem::exists(dir_ + "/data/update.pending"));
    EXPECT_FALSE(std::filesystem::exists(dir_ + "/data/agent.new")) << "a refused download is not kept";
  }

  std::unique_ptr<test_server> server_;  // one per test: no test depends on another's state
  static std::string keys_;
  static std::string pubkey_;
  std::string dir_;
  std::string binary_;
  std::string original_sha_;
  std::unique_ptr<test_agent> agent_;
  std::string host_id_;
  std::string arch_;
  std::string asked_at_;
};

std::string self_updates::keys_;
std::string self_updates::pubkey_;

}  // namespace

TEST_F(self_updates, an_agent_moves_to_a_signed_build_and_the_server_sees_the_new_version) {
  ASSERT_NO_FATAL_FAILURE(start_agent());
  EXPECT_EQ(server_->host(host_id_)->at("agent").at("capabilities").at("self_update"), true);
  upload_build(DOCKMON_AGENT_NEXT_BIN, next_version);
  const auto pid = agent_->proc().pid();

  ws_client feed(server_->port(), "/ws", {{"Cookie", server_->cookie()}});
  feed.send(json::object{{"type", "subscribe"}, {"hosts", json::array{host_id_}}});
  auto res = request_update(next_version);
  ASSERT_EQ(res.status, 202u) << res.body;
  EXPECT_EQ(res.json().at("status"), "update_started");

  std::vector<std::string> stages;
  const auto deadline = std::chrono::steady_clock::now() + 90s;
  while (std::chrono::steady_clock::now() < deadline && (stages.empty() || (stages.back() != "completed" && stages.back() != "failed"))) {
    auto frame = feed.read_json(5s);
    if (!frame || !frame->is_object() || frame->at("type") != "selfupdate_progress") continue;
    stages.emplace_back(frame->at("stage").as_string());
  }
  const std::vector<std::string> expected{"downloading", "verifying", "testing", "installing", "restarting", "completed"};
  EXPECT_EQ(stages, expected) << agent_->log();

  ASSERT_TRUE(runs(next_version)) << agent_->log();
  EXPECT_EQ(agent_->proc().pid(), pid) << "the new build runs in the same process (exec)";
  EXPECT_TRUE(agent_->proc().running());
  EXPECT_EQ(sha256_of(binary_), sha256_of(DOCKMON_AGENT_NEXT_BIN)) << "the new build is at the agent's path";
  EXPECT_EQ(sha256_of(dir_ + "/data/agent.previous"), original_sha_) << "the previous build is kept";
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/data/update.pending")) << "the new build proved itself";
  auto done = outcome("completed");
  ASSERT_TRUE(done);
  EXPECT_EQ(text(done->at("version")), next_version);
}

TEST_F(self_updates, a_build_whose_bytes_do_not_match_the_checksum_is_refused_and_nothing_changes) {
  ASSERT_NO_FATAL_FAILURE(start_agent());
  const auto tampered = current_version + "-tampered";
  upload_build(DOCKMON_AGENT_NEXT_BIN, tampered);
  // The file the server holds is changed behind its back (a bad disk, or someone at the storage): the
  // checksum and signature the agent is sent no longer match the bytes it gets.
  std::filesystem::copy_file(DOCKMON_AGENT_BROKEN_BIN, server_->data_dir() + "/agent-builds/" + arch_ + "/" + tampered,
                             std::filesystem::copy_options::overwrite_existing);
  expect_refused(tampered, "checksum mismatch");
}

TEST_F(self_updates, a_build_signed_with_another_key_is_refused_and_nothing_changes) {
  ASSERT_NO_FATAL_FAILURE(start_agent());
  const auto forged = current_version + "-forged";
  upload_build(DOCKMON_AGENT_NEXT_BIN, forged, "stranger");
  expect_refused(forged, "signature does not verify");
}

TEST_F(self_updates, a_build_that_reports_another_version_than_announced_is_refused_before_the_swap) {
  ASSERT_NO_FATAL_FAILURE(start_agent());
  // Signed, but as a version it is not: the --version trial run finds it out.
  const auto renamed = current_version + "-renamed";
  upload_build(DOCKMON_AGENT_NEXT_BIN, renamed);
  expect_refused(renamed, "not 'dockmon-agent " + renamed + "'");
}

TEST_F(self_updates, a_build_that_exits_at_start_is_rolled_back_and_the_previous_version_registers_again) {
  ASSERT_NO_FATAL_FAILURE(start_agent());
  upload_build(DOCKMON_AGENT_BROKEN_BIN, broken_version);
  ASSERT_EQ(request_update(broken_version).status, 202u);
  // The new build passes --version, is swapped in and started, and exits at once: the process is gone.
  ASSERT_TRUE(wait_until([&] { return !agent_->proc().running(); }, 60s)) << agent_->log();
  EXPECT_EQ(sha256_of(binary_), sha256_of(DOCKMON_AGENT_BROKEN_BIN));
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/data/update.pending")) << "still on trial";

  // The supervisor starts the agent's path again; the build there finds its trial failed and goes back.
  // The previous build reports that once it has registered.
  agent_->restart();
  auto back = outcome("rolled_back");
  ASSERT_TRUE(back) << agent_->log();
  EXPECT_NE(error_of(back).find("exited or crashed before it registered"), std::string::npos) << error_of(back);
  EXPECT_EQ(text(back->at("version")), current_version);
  EXPECT_TRUE(runs(current_version)) << agent_->log();
  EXPECT_EQ(sha256_of(binary_), original_sha_) << "the previous build is back at the agent's path";
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/data/update.pending"));
}

TEST_F(self_updates, a_build_that_never_registers_goes_back_by_itself_at_the_deadline) {
  ASSERT_NO_FATAL_FAILURE(start_agent({{"DOCKMON_UPDATE_DEADLINE", "3s"}, {"DOCKMON_TEST_FAULT", "silent"}}));
  upload_build(DOCKMON_AGENT_BROKEN_BIN, broken_version);
  const auto pid = agent_->proc().pid();
  const auto broken_sha = sha256_of(DOCKMON_AGENT_BROKEN_BIN);
  ASSERT_EQ(request_update(broken_version).status, 202u);
  ASSERT_TRUE(wait_until([&] { return sha256_of(binary_) == broken_sha; }, 60s)) << agent_->log();
  // No supervisor here: the silent build puts the previous one back and starts it itself, which then
  // registers and reports why.
  auto back = outcome("rolled_back");
  ASSERT_TRUE(back) << agent_->log();
  EXPECT_NE(error_of(back).find("did not register with the server within 3 s"), std::string::npos) << error_of(back);
  EXPECT_TRUE(runs(current_version)) << agent_->log();
  EXPECT_EQ(agent_->proc().pid(), pid) << "one process all along";
  EXPECT_EQ(sha256_of(binary_), original_sha_);
}

TEST_F(self_updates, an_agent_without_the_update_key_is_not_asked_and_would_refuse) {
  ASSERT_NO_FATAL_FAILURE(start_agent({{"DOCKMON_UPDATE_PUBKEY", ""}}));
  EXPECT_EQ(server_->host(host_id_)->at("agent").at("capabilities").at("self_update"), false);
  upload_build(DOCKMON_AGENT_NEXT_BIN, next_version);
  auto res = request_update(next_version);
  EXPECT_EQ(res.status, 409u) << res.body;
  EXPECT_NE(res.body.find("DOCKMON_UPDATE_PUBKEY"), std::string::npos) << res.body;
}

TEST_F(self_updates, builds_are_uploaded_by_admins_signed_once_per_version_and_fetched_only_with_a_ticket) {
  ASSERT_NO_FATAL_FAILURE(start_agent());
  const std::string file = DOCKMON_AGENT_NEXT_BIN;
  const auto signature = sign("operator", next_version, file);
  EXPECT_EQ(upload(file, next_version, "not a signature").status, 400u);
  auto operator_key = server_->api_key("operator");
  auto as_operator = server_->request(http::verb::post, "/api/agent-builds?version=" + next_version + "&arch=" + arch_,
                                      std::string(2 * 1024 * 1024, 'x'),
                                      {{"Authorization", "Bearer " + operator_key}, {"X-Dockmon-Signature", signature}});
  EXPECT_EQ(as_operator.status, 413u) << "only an admin may send more than 1 MiB";
  EXPECT_EQ(upload(file, next_version, signature).status, 201u);
  EXPECT_EQ(upload(file, next_version, signature).status, 409u) << "a version is never replaced in place";

  auto list = server_->get("/api/agent-builds");
  ASSERT_EQ(list.status, 200u);
  ASSERT_EQ(list.json().as_array().size(), 1u);
  EXPECT_EQ(text(list.json().at(0).at("signature")), signature);
  EXPECT_EQ(list.json().at(0).at("size"), static_cast<std::int64_t>(std::filesystem::file_size(file)));

  EXPECT_EQ(http_request(server_->port(), http::verb::get, "/api/agent-builds/download/made-up-ticket").status, 404u);
  EXPECT_EQ(server_->del("/api/agent-builds/" + next_version + "/" + arch_).status, 200u);
  EXPECT_EQ(request_update(next_version).status, 404u);
}
