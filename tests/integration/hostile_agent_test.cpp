// A registered agent is not trusted: what it answers and reports is checked at the server's boundary.
// Each test is an agent speaking the protocol frame by frame, as a compromised host could.
#include "harness.hpp"

#include <gtest/gtest.h>

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
  auto events = server.get("/api/events?host_id=" + agent.host_id).json().as_array();
  ASSERT_EQ(events.size(), 1u) << json::serialize(events);
  EXPECT_EQ(events[0].at("container_id").as_string(), other_id);
}
