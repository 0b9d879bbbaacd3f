// The dispatcher against the real test engine: every command and action, in the nested and the flat
// form, answered with exactly the fields DockMon's agent sends.
#include "commands/dispatcher.hpp"

#include <gtest/gtest.h>

#include "dockmon/test/engine.hpp"
#include "dockmon/test/shell.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

using namespace dockmon;
using namespace dockmon::agent;

namespace {

std::string engine() {
  const char* host = std::getenv("DOCKMON_TEST_DOCKER_HOST");
  return host != nullptr ? host : "";
}

std::string docker_cli(const std::string& args) { return test::sh("docker -H " + engine() + " " + args).out; }

class dispatcher_test : public ::testing::Test {
 protected:
  // CTest runs these tests in parallel processes: each gets containers of its own.
  void SetUp() override {
    std::string host;
    DOCKMON_TEST_ENGINE_OR_SKIP(host);
    name_ = std::string("dispatch-") + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::replace(name_.begin(), name_.end(), '_', '-');
    docker_cli("rm -f " + name_ + " " + name_ + "-renamed");
    docker_cli("run -d --network none --name " + name_ + " dockmon-test/busybox:latest sh -c "
               "'echo ready; trap \"exit 0\" TERM; sleep 100000 & wait'");
  }
  void TearDown() override {
    if (!engine().empty()) docker_cli("rm -f " + name_ + " " + name_ + "-renamed");
  }

  // The frame with DISPATCH standing for this test's container name.
  json::object run_on(std::string frame) {
    for (auto at = frame.find("DISPATCH"); at != std::string::npos; at = frame.find("DISPATCH"))
      frame.replace(at, 8, name_);
    return run(frame);
  }
  json::value expected(std::string text) {
    for (auto at = text.find("DISPATCH"); at != std::string::npos; at = text.find("DISPATCH")) text.replace(at, 8, name_);
    return json::parse(text);
  }
  std::string name_;

  // Feeds one frame as the server would send it and returns the agent's reply.
  json::object run(const std::string& frame, allow_list allowed = {}, std::optional<std::string> own_container = std::nullopt) {
    net::io_context ioc;
    docker::client client(ioc.get_executor(), docker::parse_docker_host(engine()));
    dispatcher d(client, "", std::move(allowed), nullptr, nullptr, nullptr, std::move(own_container));
    auto msg = protocol::parse_server_message(json::parse(frame));
    EXPECT_TRUE(msg.has_value()) << frame;
    std::optional<json::object> reply;
    net::co_spawn(ioc, d.handle(*msg), [&](std::exception_ptr e, std::optional<json::object> r) {
      if (e) std::rethrow_exception(e);
      reply = std::move(r);
    });
    ioc.run_for(std::chrono::seconds(30));
    EXPECT_TRUE(reply.has_value()) << "no reply to " << frame;
    return reply.value_or(json::object{});
  }
};

}  // namespace

TEST_F(dispatcher_test, ping_get_system_info_and_list_containers_reply_as_responses) {
  auto pong = run_on(R"({"type":"command","id":"c1","command":"ping","payload":{}})");
  EXPECT_EQ(pong.at("type"), "response");
  EXPECT_EQ(pong.at("id"), "c1");
  EXPECT_TRUE(pong.at("payload").at("pong").as_bool());
  EXPECT_FALSE(pong.contains("error"));

  auto info = run_on(R"({"type":"command","id":"c2","correlation_id":"c2","command":"get_system_info"})");
  EXPECT_EQ(info.at("payload").at("engine_id").as_string(), docker_cli("info -f '{{.ID}}'"));
  EXPECT_EQ(info.at("payload").at("docker_version").as_string(), docker_cli("version -f '{{.Server.Version}}'"));

  auto list = run_on(R"({"type":"command","id":"c3","command":"list_containers","payload":{}})");
  bool found = false;
  for (auto& c : list.at("payload").as_array())
    if (c.at("Names").at(0).as_string() == "/" + name_) found = true;
  EXPECT_TRUE(found);
}

