// Liveness: reconnect with backoff, dead peers noticed, offline hosts and silent agents answered in time.
#include "harness.hpp"

#include <gtest/gtest.h>
#include <signal.h>

#include <regex>

using namespace dockmon;
using namespace dockmon::test;

namespace {

std::vector<long> reconnect_delays(const std::string& log) {
  static const std::regex line(R"(reconnecting to \S+ in (\d+) ms)");
  std::vector<long> delays;
  for (auto it = std::sregex_iterator(log.begin(), log.end(), line); it != std::sregex_iterator(); ++it)
    delays.push_back(std::stol((*it)[1]));
  return delays;
}

}  // namespace

TEST(reconnect, agent_retries_with_growing_delays_and_returns_with_the_server) {
  test_server server;
  test_agent agent(server.port(), server.registration_token(), {}, {{"RECONNECT_INITIAL", "200ms"}, {"RECONNECT_MAX", "3s"}});
  auto host = server.wait_for_engine(engine_id());
  ASSERT_TRUE(host.has_value()) << agent.log();
  std::string host_id(host->at("id").as_string());

  server.kill_hard();
  ASSERT_TRUE(wait_until([&] { return reconnect_delays(agent.log()).size() >= 5; }, 30s)) << agent.log();
  auto delays = reconnect_delays(agent.log());
  // The first, after a connection that was up: anywhere from 200 ms to the 3 s maximum, so that a fleet
  // does not come back in one instant. Then 400 ms doubling up to 3 s, each jittered down by at most a quarter.
  EXPECT_GE(delays[0], 200);
  EXPECT_LE(delays[0], 3000);
  EXPECT_GE(delays[1], 300);
  EXPECT_LE(delays[1], 400);
  for (std::size_t i = 1; i < delays.size(); ++i) EXPECT_LE(delays[i], 3000);
  EXPECT_GT(delays[4], delays[1] * 4) << "delays grow";

  server.restart();
  auto back = server.wait_for_host(host_id, "online", 15s);
  ASSERT_TRUE(back.has_value()) << agent.log();
  EXPECT_EQ(server.hosts().size(), 1u);
}

