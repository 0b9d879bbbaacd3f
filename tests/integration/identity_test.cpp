// An agent's identity over time: its permanent token rotated at every reconnect, an admin revoking it,
// agents long offline removed; and the server's audit log, API keys and sessions as admins manage them.
#include "harness.hpp"

#include <gtest/gtest.h>

#include <thread>

using namespace dockmon;
using namespace dockmon::test;

namespace {

// Registers (or reconnects) with raw frames; the auth reply, or nullopt when none came.
std::optional<json::object> present(test_server& server, const std::string& token, const std::string& engine) {
  ws_client ws(server.port());
  ws.send(register_frame(token, engine));
  auto reply = ws.read_json();
  if (!reply || !reply->is_object()) return std::nullopt;
  return reply->as_object();
}

bool accepted(const std::optional<json::object>& reply) { return reply && reply->at("type").as_string() == "auth_success"; }

std::string error_of(const std::optional<json::object>& reply) {
  return reply && reply->contains("error") ? std::string(reply->at("error").as_string()) : std::string();
}

bool audit_has(test_server& server, const std::string& action, const std::string& target_part) {
  auto res = server.get("/api/audit?limit=1000");
  if (res.status != 200) return false;
  auto entries = res.json();
  for (const auto& e : entries.as_array()) {
    if (e.at("action").as_string() == action &&
        std::string(e.at("target").as_string()).find(target_part) != std::string::npos)
      return true;
  }
  return false;
}

}  // namespace

TEST(identity, permanent_token_rotates_and_the_old_one_stops_once_the_new_one_is_used) {
  test_server server;
  auto first = present(server, server.registration_token(), "ENGINE:ROT");
  ASSERT_TRUE(accepted(first));
  const std::string t0(first->at("permanent_token").as_string());

  auto second = present(server, t0, "ENGINE:ROT");
  ASSERT_TRUE(accepted(second));
  const std::string t1(second->at("permanent_token").as_string());
  EXPECT_NE(t1, t0) << "a reconnect hands out a new token";
  // The agent may have crashed before storing t1: t0 still works (and t1 is replaced by a newer one).
  auto third = present(server, t0, "ENGINE:ROT");
  ASSERT_TRUE(accepted(third));
  const std::string t2(third->at("permanent_token").as_string());
  EXPECT_FALSE(accepted(present(server, t1, "ENGINE:ROT")));
  // Using t2 retires t0 for good.
  ASSERT_TRUE(accepted(present(server, t2, "ENGINE:ROT")));
  auto replayed = present(server, t0, "ENGINE:ROT");
  EXPECT_FALSE(accepted(replayed));
  EXPECT_EQ(error_of(replayed), "Invalid registration token");
}

TEST(identity, a_real_agent_keeps_up_with_rotation_across_reconnects) {
  test_server server;
  test_agent agent(server.port(), server.registration_token());
  auto host = server.wait_for_engine(engine_id());
  ASSERT_TRUE(host) << agent.log();
  const std::string host_id(host->at("id").as_string());
  const auto hashes = [&] { return server.sql("SELECT token_hash || ' ' || COALESCE(next_token_hash, '') FROM agents;"); };
  const auto at_start = hashes();
  for (int i = 0; i < 2; ++i) {
    server.restart();
    ASSERT_TRUE(server.wait_for_host(host_id, "online")) << agent.log();
  }
  // Two reconnects: the agent stored and used the token the first one gave it.
  const auto now = hashes();
  EXPECT_NE(now.substr(0, 64), at_start.substr(0, 64)) << at_start << " -> " << now;
}

TEST(identity, an_agent_started_with_a_permanent_token_moves_on_to_the_rotated_one) {
  test_server server;
  auto first = present(server, server.registration_token(), engine_id());
  ASSERT_TRUE(accepted(first));
  const std::string t0(first->at("permanent_token").as_string());
  const std::string host_id(first->at("host_id").as_string());
  test_agent agent(server.port(), "", {}, {{"PERMANENT_TOKEN", t0}});
  ASSERT_TRUE(server.wait_for_host(host_id, "online")) << agent.log();
  // Connected with t0, the agent stored the token the server handed it; it presents that one from now
  // on, which retires t0, though t0 is still in its environment.
  agent.restart();
  ASSERT_TRUE(wait_until([&] { return agent.log().find("registered with") != agent.log().rfind("registered with"); }, 20s))
      << agent.log();
  auto replayed = present(server, t0, engine_id());
  EXPECT_FALSE(accepted(replayed)) << "the environment's token stops once the rotated one is used";
  EXPECT_EQ(error_of(replayed), "Invalid registration token");
}

