// A registered agent is not trusted: what it answers and reports is checked at the server's boundary.
// Each test is an agent speaking the protocol frame by frame, as a compromised host could.
#include "harness.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <thread>

using namespace dockmon;
using namespace dockmon::test;

namespace {

const std::string good_id = "4f2a1c9e8d7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f";
const std::string other_id = "0aa1bb2cc3dd4ee5ff6aa7bb8cc9dd0ee1ff2aa3bb4cc5dd6ee7ff8aa9bb0cc1";

struct fake_agent {
  explicit fake_agent(test_server& server, const std::string& engine = "ENGINE:HOSTILE") : ws(server.port()) {
    ws.send(register_frame(server.registration_token(), engine));
    auto reply = ws.read_json();
    if (!reply || reply->at("type").as_string() != "auth_success") throw std::runtime_error("registration refused");
    host_id = std::string(reply->at("host_id").as_string());
  }
  // Waits for the next command and answers it with `payload`.
  bool answer(const json::value& payload) {
    auto cmd = ws.read_json(10s);
    if (!cmd) return false;
    ws.send(json::object{{"type", "response"}, {"id", cmd->at("id")}, {"payload", payload}});
    return true;
  }
  ws_client ws;
  std::string host_id;
};

json::object docker_summary(const std::string& id, const std::string& name) {
  return json::object{{"Id", id}, {"Names", json::array{"/" + name}}, {"Image", "img"}, {"State", "running"}, {"Status", "Up"}};
}

}  // namespace

TEST(hostile_agent, container_ids_and_names_that_docker_would_not_make_are_dropped_from_lists) {
  test_server server;
  fake_agent agent(server);
  http_response listed;
  std::thread ask([&] { listed = server.get("/api/hosts/" + agent.host_id + "/containers"); });
  json::array list{docker_summary(good_id, "web"),
                   docker_summary("../../" + agent.host_id + "/containers/db", "db"),  // steers a click elsewhere
                   docker_summary(other_id, "../../api-keys/x"),
                   docker_summary("4F2A1C9E8D7B", "upper")};
  ASSERT_TRUE(agent.answer(list));
  ask.join();
  ASSERT_EQ(listed.status, 200u) << listed.body;
  auto rows = listed.json().as_array();
  ASSERT_EQ(rows.size(), 1u) << listed.body;
  EXPECT_EQ(rows[0].at("id").as_string(), good_id);
  EXPECT_EQ(rows[0].at("name").as_string(), "web");
  EXPECT_EQ(listed.body.find(".."), std::string::npos);
}

TEST(hostile_agent, events_and_update_outcomes_with_bad_ids_or_names_are_not_stored) {
  test_server server;
  fake_agent agent(server);
  auto event = [&](const std::string& id, const std::string& name, const std::string& action) {
    agent.ws.send(json::object{{"type", "event"},
                               {"command", "container_event"},
                               {"payload", json::object{{"container_id", id}, {"container_name", name}, {"action", action}}}});
  };
  event("../../x", "web", "start");
  event(good_id, "<img src=x>", "start");
  agent.ws.send(json::object{{"type", "event"},
                             {"command", "update_complete"},
                             {"payload", json::object{{"old_container_id", good_id},
                                                      {"new_container_id", "../../" + agent.host_id},
                                                      {"container_name", "web"}}}});
  event(other_id, "sentinel", "start");  // handled after the others
  ASSERT_TRUE(wait_until([&] { return server.get("/api/events?host_id=" + agent.host_id).body.find("sentinel") != std::string::npos; },
                         15s))
      << server.get("/api/events?host_id=" + agent.host_id).body;
  auto events = server.get("/api/events?type=container&host_id=" + agent.host_id).json().as_array();
  ASSERT_EQ(events.size(), 1u) << json::serialize(events);
  EXPECT_EQ(events[0].at("container_id").as_string(), other_id);
}

