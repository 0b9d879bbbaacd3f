// Registration end to end: a real agent on the test engine, and raw frames for every refusal.
#include "harness.hpp"

#include <gtest/gtest.h>

#include <filesystem>

using namespace dockmon;
using namespace dockmon::test;

namespace {

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// Sends a frame as the first message and expects auth_error then close 1008.
void expect_refused(test_server& server, const json::value& frame, const std::string& reason_part) {
  ws_client ws(server.port());
  ws.send(frame);
  auto reply = ws.read_json();
  ASSERT_TRUE(reply.has_value()) << "no reply to " << json::serialize(frame);
  EXPECT_EQ(reply->at("type").as_string(), "auth_error") << json::serialize(*reply);
  EXPECT_NE(std::string(reply->at("error").as_string()).find(reason_part), std::string::npos) << json::serialize(*reply);
  EXPECT_FALSE(ws.read(5s).has_value());
  EXPECT_EQ(ws.close_code(), 1008);
}

}  // namespace

TEST(registration, new_host_registers_and_shows_its_system_info) {
  test_server server;
  test_agent agent(server.port(), server.registration_token());
  auto host = server.wait_for_engine(engine_id());
  ASSERT_TRUE(host.has_value()) << agent.log();

  EXPECT_EQ(host->at("status").as_string(), "online");
  EXPECT_EQ(host->at("name").as_string(), trimmed(docker_cli("info -f '{{.Name}}'").output));
  EXPECT_EQ(host->at("docker_version").as_string(), trimmed(docker_cli("version -f '{{.Server.Version}}'").output));
  EXPECT_EQ(host->at("kernel_version").as_string(), trimmed(docker_cli("info -f '{{.KernelVersion}}'").output));
  EXPECT_EQ(host->at("os_version").as_string(), trimmed(docker_cli("info -f '{{.OperatingSystem}}'").output));
  EXPECT_EQ(host->at("os_type").as_string(), "linux");
  EXPECT_EQ(std::to_string(host->at("num_cpus").as_int64()), trimmed(docker_cli("info -f '{{.NCPU}}'").output));
  EXPECT_EQ(std::to_string(host->at("total_memory").as_int64()), trimmed(docker_cli("info -f '{{.MemTotal}}'").output));
  EXPECT_FALSE(host->at("daemon_started_at").as_string().empty());
  auto& a = host->at("agent").as_object();
  EXPECT_EQ(a.at("status").as_string(), "online");
  EXPECT_EQ(a.at("proto_version").as_string(), "1.1");
  EXPECT_TRUE(a.at("capabilities").at("container_operations").as_bool());

  // The permanent token is on disk, private, and sealed to this host: the file holds no plain token
  // (the agent's token_file_test opens it; the restart test below shows the agent reads it back).
  auto token_path = agent.data_dir() + "/permanent_token";
  ASSERT_TRUE(std::filesystem::exists(token_path));
  EXPECT_EQ(std::filesystem::status(token_path).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  auto stored = trimmed(shell("cat " + token_path).output);
  EXPECT_EQ(stored.rfind("dockmon-sealed-token v1\n", 0), 0u) << stored;
  EXPECT_EQ(stored.find(std::string(a.at("id").as_string())), std::string::npos);
  // Only a hash of the token is in the database (SHA-256, 64 hex characters).
  EXPECT_EQ(server.sqlite("SELECT length(token_hash) FROM agents;"), "64\n");
}

TEST(registration, spent_token_is_refused) {
  test_server server;
  auto token = server.registration_token();
  {
    ws_client first(server.port());
    first.send(register_frame(token, "ENGINE:ONE"));
    auto reply = first.read_json();
    ASSERT_TRUE(reply.has_value());
    EXPECT_EQ(reply->at("type").as_string(), "auth_success");
  }
  expect_refused(server, register_frame(token, "ENGINE:TWO"), "already been used");
  EXPECT_EQ(server.hosts().size(), 1u);
}

TEST(registration, expired_token_is_refused_and_left_unspent) {
  test_server server;
  auto token = server.registration_token();
  server.sqlite("UPDATE registration_tokens SET expires_at = '2020-01-01T00:00:00Z';");
  expect_refused(server, register_frame(token, "ENGINE:EXP"), "expired");
  EXPECT_EQ(server.sqlite("SELECT used FROM registration_tokens;"), "0\n");
  EXPECT_TRUE(server.hosts().empty());
}

TEST(registration, unknown_token_is_refused) {
  test_server server;
  server.registration_token();
  expect_refused(server, register_frame("no-such-token-anywhere", "ENGINE:X"), "Invalid");
  EXPECT_TRUE(server.hosts().empty());
}

TEST(registration, malformed_frames_are_refused_with_1008) {
  test_server server;
  auto token = server.registration_token();
  auto unknown_field = register_frame(token, "ENGINE:U");
  unknown_field["is_admin"] = true;
  expect_refused(server, unknown_field, "unknown field");
  expect_refused(server, register_frame(token, "bad engine id!"), "engine_id");
  auto memory = register_frame(token, "ENGINE:M");
  memory["total_memory"] = 0;
  expect_refused(server, memory, "total_memory");
  auto wrong_type = register_frame(token, "ENGINE:T");
  wrong_type["type"] = "heartbeat";
  expect_refused(server, wrong_type, "register");
  {
    ws_client ws(server.port());
    ws.send(std::string("this is not json"));
    auto reply = ws.read_json();
    ASSERT_TRUE(reply.has_value());
    EXPECT_EQ(reply->at("type").as_string(), "auth_error");
  }
  // None of those spent the token.
  EXPECT_EQ(server.sqlite("SELECT used FROM registration_tokens;"), "0\n");
}

TEST(registration, markup_and_sql_in_every_text_field_are_harmless) {
  test_server server;
  const std::string nasty = "<script>alert(1)</script>'; DROP TABLE agents;--";
  const std::string shown = "scriptalert(1)/script'; DROP TABLE agents;--";
  auto frame = register_frame(server.registration_token(), "ENGINE:XSS");
  for (const char* field : {"hostname", "version", "os_type", "os_version", "kernel_version", "docker_version",
                            "daemon_started_at"}) {
    frame[field] = nasty;
  }
  ws_client ws(server.port());
  ws.send(frame);
  auto reply = ws.read_json();
  ASSERT_TRUE(reply.has_value());
  ASSERT_EQ(reply->at("type").as_string(), "auth_success") << json::serialize(*reply);
  const std::string host_id(reply->at("host_id").as_string());
  auto res = server.get("/api/hosts/" + host_id);
  ASSERT_EQ(res.status, 200u);
  // JSON for a script-less page: no markup survives, the SQL is only text, and the browser is told
  // not to sniff the answer into anything else.
  EXPECT_EQ(res.body.find('<'), std::string::npos) << res.body;
  EXPECT_EQ(res.headers["content-type"], "application/json");
  EXPECT_EQ(res.headers["x-content-type-options"], "nosniff");
  auto host = res.json().as_object();
  EXPECT_EQ(host.at("name").as_string(), shown);
  for (const char* field : {"os_type", "os_version", "kernel_version", "docker_version", "daemon_started_at"}) {
    EXPECT_EQ(host.at(field).as_string(), shown) << field;
  }
  EXPECT_EQ(host.at("agent").at("version").as_string(), shown);
  EXPECT_EQ(server.hosts().size(), 1u) << "the agents table is still there";
  EXPECT_EQ(server.sqlite("SELECT COUNT(*) FROM agents;"), "1\n");
}

TEST(registration, permanent_token_with_another_engine_id_is_refused) {
  test_server server;
  std::string permanent;
  {
    ws_client ws(server.port());
    ws.send(register_frame(server.registration_token(), "ENGINE:OWNER"));
    auto reply = ws.read_json();
    ASSERT_TRUE(reply.has_value());
    permanent = std::string(reply->at("permanent_token").as_string());
  }
  expect_refused(server, register_frame(permanent, "ENGINE:THIEF"), "different Docker engine");
  // The rightful engine still gets in with it.
  ws_client again(server.port());
  again.send(register_frame(permanent, "ENGINE:OWNER"));
  auto reply = again.read_json();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->at("type").as_string(), "auth_success");
}