TEST(reconnect, offline_host_is_answered_at_once) {
  test_server server(env_map{{"DOCKMON_COMMAND_TIMEOUT", "20s"}});
  std::string host_id;
  {
    test_agent agent(server.port(), server.registration_token());
    auto host = server.wait_for_engine(engine_id());
    ASSERT_TRUE(host.has_value()) << agent.log();
    host_id = std::string(host->at("id").as_string());
  }
  ASSERT_TRUE(server.wait_for_host(host_id, "offline").has_value());
  auto start = std::chrono::steady_clock::now();
  auto res = server.get("/api/hosts/" + host_id + "/containers");
  EXPECT_EQ(res.status, 409u) << res.body;
  EXPECT_EQ(server.post("/api/hosts/" + host_id + "/containers/x/start").status, 409u);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST(reconnect, silent_agent_gets_504_and_pending_commands_fail_when_it_drops) {
  test_server server(env_map{{"DOCKMON_COMMAND_TIMEOUT", "1s"}});
  auto fake = std::make_unique<ws_client>(server.port());
  fake->send(register_frame(server.registration_token(), "ENGINE:SILENT"));
  auto reply = fake->read_json();
  ASSERT_TRUE(reply.has_value());
  std::string host_id(reply->at("host_id").as_string());

  auto start = std::chrono::steady_clock::now();
  auto res = server.get("/api/hosts/" + host_id + "/containers");
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(res.status, 504u) << res.body;
  EXPECT_GE(took, 900ms);
  EXPECT_LT(took, 5s);
  // The command reached the agent as DockMon's envelope.
  auto command = fake->read_json(2s);
  ASSERT_TRUE(command.has_value());
  EXPECT_EQ(command->at("type").as_string(), "command");
  EXPECT_EQ(command->at("command").as_string(), "list_containers");
  EXPECT_EQ(command->at("id"), command->at("correlation_id"));

  auto status = server.get("/api/status");
  ASSERT_EQ(status.status, 200u) << status.body;
  EXPECT_EQ(status.json().at("pending_commands").as_int64(), 0);
  EXPECT_EQ(status.json().at("agents_online").as_int64(), 1);
}

TEST(reconnect, pending_command_fails_at_once_when_its_agent_disconnects) {
  test_server server(env_map{{"DOCKMON_COMMAND_TIMEOUT", "30s"}});
  auto fake = std::make_unique<ws_client>(server.port());
  fake->send(register_frame(server.registration_token(), "ENGINE:DROPS"));
  auto reply = fake->read_json();
  ASSERT_TRUE(reply.has_value());
  std::string host_id(reply->at("host_id").as_string());

  std::thread drop([&] {
    fake->read_json(10s);  // the command arrives; hang up instead of answering
    fake.reset();
  });
  auto start = std::chrono::steady_clock::now();
  auto res = server.get("/api/hosts/" + host_id + "/containers/abc");
  auto took = std::chrono::steady_clock::now() - start;
  drop.join();
  EXPECT_EQ(res.status, 409u) << res.body;
  EXPECT_LT(took, 5s) << "failed when the agent dropped, not at the 30 s timeout";
  EXPECT_TRUE(wait_until([&] { return server.get("/api/status").json().at("pending_commands").as_int64() == 0; }, 5s));
  EXPECT_TRUE(server.wait_for_host(host_id, "offline").has_value());
}

TEST(reconnect, agent_answers_only_its_own_commands) {
  test_server server(env_map{{"DOCKMON_COMMAND_TIMEOUT", "2s"}});
  ws_client victim(server.port());
  victim.send(register_frame(server.registration_token(), "ENGINE:VICTIM"));
  auto v = victim.read_json();
  ASSERT_TRUE(v.has_value());
  ws_client attacker(server.port());
  attacker.send(register_frame(server.registration_token(), "ENGINE:ATTACKER"));
  ASSERT_TRUE(attacker.read_json().has_value());

  std::string victim_host(v->at("host_id").as_string());
  bool forged_one = false;
  std::thread forge([&] {
    auto cmd = victim.read_json(5s);  // the command for the victim
    if (!cmd) return;
    json::object forged{{"type", "response"}, {"id", cmd->at("id")}, {"payload", json::array{}}};
    attacker.send(forged);
    forged_one = true;
  });
  auto res = server.get("/api/hosts/" + victim_host + "/containers");
  forge.join();
  ASSERT_TRUE(forged_one) << "no command reached the victim, so nothing was forged: the test proves nothing";
  EXPECT_EQ(res.status, 504u) << "a reply from another agent must not complete the command: " << res.body;
}

TEST(reconnect, dead_server_is_noticed_within_45_seconds) {
  test_server server;
  test_agent agent(server.port(), server.registration_token());
  ASSERT_TRUE(server.wait_for_engine(engine_id()).has_value()) << agent.log();
  // A frozen server keeps the TCP connection open but answers nothing, not even pings.
  server.proc().signal(SIGSTOP);
  auto start = std::chrono::steady_clock::now();
  bool noticed = wait_until([&] { return agent.log().find("connection to the server lost") != std::string::npos; }, 60s);
  auto took = std::chrono::steady_clock::now() - start;
  server.proc().signal(SIGCONT);
  EXPECT_TRUE(noticed) << agent.log();
  EXPECT_LE(took, 45s);
}

TEST(reconnect, an_agent_given_several_servers_tries_them_in_turn) {
  // DOCKMON_URL=a,b without a load balancer: a is down, so the agent registers with b; when b goes away
  // and a comes up on the same data (a replica of b), the agent moves to a.
  const auto data_dir = make_temp_dir("dockmon-it-two-urls");
  const auto port_a = free_port();
  test_server b({}, data_dir);
  const std::string urls = "http://127.0.0.1:" + std::to_string(port_a) + ",http://127.0.0.1:" + std::to_string(b.port());
  test_agent agent(b.port(), b.registration_token(), {}, {{"DOCKMON_URL", urls}});
  auto host = b.wait_for_engine(engine_id(), 30s);
  ASSERT_TRUE(host) << agent.log();
  EXPECT_NE(agent.log().find("127.0.0.1:" + std::to_string(port_a)), std::string::npos) << "a was tried first";

  b.kill_hard();
  test_server a({}, data_dir, port_a);
  auto back = a.wait_for_host(std::string(host->at("id").as_string()), "online", 30s);
  EXPECT_TRUE(back) << agent.log();
}