namespace {

std::string made_up_id(std::uint64_t n) {
  char text[65];
  std::snprintf(text, sizeof text, "%064llx", static_cast<unsigned long long>(n) + 0xabc000000000ULL);
  return text;
}

double metric(test_server& server, const std::string& name) {
  auto text = server.get("/metrics").body;
  auto at = text.find("\n" + name + " ");
  return at == std::string::npos ? -1 : std::stod(text.substr(at + name.size() + 2));
}

}  // namespace

TEST(hostile_agent, a_flood_from_one_agent_leaves_other_hosts_history_and_events_alone) {
  test_server server;
  fake_agent flooder(server, "ENGINE:FLOOD");
  fake_agent honest(server, "ENGINE:HONEST");
  // Stats of ever new made-up containers (past what the server's history holds in all), events as fast
  // as the socket takes them, with big attributes and a timestamp from the future.
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> sent{0};
  std::thread flood([&] {
    std::uint64_t n = 0;
    const json::object attributes{{"padding", std::string(15 * 1024, 'p')}};
    while (!stop) {
      json::array batch;
      for (int i = 0; i < 100; ++i) batch.push_back(json::object{{"container_id", made_up_id(n++)}, {"cpu_percent", 1}});
      flooder.ws.send(json::object{{"type", "event"}, {"command", "container_stats_batch"}, {"payload", json::object{{"containers", batch}}}});
      flooder.ws.send(json::object{{"type", "event"},
                                   {"command", "container_event"},
                                   {"payload", json::object{{"container_id", made_up_id(n)},
                                                            {"container_name", "noise"},
                                                            {"action", "start"},
                                                            {"timestamp", "2099-01-01T00:00:00Z"},
                                                            {"attributes", attributes}}}});
      sent += 2;
    }
  });
  // The honest host's container appears once the flood has had its go at the shared history.
  ASSERT_TRUE(wait_until([&] { return sent.load() >= 1000; }, 20s));
  const auto honest_id = good_id;
  for (int i = 0; i < 6; ++i) {
    honest.ws.send(json::object{{"type", "event"},
                                {"command", "container_stats_batch"},
                                {"payload", json::object{{"containers", json::array{json::object{
                                                {"container_id", honest_id}, {"container_name", "web"}, {"cpu_percent", 12.5}}}}}}});
    if (i == 2)
      honest.ws.send(json::object{{"type", "event"},
                                  {"command", "container_event"},
                                  {"payload", json::object{{"container_id", honest_id}, {"container_name", "web"}, {"action", "restart"}}}});
    std::this_thread::sleep_for(1s);  // the honest agent's own pace, not a wait for a result
  }
  stop = true;
  flood.join();
  ASSERT_GT(sent.load(), 2000u) << "the flood was not much of one";

  // The honest host's history and its event are there.
  auto history = server.get("/api/hosts/" + honest.host_id + "/containers/" + honest_id + "/stats?range=1h");
  ASSERT_EQ(history.status, 200u) << history.body;
  EXPECT_GE(history.json().at("points").as_array().size(), 1u);
  EXPECT_TRUE(wait_until([&] { return server.get("/api/events?host_id=" + honest.host_id).body.find("restart") != std::string::npos; },
                         15s))
      << "the honest host's event was crowded out";
  // The flooder got the allowance of a host that listed nothing, not a series per made-up id.
  auto flooded = server.get("/api/hosts/" + flooder.host_id + "/stats").json();
  EXPECT_LE(flooded.at("containers").as_array().size(), 64u);
  EXPECT_LE(metric(server, "dockmon_stats_series"), 64 + 2 + 1) << "series in all";
  EXPECT_GT(metric(server, "dockmon_agent_input_refused_total"), 1000) << "what was dropped is counted for the operator";
  // Its events were rate-limited, and none is dated in the future.
  ASSERT_TRUE(wait_until([&] { return server.get("/api/events?host_id=" + flooder.host_id + "&limit=1").body != "[]"; }, 15s));
  auto stored = server.sql("SELECT COUNT(*), MAX(timestamp) FROM events WHERE host_id = '" + flooder.host_id + "';");
  const auto count = std::stoul(stored.substr(0, stored.find('|')));
  EXPECT_LT(count, 2000u) << stored;
  EXPECT_EQ(stored.find("2099"), std::string::npos) << stored;
}
