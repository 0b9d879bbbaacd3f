#include "dockmon/protocol/envelope.hpp"

#include <gtest/gtest.h>

#include <vector>

using namespace dockmon;
using namespace dockmon::protocol;

TEST(envelope, command_carries_id_twice_and_payload) {
  auto o = to_json(command{"c1", "ping", json::object{{"x", 1}}});
  EXPECT_EQ(o.at("type"), "command");
  EXPECT_EQ(o.at("id"), "c1");
  EXPECT_EQ(o.at("correlation_id"), "c1");
  EXPECT_EQ(o.at("command"), "ping");
  EXPECT_EQ(o.at("payload").at("x"), 1);
  EXPECT_TRUE(o.contains("timestamp"));
}

TEST(envelope, container_operation_nested_round_trip) {
  auto o = to_json(container_operation{"c2", "stop", "abc123", json::object{{"timeout", 5}}});
  EXPECT_EQ(o.at("payload").at("action"), "stop");
  auto m = parse_server_message(json::value(o));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->type, server_message::kind::container_operation);
  EXPECT_EQ(m->op.id, "c2");
  EXPECT_EQ(m->op.action, "stop");
  EXPECT_EQ(m->op.container_id, "abc123");
  EXPECT_EQ(m->op.params.at("timeout"), 5);
  EXPECT_FALSE(m->op.params.contains("action"));
}

TEST(envelope, container_operation_flat_form_is_accepted) {
  auto m = parse_server_message(json::parse(
      R"({"type":"container_operation","correlation_id":"c3","action":"rename","container_id":"x","new_name":"y"})"));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->op.action, "rename");
  EXPECT_EQ(m->op.params.at("new_name"), "y");
  EXPECT_FALSE(m->op.params.contains("type"));
  EXPECT_FALSE(m->op.params.contains("correlation_id"));
}

TEST(envelope, server_messages_without_ids_or_names_are_refused) {
  EXPECT_FALSE(parse_server_message(json::parse(R"({"type":"command","command":"ping"})")).has_value());
  EXPECT_FALSE(parse_server_message(json::parse(R"({"type":"command","id":"a b","command":"ping"})")).has_value());
  EXPECT_FALSE(parse_server_message(json::parse(R"({"type":"command","id":"c"})")).has_value());
  EXPECT_FALSE(parse_server_message(json::parse(R"({"type":"container_operation","id":"c","payload":{}})")).has_value());
  EXPECT_FALSE(parse_server_message(json::parse("42")).has_value());
  auto other = parse_server_message(json::parse(R"({"type":"something_new"})"));
  ASSERT_TRUE(other.has_value());
  EXPECT_EQ(other->type, server_message::kind::other);
}

TEST(envelope, response_encoding) {
  auto ok = response_frame("c1", json::object{{"pong", true}});
  EXPECT_EQ(ok.at("type"), "response");
  EXPECT_EQ(ok.at("id"), "c1");
  EXPECT_FALSE(ok.contains("error"));
  auto bad = response_frame("c1", nullptr, "unknown command: foo");
  EXPECT_EQ(bad.at("error"), "unknown command: foo");
  auto m = parse_agent_message(json::value(bad));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->type, agent_message::kind::response);
  EXPECT_FALSE(m->success);
  EXPECT_EQ(m->error, "unknown command: foo");
}

TEST(envelope, flat_operation_replies) {
  auto ok = operation_success("c9", json::object{{"container_id", "abc"}, {"status", "stopped"}});
  EXPECT_EQ(ok.at("success"), true);
  EXPECT_FALSE(ok.contains("type"));
  auto m = parse_agent_message(json::value(ok));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->type, agent_message::kind::operation_reply);
  EXPECT_EQ(m->correlation_id, "c9");
  EXPECT_TRUE(m->success);
  EXPECT_EQ(m->payload.at("status"), "stopped");
  auto f = parse_agent_message(json::value(operation_failure("c9", "No such container: x")));
  ASSERT_TRUE(f.has_value());
  EXPECT_FALSE(f->success);
  EXPECT_EQ(f->error, "No such container: x");
}