TEST_F(dispatcher_test, unknown_commands_and_actions_get_an_error_reply) {
  auto r = run_on(R"({"type":"command","id":"c4","command":"exec_shell","payload":{}})");
  EXPECT_EQ(r.at("type"), "response");
  EXPECT_EQ(r.at("id"), "c4");
  EXPECT_EQ(r.at("error"), "unknown command: exec_shell");
  auto a = run_on(R"({"type":"container_operation","id":"c5","payload":{"action":"exec","container_id":"DISPATCH"}})");
  EXPECT_EQ(a.at("correlation_id"), "c5");
  EXPECT_FALSE(a.at("success").as_bool());
  EXPECT_EQ(a.at("error"), "unknown action: exec");
}

TEST_F(dispatcher_test, nested_form_operations) {
  auto stop = run_on(R"({"type":"container_operation","id":"o1","correlation_id":"o1",
                      "payload":{"action":"stop","container_id":"DISPATCH","timeout":5}})");
  EXPECT_EQ(stop, expected(R"({"container_id":"DISPATCH","status":"stopped","correlation_id":"o1","success":true})"));
  EXPECT_EQ(docker_cli("inspect -f '{{.State.Running}}' " + name_), "false");
  auto start = run_on(R"({"type":"container_operation","id":"o2","payload":{"action":"start","container_id":"DISPATCH"}})");
  EXPECT_EQ(start, expected(R"({"container_id":"DISPATCH","status":"started","correlation_id":"o2","success":true})"));
  EXPECT_EQ(docker_cli("inspect -f '{{.State.Running}}' " + name_), "true");
  auto logs = run_on(R"({"type":"container_operation","id":"o3","payload":{"action":"get_logs","container_id":"DISPATCH","tail":10}})");
  EXPECT_TRUE(logs.at("success").as_bool());
  EXPECT_NE(std::string(logs.at("logs").as_string()).find("ready"), std::string::npos);
  auto inspect = run_on(R"({"type":"container_operation","id":"o4","payload":{"action":"inspect","container_id":"DISPATCH"}})");
  EXPECT_EQ(inspect.at("container").at("Name").as_string(), "/" + name_);
}

TEST_F(dispatcher_test, flat_form_operations) {
  const auto started_at = docker_cli("inspect -f '{{.State.StartedAt}}' " + name_);
  auto restart = run_on(R"({"type":"container_operation","correlation_id":"f1","action":"restart","container_id":"DISPATCH","timeout":5})");
  EXPECT_EQ(restart, expected(R"({"container_id":"DISPATCH","status":"restarted","correlation_id":"f1","success":true})"));
  EXPECT_EQ(docker_cli("inspect -f '{{.State.Running}}' " + name_), "true");
  EXPECT_NE(docker_cli("inspect -f '{{.State.StartedAt}}' " + name_), started_at) << "it really started again";
  auto kill = run_on(R"({"type":"container_operation","correlation_id":"f2","action":"kill","container_id":"DISPATCH"})");
  EXPECT_EQ(kill.at("status"), "killed");
  EXPECT_EQ(docker_cli("inspect -f '{{.State.Running}}' " + name_), "false");
  auto rename = run_on(R"({"type":"container_operation","correlation_id":"f3","action":"rename","container_id":"DISPATCH","new_name":"DISPATCH-renamed"})");
  EXPECT_EQ(rename.at("status"), "renamed");
  EXPECT_EQ(docker_cli("inspect -f '{{.Name}}' " + name_ + "-renamed"), "/" + name_ + "-renamed");
  auto remove = run_on(R"({"type":"container_operation","correlation_id":"f4","action":"remove","container_id":"DISPATCH-renamed","force":true})");
  EXPECT_EQ(remove, expected(R"({"container_id":"DISPATCH-renamed","removed":true,"correlation_id":"f4","success":true})"));
  EXPECT_NE(docker_cli("inspect " + name_ + "-renamed").find("No such"), std::string::npos);
}