TEST(identity, revoked_agent_is_cut_off_and_refused_from_then_on) {
  test_server server;
  test_agent agent(server.port(), server.registration_token());
  auto host = server.wait_for_engine(engine_id());
  ASSERT_TRUE(host) << agent.log();
  const std::string host_id(host->at("id").as_string());

  auto viewer = server.api_key("viewer");
  auto refused = server.request(http::verb::post, "/api/hosts/" + host_id + "/revoke", {}, {{"Authorization", "Bearer " + viewer}});
  EXPECT_EQ(refused.status, 403u);
  EXPECT_EQ(server.post("/api/hosts/not-a-host/revoke").status, 400u);

  auto res = server.post("/api/hosts/" + host_id + "/revoke");
  ASSERT_EQ(res.status, 200u) << res.body;
  EXPECT_TRUE(server.wait_for_host(host_id, "offline", 5s));
  EXPECT_TRUE(wait_until([&] { return agent.log().find("revoked by an administrator") != std::string::npos; }, 15s))
      << agent.log();
  // It keeps knocking and keeps being refused.
  EXPECT_FALSE(server.wait_for_host(host_id, "online", 3s));
  EXPECT_TRUE(server.host(host_id)->at("agent").at("revoked_at").is_string());
  EXPECT_TRUE(audit_has(server, "revoke_agent", host_id));
}

TEST(identity, agents_offline_past_the_retention_are_removed_with_an_audit_entry) {
  test_server server(env_map{{"DOCKMON_AGENT_RETENTION", "2s"}});
  std::string host_id;
  {
    test_agent agent(server.port(), server.registration_token());
    auto host = server.wait_for_engine(engine_id());
    ASSERT_TRUE(host) << agent.log();
    host_id = std::string(host->at("id").as_string());
    // Online hosts are kept however long ago they registered.
    std::this_thread::sleep_for(3s);
    ASSERT_TRUE(server.host(host_id)) << "an online agent was removed";
  }
  EXPECT_TRUE(wait_until([&] { return !server.host(host_id); }, 15s));
  EXPECT_TRUE(audit_has(server, "remove_offline_agent", host_id));
}

TEST(identity, audit_log_is_for_admins_and_names_who_did_what) {
  test_server server;
  auto token_res = server.post("/api/agent/generate-token");
  ASSERT_EQ(token_res.status, 201u);
  auto operator_key = server.api_key("operator");
  EXPECT_EQ(server.request(http::verb::get, "/api/audit", {}, {{"Authorization", "Bearer " + operator_key}}).status, 403u);
  auto res = server.get("/api/audit?limit=5");
  ASSERT_EQ(res.status, 200u) << res.body;
  auto entries = res.json();
  ASSERT_FALSE(entries.as_array().empty());
  EXPECT_EQ(entries.as_array()[0].at("username").as_string(), "admin");
  EXPECT_TRUE(audit_has(server, "generate_registration_token", ""));
  EXPECT_EQ(server.get("/api/audit?limit=x").status, 400u);
  EXPECT_EQ(server.get("/api/audit?since=yesterday").status, 400u);
}

TEST(identity, api_keys_expire_and_can_be_revoked) {
  test_server server;
  auto created = server.post("/api/api-keys", R"({"name":"ci","role":"viewer","expires_in":"1h"})");
  ASSERT_EQ(created.status, 201u) << created.body;
  auto body = created.json();
  const std::string key(body.at("key").as_string());
  const std::string id(body.at("id").as_string());
  EXPECT_FALSE(body.at("expires_at").as_string().empty());
  auto as_key = [&](const std::string& target) {
    return server.request(http::verb::get, target, {}, {{"Authorization", "Bearer " + key}}).status;
  };
  EXPECT_EQ(as_key("/api/hosts"), 200u);
  EXPECT_EQ(server.post("/api/api-keys", R"({"name":"x","expires_in":"forever"})").status, 400u);
  EXPECT_EQ(server.post("/api/api-keys", R"({"name":"x","expires_in":"500d"})").status, 400u);

  // A key acts for the user who made it: a viewer key of admin lists admin's two keys, secrets left out.
  auto viewer_key = server.api_key("viewer");
  auto listed = server.request(http::verb::get, "/api/api-keys", {}, {{"Authorization", "Bearer " + viewer_key}});
  ASSERT_EQ(listed.status, 200u);
  EXPECT_EQ(listed.json().as_array().size(), 2u) << listed.body;
  EXPECT_EQ(listed.body.find(key), std::string::npos);
  ASSERT_EQ(server.del("/api/api-keys/" + id).status, 200u);
  EXPECT_EQ(as_key("/api/hosts"), 401u);
  EXPECT_EQ(server.del("/api/api-keys/" + id).status, 200u) << "revoking twice is harmless";
  EXPECT_EQ(server.del("/api/api-keys/00000000-0000-0000-0000-000000000000").status, 404u);

  // An expired key: its expiry moved into the past in the database.
  auto short_lived = server.post("/api/api-keys", R"({"name":"old","role":"viewer","expires_in":"1m"})").json();
  server.sql("UPDATE api_keys SET expires_at = '2000-01-01T00:00:00Z' WHERE name = 'old';");
  EXPECT_EQ(server.request(http::verb::get, "/api/hosts", {}, {{"Authorization", "Bearer " + std::string(short_lived.at("key").as_string())}}).status,
            401u);
}

