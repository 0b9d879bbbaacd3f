// Registration end to end: a real agent on the test engine, and raw frames for every refusal.
#include "harness.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <thread>
#include <utility>

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

  // The permanent token is on disk, private, and sealed to this host (the agent's token_file_test opens
  // it; the restart test below shows the agent reads it back).
  auto token_path = agent.data_dir() + "/permanent_token";
  ASSERT_TRUE(std::filesystem::exists(token_path));
  EXPECT_EQ(std::filesystem::status(token_path).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  auto stored = trimmed(shell("cat " + token_path).output);
  EXPECT_EQ(stored.rfind("dockmon-sealed-token v1\n", 0), 0u) << stored;
  // Only a hash of the token is in the database (SHA-256, 64 hex characters).
  EXPECT_EQ(server.sql("SELECT length(token_hash) FROM agents;"), "64\n");
  // What seals the file never reaches a viewer: not the engine id, not the machine id.
  auto viewer = server.api_key("viewer");
  auto seen = server.request(http::verb::get, "/api/hosts", {}, {{"Authorization", "Bearer " + viewer}}).body;
  EXPECT_EQ(seen.find(engine_id()), std::string::npos) << seen;
  const auto machine_id = trimmed(shell("cat /etc/machine-id 2>/dev/null").output);
  if (!machine_id.empty()) {
    EXPECT_EQ(seen.find(machine_id), std::string::npos) << seen;
  }
}

TEST(registration, the_permanent_token_is_256_random_bits_not_the_agent_id_and_stored_hashed) {
  test_server server;
  std::set<std::string> tokens;
  for (const char* engine : {"ENGINE:T1", "ENGINE:T2", "ENGINE:T3"}) {
    ws_client ws(server.port());
    ws.send(register_frame(server.registration_token(), engine));
    auto reply = ws.read_json();
    ASSERT_TRUE(reply.has_value());
    const std::string token(reply->at("permanent_token").as_string());
    // 32 random bytes in URL-safe base64 without padding: 43 characters of [A-Za-z0-9_-].
    EXPECT_EQ(token.size(), 43u) << token;
    EXPECT_EQ(token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), std::string::npos);
    EXPECT_NE(token, std::string(reply->at("agent_id").as_string()));
    EXPECT_NE(token, std::string(reply->at("host_id").as_string()));
    tokens.insert(token);
    EXPECT_EQ(server.sql("SELECT COUNT(*) FROM agents WHERE token_hash = '" + token + "' OR id = '" + token + "';"), "0\n")
        << "the token itself is stored nowhere";
  }
  EXPECT_EQ(tokens.size(), 3u);
  // Registration tokens are kept as hashes too.
  const auto minted = server.registration_token();
  EXPECT_EQ(server.sql("SELECT COUNT(*) FROM registration_tokens WHERE token_hash = '" + minted + "';"), "0\n");
  EXPECT_EQ(server.sql("SELECT COUNT(*) FROM registration_tokens WHERE length(token_hash) = 64;"), "4\n");
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
  server.sql("UPDATE registration_tokens SET expires_at = '2020-01-01T00:00:00Z';");
  expect_refused(server, register_frame(token, "ENGINE:EXP"), "expired");
  EXPECT_EQ(server.sql("SELECT used FROM registration_tokens;"), "0\n");
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
  EXPECT_EQ(server.sql("SELECT used FROM registration_tokens;"), "0\n");
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
  EXPECT_EQ(server.sql("SELECT COUNT(*) FROM agents;"), "1\n");
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
  EXPECT_FALSE(first.read(5s).has_value());
  EXPECT_EQ(first.close_code(), 1001) << "the replaced connection is closed by the server, not by the read's deadline";
  EXPECT_NE(first.close_reason().find("replaced"), std::string::npos) << first.close_reason();
  EXPECT_EQ(server.wait_for_host(host_id, "online").has_value(), true);
}

namespace {

// Registers a raw agent and returns {host_id, permanent token}.
std::pair<std::string, std::string> enrol(test_server& server, ws_client& ws, json::object frame) {
  ws.send(frame);
  auto reply = ws.read_json();
  if (!reply || reply->at("type").as_string() != "auth_success") {
    ADD_FAILURE() << "registration refused: " << (reply ? json::serialize(*reply) : "no reply");
    return {};
  }
  (void)server;
  return {std::string(reply->at("host_id").as_string()), std::string(reply->at("permanent_token").as_string())};
}

// Proves the connection is open and still the host's: a container list asked through the API arrives on
// it, and the answer it gives is the API's.
bool still_serves_its_host(test_server& server, ws_client& ws, const std::string& host_id) {
  http_response answer;
  std::thread ask([&] { answer = server.get("/api/hosts/" + host_id + "/containers"); });
  auto frame = ws.read_json(10s);
  const bool asked = frame && frame->is_object() && frame->as_object().contains("command") &&
                     frame->at("command").as_string() == "list_containers";
  if (asked) ws.send(json::object{{"type", "response"}, {"id", frame->at("id")}, {"payload", json::array{}}});
  ask.join();
  return asked && answer.status == 200 && answer.body == "[]";
}

}  // namespace