TEST(envelope, events_stats_and_heartbeat) {
  auto e = parse_agent_message(json::value(event_frame("container_event", json::object{{"action", "start"}})));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->type, agent_message::kind::event);
  EXPECT_EQ(e->event_name, "container_event");
  auto s = parse_agent_message(json::value(host_stats_frame(12.5, 40, 1000)));
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->type, agent_message::kind::host_stats);
  EXPECT_EQ(s->payload.at("cpu_percent"), 12.5);
  auto h = parse_agent_message(json::parse(R"({"type":"heartbeat"})"));
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->type, agent_message::kind::heartbeat);
  EXPECT_FALSE(parse_agent_message(json::parse(R"({"type":"event","command":"x","payload":3})")).has_value());
}

TEST(envelope, known_actions) {
  EXPECT_TRUE(known_container_action("get_logs"));
  EXPECT_FALSE(known_container_action("exec"));
}

TEST(envelope, build_versions_and_arches_cannot_name_a_path) {
  for (const char* good : {"0.2.0", "1.0.0-rc.1", "2024.11.27+build.5", "v3"}) EXPECT_TRUE(valid_build_version(good)) << good;
  for (const char* bad : {"", "../etc", ".hidden", "1.0/../../x", "1 0", "-1", "1.0%2f"}) EXPECT_FALSE(valid_build_version(bad)) << bad;
  EXPECT_FALSE(valid_build_version(std::string(65, '1')));
  for (const char* good : {"amd64", "arm64", "386", "mips64le", "arm_v7"}) EXPECT_TRUE(valid_build_arch(good)) << good;
  for (const char* bad : {"", "AMD64", "arm-64", "../x", "x86/64"}) EXPECT_FALSE(valid_build_arch(bad)) << bad;
}

TEST(envelope, a_pinned_image_names_its_digest_and_nothing_else_passes) {
  const std::string digest(64, 'a');
  EXPECT_EQ(pinned_image_digest("127.0.0.1:5000/dockmon-agent@sha256:" + digest), digest);
  EXPECT_EQ(pinned_image_digest("dockmon-agent@sha256:" + digest), digest);
  for (const auto& bad : std::vector<std::string>{"", "dockmon-agent:v2", "@sha256:" + digest, "dockmon-agent@sha256:abc",
                                                  "dockmon-agent@sha256:" + std::string(64, 'A'),
                                                  "dockmon-agent@sha256:" + digest + "x",
                                                  std::string(500, 'r') + "@sha256:" + digest}) {
    EXPECT_EQ(pinned_image_digest(bad), std::nullopt) << bad;
  }
}

TEST(image_repository, tags_and_digests_go_and_docker_hub_short_forms_are_spelt_out) {
  using dockmon::protocol::image_repository;
  EXPECT_EQ(image_repository("nginx"), "docker.io/library/nginx");
  EXPECT_EQ(image_repository("nginx:1.25"), "docker.io/library/nginx");
  EXPECT_EQ(image_repository("library/nginx:latest"), "docker.io/library/nginx");
  EXPECT_EQ(image_repository("docker.io/library/nginx@sha256:" + std::string(64, 'a')), "docker.io/library/nginx");
  EXPECT_EQ(image_repository("index.docker.io/nginx"), "docker.io/library/nginx");
  EXPECT_EQ(image_repository("portainer/agent:2"), "docker.io/portainer/agent");
  EXPECT_EQ(image_repository("127.0.0.1:5000/app:v2"), "127.0.0.1:5000/app");
  EXPECT_EQ(image_repository("127.0.0.1:5000/app"), "127.0.0.1:5000/app");
  EXPECT_EQ(image_repository("ghcr.io/Owner/App:1"), "ghcr.io/owner/app");
  EXPECT_EQ(image_repository("localhost/app:1"), "localhost/app");
  EXPECT_NE(image_repository("127.0.0.1:5000/app:v2"), image_repository("127.0.0.1:5000/other:v2"));
}