TEST(identity, admins_list_users_without_their_password_hashes) {
  test_server server;
  ASSERT_EQ(server.post("/api/users", R"({"username":"watcher","password":"watcher-password","role":"viewer"})").status, 201u);
  auto listed = server.get("/api/users");
  ASSERT_EQ(listed.status, 200u) << listed.body;
  const auto body = listed.json();
  const auto& users = body.as_array();
  ASSERT_EQ(users.size(), 2u) << listed.body;
  EXPECT_EQ(users[0].at("username").as_string(), "admin");
  EXPECT_EQ(users[0].at("role").as_string(), "admin");
  EXPECT_EQ(users[1].at("username").as_string(), "watcher");
  EXPECT_EQ(users[1].at("role").as_string(), "viewer");
  EXPECT_FALSE(users[1].at("id").as_string().empty());
  EXPECT_FALSE(users[1].at("created_at").as_string().empty());
  EXPECT_EQ(listed.body.find("argon2"), std::string::npos) << "no password hash leaves the server";
  EXPECT_EQ(listed.body.find("password"), std::string::npos);

  // Only an admin may see who else is there.
  auto operator_key = server.api_key("operator");
  EXPECT_EQ(server.request(http::verb::get, "/api/users", {}, {{"Authorization", "Bearer " + operator_key}}).status, 403u);
  EXPECT_EQ(http_request(server.port(), http::verb::get, "/api/users", {}).status, 401u);
}

TEST(identity, signing_out_everywhere_ends_every_session) {
  test_server server;
  auto other = http_request(server.port(), http::verb::post, "/api/auth/login",
                            std::string(R"({"username":"admin","password":")") + test_admin_password + R"("})");
  ASSERT_EQ(other.status, 200u);
  const auto second_cookie = other.headers["set-cookie"].substr(0, other.headers["set-cookie"].find(';'));
  EXPECT_EQ(server.request(http::verb::get, "/api/auth/me", {}, {{"Cookie", second_cookie}}).status, 200u);
  auto res = server.post("/api/auth/logout-all");
  ASSERT_EQ(res.status, 200u) << res.body;
  EXPECT_EQ(res.json().at("sessions_ended").as_int64(), 2);
  EXPECT_EQ(server.request(http::verb::get, "/api/auth/me", {}, {{"Cookie", second_cookie}}).status, 401u);
  EXPECT_EQ(server.get("/api/auth/me").status, 401u);
}

TEST(identity, admins_add_users_who_sign_in_with_their_role) {
  test_server server;
  auto made = server.post("/api/users", R"({"username":"watcher","password":"watcher-password","role":"viewer"})");
  ASSERT_EQ(made.status, 201u) << made.body;
  EXPECT_EQ(made.json().at("role"), "viewer");
  EXPECT_EQ(made.body.find("watcher-password"), std::string::npos);
  EXPECT_EQ(server.post("/api/users", R"({"username":"watcher","password":"another-password","role":"admin"})").status, 409u);
  EXPECT_EQ(server.post("/api/users", R"({"username":"x","password":"short","role":"viewer"})").status, 400u);
  EXPECT_EQ(server.post("/api/users", R"({"username":"<b>","password":"long enough","role":"viewer"})").status, 400u);
  EXPECT_EQ(server.post("/api/users", R"({"username":"y","password":"long enough","role":"root"})").status, 400u);
  auto operator_key = server.api_key("operator");
  EXPECT_EQ(server.request(http::verb::post, "/api/users", R"({"username":"z","password":"long enough","role":"viewer"})",
                           {{"Authorization", "Bearer " + operator_key}})
                .status,
            403u);
  auto login = http_request(server.port(), http::verb::post, "/api/auth/login", R"({"username":"watcher","password":"watcher-password"})");
  ASSERT_EQ(login.status, 200u) << login.body;
  EXPECT_EQ(login.json().at("role"), "viewer");
  const auto cookie = login.headers["set-cookie"].substr(0, login.headers["set-cookie"].find(';'));
  EXPECT_EQ(server.request(http::verb::post, "/api/agent/generate-token", {}, {{"Cookie", cookie}}).status, 403u);
}