TEST(registration, a_fresh_registration_token_cannot_take_over_a_known_engine) {
  test_server server;
  ws_client victim(server.port());
  auto [host_id, permanent] = enrol(server, victim, register_frame(server.registration_token(), "ENGINE:VICTIM"));
  ASSERT_FALSE(host_id.empty());

  // An attacker holding a fresh token (a leaked install line) and the victim's engine id.
  ws_client thief(server.port());
  auto frame = register_frame(server.registration_token(), "ENGINE:VICTIM");
  frame["hostname"] = "thief";
  thief.send(frame);
  auto reply = thief.read_json();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->at("type").as_string(), "auth_error") << json::serialize(*reply);
  EXPECT_NE(std::string(reply->at("error").as_string()).find("already registered"), std::string::npos);
  EXPECT_EQ(json::serialize(*reply).find(host_id), std::string::npos) << "no ids of the victim handed out";
  EXPECT_FALSE(thief.read(5s).has_value());
  EXPECT_EQ(thief.close_code(), 1008);

  // The real agent is untouched: still connected and routed to, and its token still works.
  EXPECT_TRUE(still_serves_its_host(server, victim, host_id));
  EXPECT_EQ(server.hosts().size(), 1u);
  EXPECT_EQ(server.host(host_id)->at("name").as_string(), "raw-ENGINE:VICTIM");
  EXPECT_EQ(server.sql("SELECT COUNT(*) FROM agents WHERE revoked_at IS NULL;"), "1\n");
  ws_client again(server.port());
  auto [same_host, next] = enrol(server, again, register_frame(permanent, "ENGINE:VICTIM"));
  EXPECT_EQ(same_host, host_id);
}

TEST(registration, viewers_and_operators_see_no_engine_ids) {
  test_server server;
  ws_client agent(server.port());
  auto frame = register_frame(server.registration_token(), "ENGINE:SECRETID");
  frame["hostname"] = "plain-name";  // the test frame names hosts after their engine by default
  auto [host_id, permanent] = enrol(server, agent, frame);
  ASSERT_FALSE(host_id.empty());
  for (const char* role : {"viewer", "operator"}) {
    auto key = server.api_key(role);
    for (const auto& target : {std::string("/api/hosts"), "/api/hosts/" + host_id}) {
      auto res = server.request(http::verb::get, target, {}, {{"Authorization", "Bearer " + key}});
      ASSERT_EQ(res.status, 200u) << res.body;
      EXPECT_EQ(res.body.find("ENGINE:SECRETID"), std::string::npos) << role << " " << target << ": " << res.body;
      EXPECT_EQ(res.body.find("engine_id"), std::string::npos) << role << " " << target << ": " << res.body;
    }
  }
  EXPECT_NE(server.get("/api/hosts/" + host_id).body.find("ENGINE:SECRETID"), std::string::npos) << "admins still see it";
}

TEST(registration, a_reattach_token_brings_back_its_own_host_and_no_other) {
  test_server server;
  std::string host_a, host_b;
  {
    ws_client a(server.port());
    host_a = enrol(server, a, register_frame(server.registration_token(), "ENGINE:A")).first;
    ws_client b(server.port());
    host_b = enrol(server, b, register_frame(server.registration_token(), "ENGINE:B")).first;
  }
  ASSERT_FALSE(host_a.empty());
  ASSERT_FALSE(host_b.empty());
  ASSERT_TRUE(server.wait_for_host(host_a, "offline"));

  for (const char* role : {"viewer", "operator"}) {
    auto key = server.api_key(role);
    EXPECT_EQ(server.request(http::verb::post, "/api/hosts/" + host_a + "/reattach-token", {}, {{"Authorization", "Bearer " + key}}).status,
              403u)
        << role;
  }
  EXPECT_EQ(server.post("/api/hosts/00000000-0000-0000-0000-000000000000/reattach-token").status, 404u);
  auto minted = server.post("/api/hosts/" + host_a + "/reattach-token");
  ASSERT_EQ(minted.status, 201u) << minted.body;
  const std::string token(minted.json().at("token").as_string());

  // Minted for A, it cannot take B's engine.
  {
    ws_client wrong(server.port());
    wrong.send(register_frame(token, "ENGINE:B"));
    auto reply = wrong.read_json();
    ASSERT_TRUE(reply.has_value());
    EXPECT_EQ(reply->at("type").as_string(), "auth_error") << json::serialize(*reply);
  }
  // The agent reinstalled on A's engine, with no data, comes back as host A.
  ws_client back(server.port());
  auto [host, permanent] = enrol(server, back, register_frame(token, "ENGINE:A"));
  EXPECT_EQ(host, host_a);
  EXPECT_EQ(server.hosts().size(), 2u);
  EXPECT_TRUE(server.wait_for_host(host_a, "online"));
  auto audit = server.get("/api/audit?limit=20");
  EXPECT_NE(audit.body.find("generate_reattach_token"), std::string::npos) << audit.body;
}

