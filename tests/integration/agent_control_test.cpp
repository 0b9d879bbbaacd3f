// The host owner's allow-list holds even against the server: a read-only agent refuses changes,
// says so in its capabilities, and records every command it received.
#include "harness.hpp"

#include <gtest/gtest.h>

#include <fstream>

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

  std::ifstream audit(agent.data_dir() + "/audit.log");
  std::string line;
  bool refused_stop = false, served_logs = false;
  while (std::getline(audit, line)) {
    auto entry = json::parse(line).as_object();
    if (entry.at("command") == "stop" && entry.at("container") == "it-read-only" &&
        std::string(entry.at("result").as_string()).find("allow-list") != std::string::npos)
      refused_stop = true;
    if (entry.at("command") == "get_logs" && entry.at("result") == "ok") served_logs = true;
  }
  EXPECT_TRUE(refused_stop);
  EXPECT_TRUE(served_logs);
}

TEST(agent_control, malformed_allow_list_stops_the_agent_with_a_clear_message) {
  test_server server;
  test_agent agent(server.port(), server.registration_token(), {}, {{"AGENT_ALLOW", "list_containers,exec"}});
  ASSERT_TRUE(wait_until([&] { return !agent.proc().running(); }, 10s));
  EXPECT_NE(agent.log().find("AGENT_ALLOW"), std::string::npos) << agent.log();
  EXPECT_EQ(WEXITSTATUS(agent.proc().stop()), 2);
}