TEST(registration, second_connection_of_an_agent_replaces_the_first) {
  test_server server;
  ws_client first(server.port());
  first.send(register_frame(server.registration_token(), "ENGINE:DUP"));
  auto reply = first.read_json();
  ASSERT_TRUE(reply.has_value());
  std::string permanent(reply->at("permanent_token").as_string());
  std::string host_id(reply->at("host_id").as_string());

  ws_client second(server.port());
  second.send(register_frame(permanent, "ENGINE:DUP"));
  auto reply2 = second.read_json();
  ASSERT_TRUE(reply2.has_value());
  EXPECT_EQ(reply2->at("host_id").as_string(), host_id);
  EXPECT_FALSE(first.read(5s).has_value()) << "the replaced connection is closed";
  EXPECT_EQ(server.wait_for_host(host_id, "online").has_value(), true);
}

TEST(registration, silent_client_is_dropped_after_30_seconds) {
  test_server server;
  ws_client ws(server.port());
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(ws.read(40s).has_value());
  auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_GE(waited, 29s);
  EXPECT_LT(waited, 38s) << "dropped by the 30 s registration deadline, not by the client's own timeout";
}

TEST(registration, restarted_agent_comes_back_as_the_same_host) {
  test_server server;
  std::string data_dir = make_temp_dir("dockmon-it-agent-keep");
  std::string host_id;
  {
    test_agent agent(server.port(), server.registration_token(), data_dir);
    auto host = server.wait_for_engine(engine_id());
    ASSERT_TRUE(host.has_value()) << agent.log();
    host_id = std::string(host->at("id").as_string());
  }
  ASSERT_TRUE(server.wait_for_host(host_id, "offline").has_value());
  // No registration token this time: the stored permanent token must do.
  test_agent again(server.port(), "", data_dir);
  auto back = server.wait_for_host(host_id, "online");
  ASSERT_TRUE(back.has_value()) << again.log();
  EXPECT_EQ(server.hosts().size(), 1u);
  std::filesystem::remove_all(data_dir);
}