TEST(registration, a_revoked_agent_stays_revoked_until_an_admin_reattaches_it) {
  test_server server;
  std::string host_id;
  {
    ws_client ws(server.port());
    host_id = enrol(server, ws, register_frame(server.registration_token(), "ENGINE:REVOKED")).first;
  }
  ASSERT_FALSE(host_id.empty());
  ASSERT_EQ(server.post("/api/hosts/" + host_id + "/revoke").status, 200u);
  expect_refused(server, register_frame(server.registration_token(), "ENGINE:REVOKED"), "revoked");
  EXPECT_TRUE(server.host(host_id)->at("agent").at("revoked_at").is_string()) << "a plain token did not lift it";
  auto minted = server.post("/api/hosts/" + host_id + "/reattach-token");
  ASSERT_EQ(minted.status, 201u);
  ws_client back(server.port());
  EXPECT_EQ(enrol(server, back, register_frame(std::string(minted.json().at("token").as_string()), "ENGINE:REVOKED")).first, host_id);
  EXPECT_TRUE(server.host(host_id)->at("agent").at("revoked_at").is_null());
}

TEST(registration, force_unique_registration_makes_a_new_host_as_dockmon_does) {
  test_server server;
  ws_client original(server.port());
  auto first = enrol(server, original, register_frame(server.registration_token(), "ENGINE:CLONED")).first;
  ASSERT_FALSE(first.empty());
  auto clone = register_frame(server.registration_token(), "ENGINE:CLONED");
  clone["force_unique_registration"] = true;
  clone["hostname_source"] = "os_hostname";
  expect_refused(server, clone, "AGENT_NAME");
  clone["token"] = server.registration_token();
  clone["hostname_source"] = "agent_name";
  clone["hostname"] = "clone-2";
  ws_client second(server.port());
  auto [second_host, token] = enrol(server, second, clone);
  ASSERT_FALSE(second_host.empty());
  EXPECT_NE(second_host, first);
  EXPECT_EQ(server.hosts().size(), 2u);
  EXPECT_TRUE(still_serves_its_host(server, original, first)) << "the original is not replaced";
  EXPECT_TRUE(still_serves_its_host(server, second, second_host));
}

TEST(registration, a_dockmon_1_0_agent_registers_with_the_1_0_frame) {
  // DockMon 1.0's agent sends the flat frame without the 1.1 extras and proto_version "1.0".
  test_server server;
  json::object frame{{"type", "register"},
                     {"token", server.registration_token()},
                     {"engine_id", "ENGINE:ONE-ZERO"},
                     {"hostname", "old-agent"},
                     {"version", "1.0.3"},
                     {"proto_version", "1.0"},
                     {"capabilities", json::object{{"container_operations", true}, {"stats_collection", true}}},
                     {"os_type", "linux"},
                     {"os_version", "Ubuntu 22.04"},
                     {"kernel_version", "5.15.0"},
                     {"docker_version", "24.0.5"},
                     {"daemon_started_at", "2026-01-01T00:00:00Z"},
                     {"total_memory", 2147483648},
                     {"num_cpus", 2}};
  ws_client ws(server.port());
  auto [host_id, token] = enrol(server, ws, frame);
  ASSERT_FALSE(host_id.empty());
  auto host = server.host(host_id);
  ASSERT_TRUE(host);
  EXPECT_EQ(host->at("agent").at("proto_version").as_string(), "1.0");
  EXPECT_EQ(host->at("agent").at("version").as_string(), "1.0.3");
  EXPECT_EQ(host->at("name").as_string(), "old-agent");
  EXPECT_TRUE(still_serves_its_host(server, ws, host_id));
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

TEST(registration, a_cloned_machine_with_force_unique_registration_becomes_a_host_of_its_own) {
  // Two agents on one Docker engine stand for two clones that share its engine id.
  test_server server;
  test_agent original(server.port(), server.registration_token());
  ASSERT_TRUE(server.wait_for_engine(engine_id())) << original.log();
  test_agent clone(server.port(), server.registration_token(), {}, {{"FORCE_UNIQUE_REGISTRATION", "true"}, {"AGENT_NAME", "the-clone"}});
  ASSERT_TRUE(wait_until([&] { return server.hosts().size() == 2; }, 20s)) << clone.log();
  bool clone_online = false;
  for (const auto& h : server.hosts())
    if (h.at("name").as_string() == "the-clone" && h.at("status").as_string() == "online") clone_online = true;
  EXPECT_TRUE(clone_online) << json::serialize(server.hosts());
}