TEST_F(dispatcher_test, the_allow_list_is_enforced_before_docker_is_asked) {
  auto stop = run(R"({"type":"container_operation","id":"a1","payload":{"action":"stop","container_id":")" + name_ + R"("}})",
                  allow_list::parse("read_only"));
  EXPECT_FALSE(stop.at("success").as_bool());
  EXPECT_EQ(stop.at("status_code"), 403);
  EXPECT_NE(std::string(stop.at("error").as_string()).find("allow-list"), std::string::npos);
  EXPECT_EQ(docker_cli("inspect -f '{{.State.Running}}' " + name_), "true");
  auto list = run(R"({"type":"command","id":"a2","command":"list_containers","payload":{}})", allow_list::parse("read_only"));
  EXPECT_TRUE(list.at("payload").is_array());
}

TEST_F(dispatcher_test, docker_failures_and_bad_ids_are_reported_not_thrown) {
  auto missing = run_on(R"({"type":"container_operation","id":"e1","payload":{"action":"start","container_id":"no-such-one"}})");
  EXPECT_FALSE(missing.at("success").as_bool());
  EXPECT_EQ(missing.at("status_code"), 404);
  EXPECT_NE(std::string(missing.at("error").as_string()).find("No such container"), std::string::npos);
  auto traversal = run_on(R"({"type":"container_operation","id":"e2","payload":{"action":"inspect","container_id":"../../info"}})");
  EXPECT_EQ(traversal, expected(R"({"correlation_id":"e2","success":false,"error":"invalid container id"})"));
  auto bad_name = run_on(R"({"type":"container_operation","id":"e3","payload":{"action":"rename","container_id":"DISPATCH","new_name":"a/b"}})");
  EXPECT_FALSE(bad_name.at("success").as_bool());
  EXPECT_EQ(docker_cli("inspect -f '{{.Name}}' " + name_), "/" + name_);
}

TEST_F(dispatcher_test, the_container_the_agent_runs_in_is_never_changed_by_name_or_by_id) {
  const auto own = docker_cli("inspect -f '{{.Id}}' " + name_);
  ASSERT_EQ(own.size(), 64u);
  auto by_name = run(R"({"type":"container_operation","id":"g1","payload":{"action":"stop","container_id":")" + name_ + R"("}})",
                     {}, own);
  EXPECT_FALSE(by_name.at("success").as_bool());
  EXPECT_EQ(by_name.at("status_code"), 403);
  EXPECT_NE(std::string(by_name.at("error").as_string()).find("runs in"), std::string::npos) << json::serialize(by_name);
  auto by_prefix = run(R"({"type":"container_operation","id":"g2","payload":{"action":"kill","container_id":")" + own.substr(0, 12) + R"("}})",
                       {}, own);
  EXPECT_EQ(by_prefix.at("status_code"), 403);
  auto rename = run(R"({"type":"container_operation","id":"g3","payload":{"action":"rename","container_id":")" + own +
                        R"(","new_name":"moved"}})",
                    {}, own);
  EXPECT_EQ(rename.at("status_code"), 403);
  auto update = run(R"({"type":"command","id":"g4","command":"update_container","payload":{"container_id":")" + name_ +
                        R"(","new_image":"dockmon-test/busybox:latest"}})",
                    {}, own);
  EXPECT_NE(std::string(update.at("error").as_string()).find("runs in"), std::string::npos) << json::serialize(update);
  EXPECT_EQ(update.at("payload").at("status_code"), 403);
  EXPECT_EQ(docker_cli("inspect -f '{{.State.Running}} {{.Name}}' " + name_), "true /" + name_);
  // Looking is fine, and other containers are not affected.
  auto logs = run(R"({"type":"container_operation","id":"g5","payload":{"action":"get_logs","container_id":")" + name_ + R"("}})",
                  {}, own);
  EXPECT_TRUE(logs.at("success").as_bool());
  auto other = run(R"({"type":"container_operation","id":"g6","payload":{"action":"stop","container_id":")" + name_ +
                       R"(","timeout":1}})",
                   {}, std::string(64, 'a'));
  EXPECT_TRUE(other.at("success").as_bool()) << json::serialize(other);
}
