// The host owner's allow-list holds even against the server: a read-only agent refuses changes,
// says so in its capabilities, and records every command it received.
#include "harness.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <vector>

using namespace dockmon;
using namespace dockmon::test;

TEST(agent_control, read_only_agent_refuses_changes_and_audits_every_command) {
  test_server server;
  test_agent agent(server.port(), server.registration_token(), {}, {{"AGENT_ALLOW", "read_only"}});
  auto host = server.wait_for_engine(engine_id());
  ASSERT_TRUE(host.has_value()) << agent.log();
  std::string host_id(host->at("id").as_string());
  auto& caps = host->at("agent").at("capabilities").as_object();
  EXPECT_FALSE(caps.at("container_operations").as_bool());
  EXPECT_TRUE(caps.at("read_only").as_bool());

  scoped_container c("it-read-only", "sleep 100000");
  std::string base = "/api/hosts/" + host_id + "/containers/it-read-only";
  auto stop = server.post(base + "/stop");
  EXPECT_EQ(stop.status, 403u) << stop.body;
  EXPECT_NE(stop.body.find("allow-list"), std::string::npos) << stop.body;
  EXPECT_EQ(server.del(base + "?force=true").status, 403u);
  EXPECT_EQ(docker_inspect(c.name, "{{.State.Running}}"), "true");
  EXPECT_EQ(server.get(base + "/logs").status, 200u) << "looking is still allowed";

  // Changes in audit.log, reads in audit-reads.log (rotated apart), pings in neither.
  auto entries = [&](const std::string& file) {
    std::vector<json::object> out;
    std::ifstream in(agent.data_dir() + "/" + file);
    for (std::string line; std::getline(in, line);) out.push_back(json::parse(line).as_object());
    return out;
  };
  ASSERT_EQ(server.post("/api/hosts/" + host_id + "/containers/it-read-only/restart").status, 403u);
  bool refused_stop = false, refused_restart = false, served_logs = false;
  for (const auto& entry : entries("audit.log")) {
    const std::string result(entry.at("result").as_string());
    EXPECT_NE(entry.at("command"), "get_logs") << "a read in the changes file";
    if (entry.at("command") == "stop" && entry.at("container") == "it-read-only" && result.find("allow-list") != std::string::npos)
      refused_stop = true;
    if (entry.at("command") == "restart" && result.find("allow-list") != std::string::npos) refused_restart = true;
  }
  for (const auto& entry : entries("audit-reads.log")) {
    EXPECT_NE(entry.at("command"), "stop");
    EXPECT_NE(entry.at("command"), "ping");
    if (entry.at("command") == "get_logs" && entry.at("result") == "ok") served_logs = true;
  }
  EXPECT_TRUE(refused_stop);
  EXPECT_TRUE(refused_restart);
  EXPECT_TRUE(served_logs);
}

TEST(agent_control, malformed_allow_list_stops_the_agent_with_a_clear_message) {
  test_server server;
  test_agent agent(server.port(), server.registration_token(), {}, {{"AGENT_ALLOW", "list_containers,exec"}});
  ASSERT_TRUE(wait_until([&] { return !agent.proc().running(); }, 10s));
  EXPECT_NE(agent.log().find("AGENT_ALLOW"), std::string::npos) << agent.log();
  EXPECT_EQ(WEXITSTATUS(agent.proc().stop()), 2);
}

TEST(agent_control, the_container_the_agent_runs_in_is_never_stopped_renamed_or_updated) {
  // As if the agent ran inside it: DOCKMON_CONTAINER_ID names the container an agent in a container finds
  // in /proc/self/mountinfo. Its name is not DockMon's, so only the agent's own check can stop these.
  scoped_container home("it-agent-home", "trap \"exit 0\" TERM; sleep 100000 & wait");
  test_server server;
  test_agent agent(server.port(), server.registration_token(), {}, {{"DOCKMON_CONTAINER_ID", home.id}});
  auto host = server.wait_for_engine(engine_id());
  ASSERT_TRUE(host.has_value()) << agent.log();
  const std::string base = "/api/hosts/" + std::string(host->at("id").as_string()) + "/containers/";
  const auto started_at = docker_inspect(home.name, "{{.State.StartedAt}}");
  for (const auto& ref : {home.name, home.id, home.id.substr(0, 12)}) {
    EXPECT_EQ(server.post(base + ref + "/stop").status, 403u) << ref;
    EXPECT_EQ(server.post(base + ref + "/restart").status, 403u) << ref;
    EXPECT_EQ(server.post(base + ref + "/kill").status, 403u) << ref;
    EXPECT_EQ(server.del(base + ref + "?force=true").status, 403u) << ref;
    EXPECT_EQ(server.post(base + ref + "/rename", R"({"new_name":"it-agent-moved"})").status, 403u) << ref;
  }
  auto update = server.post(base + home.name + "/update", R"({"image":"dockmon-test/busybox:latest"})");
  EXPECT_EQ(update.status, 403u) << update.body;
  EXPECT_EQ(docker_inspect(home.name, "{{.State.Running}}"), "true");
  EXPECT_EQ(docker_inspect(home.name, "{{.State.StartedAt}}"), started_at) << "not even restarted";
  EXPECT_EQ(docker_inspect(home.name, "{{.Id}}"), home.id);
  std::ifstream audit(agent.data_dir() + "/audit.log");
  std::string text((std::istreambuf_iterator<char>(audit)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("of the container this agent runs in"), std::string::npos) << "the refusals are on record";
}
