// Containing a compromised account, against a real server: users disabled, demoted and deleted, passwords
// changed, sessions and keys ended, keys that cannot outlive or outrank what made them, and live feeds
// that close with their session.
#include "harness.hpp"

#include "dockmon/common/time.hpp"

#include <gtest/gtest.h>

using namespace dockmon;
using namespace dockmon::test;

namespace {

// Signs in and returns "dockmon_session=..." (empty on failure); status gets the answer's status.
std::string sign_in(test_server& server, const std::string& user, const std::string& password, unsigned* status = nullptr) {
  json::object body{{"username", user}, {"password", password}};
  auto res = http_request(server.port(), http::verb::post, "/api/auth/login", json::serialize(body));
  if (status != nullptr) *status = res.status;
  if (res.status != 200) return {};
  auto cookie = res.headers["set-cookie"];
  return cookie.substr(0, cookie.find(';'));
}

unsigned status_with_cookie(test_server& server, http::verb method, const std::string& target, const std::string& cookie,
                            const std::string& body = {}) {
  return server.request(method, target, body, {{"Cookie", cookie}}).status;
}

unsigned status_with_key(test_server& server, http::verb method, const std::string& target, const std::string& key,
                         const std::string& body = {}) {
  return server.request(method, target, body, {{"Authorization", "Bearer " + key}}).status;
}

// A user made by the admin; returns its id.
std::string add_user(test_server& server, const std::string& name, const std::string& role) {
  json::object body{{"username", name}, {"password", name + "-password"}, {"role", role}};
  auto res = server.post("/api/users", json::serialize(body));
  EXPECT_EQ(res.status, 201u) << res.body;
  return res.status == 201 ? std::string(res.json().at("id").as_string()) : std::string();
}

// A key made with the given credentials (cookie or Bearer), returned with its answer.
http_response make_key(test_server& server, const std::map<std::string, std::string>& credentials, const std::string& role,
                       const std::string& expires_in = {}) {
  json::object body{{"name", "k-" + role}, {"role", role}};
  if (!expires_in.empty()) body["expires_in"] = expires_in;
  return server.request(http::verb::post, "/api/api-keys", json::serialize(body), credentials);
}

http_response patch_user(test_server& server, const std::string& id, const std::string& body) {
  return server.request(http::verb::patch, "/api/users/" + id, body, {{"Cookie", server.cookie()}});
}

}  // namespace

TEST(accounts, a_disabled_user_is_signed_out_everywhere_and_its_keys_stop_until_enabled) {
  test_server server;
  const auto bob = add_user(server, "bob", "operator");
  const auto cookie = sign_in(server, "bob", "bob-password");
  ASSERT_FALSE(cookie.empty());
  auto key_res = make_key(server, {{"Cookie", cookie}}, "operator");
  ASSERT_EQ(key_res.status, 201u) << key_res.body;
  const std::string key(key_res.json().at("key").as_string());

  auto disabled = patch_user(server, bob, R"({"disabled":true})");
  ASSERT_EQ(disabled.status, 200u) << disabled.body;
  EXPECT_TRUE(disabled.json().at("disabled").as_bool());
  EXPECT_EQ(status_with_cookie(server, http::verb::get, "/api/auth/me", cookie), 401u);
  EXPECT_EQ(status_with_key(server, http::verb::get, "/api/hosts", key), 401u);
  unsigned status = 0;
  EXPECT_TRUE(sign_in(server, "bob", "bob-password", &status).empty());
  EXPECT_EQ(status, 403u) << "the right password of a disabled account says so";
  auto listed = server.get("/api/users");
  EXPECT_NE(listed.body.find(R"("disabled":true)"), std::string::npos) << listed.body;

  ASSERT_EQ(patch_user(server, bob, R"({"disabled":false})").status, 200u);
  EXPECT_EQ(status_with_cookie(server, http::verb::get, "/api/auth/me", cookie), 401u) << "ended sessions stay ended";
  EXPECT_EQ(status_with_key(server, http::verb::get, "/api/hosts", key), 200u);
  EXPECT_FALSE(sign_in(server, "bob", "bob-password").empty());
  auto audit = server.get("/api/audit?limit=10");
  EXPECT_NE(audit.body.find("update_user"), std::string::npos) << audit.body;
}

TEST(accounts, a_demoted_user_takes_its_keys_down_with_it) {
  test_server server;
  const auto carol = add_user(server, "carol", "admin");
  const auto cookie = sign_in(server, "carol", "carol-password");
  auto key_res = make_key(server, {{"Cookie", cookie}}, "admin");
  ASSERT_EQ(key_res.status, 201u);
  const std::string key(key_res.json().at("key").as_string());
  EXPECT_EQ(status_with_key(server, http::verb::post, "/api/agent/generate-token", key), 201u);

  ASSERT_EQ(patch_user(server, carol, R"({"role":"viewer"})").status, 200u);
  EXPECT_EQ(status_with_key(server, http::verb::post, "/api/agent/generate-token", key), 403u) << "an admin key of a viewer";
  EXPECT_EQ(status_with_cookie(server, http::verb::post, "/api/agent/generate-token", cookie), 403u);
  EXPECT_EQ(status_with_key(server, http::verb::get, "/api/hosts", key), 200u);
  EXPECT_EQ(patch_user(server, carol, R"({"role":"root"})").status, 400u);
  EXPECT_EQ(patch_user(server, carol, R"({"is_admin":true})").status, 400u);
  EXPECT_EQ(patch_user(server, "00000000-0000-0000-0000-000000000000", R"({"role":"viewer"})").status, 404u);
  EXPECT_EQ(status_with_key(server, http::verb::patch, "/api/users/" + carol, key, R"({"role":"admin"})"), 403u)
      << "a viewer cannot promote itself";
}

TEST(accounts, the_last_enabled_admin_cannot_be_demoted_disabled_or_deleted) {
  test_server server;
  auto users = server.get("/api/users").json().as_array();
  ASSERT_EQ(users.size(), 1u);
  const std::string admin(users[0].at("id").as_string());
  auto demote = patch_user(server, admin, R"({"role":"operator"})");
  EXPECT_EQ(demote.status, 409u) << demote.body;
  EXPECT_NE(demote.body.find("no enabled admin"), std::string::npos);
  EXPECT_EQ(patch_user(server, admin, R"({"disabled":true})").status, 409u);
  EXPECT_EQ(server.del("/api/users/" + admin).status, 409u) << "nor delete oneself";
  EXPECT_EQ(server.get("/api/auth/me").json().at("role").as_string(), "admin");
  // With a second admin the first may step down, and delete the one it made.
  const auto second = add_user(server, "second", "admin");
  ASSERT_EQ(patch_user(server, admin, R"({"role":"operator"})").status, 200u);
  EXPECT_EQ(server.get("/api/auth/me").json().at("role").as_string(), "operator") << "the session follows the role now";
  EXPECT_EQ(server.del("/api/users/" + second).status, 403u);
}

TEST(accounts, a_deleted_user_loses_its_sessions_and_keys) {
  test_server server;
  const auto dave = add_user(server, "dave", "operator");
  const auto cookie = sign_in(server, "dave", "dave-password");
  auto key_res = make_key(server, {{"Cookie", cookie}}, "viewer");
  ASSERT_EQ(key_res.status, 201u);
  const std::string key(key_res.json().at("key").as_string());
  auto removed = server.del("/api/users/" + dave);
  ASSERT_EQ(removed.status, 200u) << removed.body;
  EXPECT_EQ(status_with_cookie(server, http::verb::get, "/api/auth/me", cookie), 401u);
  EXPECT_EQ(status_with_key(server, http::verb::get, "/api/hosts", key), 401u);
  EXPECT_TRUE(sign_in(server, "dave", "dave-password").empty());
  EXPECT_EQ(server.sql("SELECT COUNT(*) FROM api_keys;"), "0\n");
  EXPECT_EQ(server.del("/api/users/" + dave).status, 404u);
}

TEST(accounts, a_new_password_ends_the_other_sessions_and_the_old_password) {
  test_server server;
  add_user(server, "erin", "viewer");
  const auto here = sign_in(server, "erin", "erin-password");
  const auto elsewhere = sign_in(server, "erin", "erin-password");
  ASSERT_FALSE(here.empty());
  ASSERT_FALSE(elsewhere.empty());
  EXPECT_EQ(status_with_cookie(server, http::verb::post, "/api/auth/password", here, R"({"current":"wrong-one","new":"erin-new-password"})"),
            403u);
  EXPECT_EQ(status_with_cookie(server, http::verb::post, "/api/auth/password", here, R"({"current":"erin-password","new":"short"})"),
            400u);
  EXPECT_EQ(status_with_cookie(server, http::verb::get, "/api/auth/me", elsewhere), 200u) << "refusals change nothing";
  auto changed = server.request(http::verb::post, "/api/auth/password", R"({"current":"erin-password","new":"erin-new-password"})",
                                {{"Cookie", here}});
  ASSERT_EQ(changed.status, 200u) << changed.body;
  EXPECT_EQ(changed.json().at("sessions_ended").as_int64(), 1);
  EXPECT_EQ(status_with_cookie(server, http::verb::get, "/api/auth/me", here), 200u) << "the session that asked stays";
  EXPECT_EQ(status_with_cookie(server, http::verb::get, "/api/auth/me", elsewhere), 401u);
  EXPECT_TRUE(sign_in(server, "erin", "erin-password").empty());
  EXPECT_FALSE(sign_in(server, "erin", "erin-new-password").empty());
}

TEST(accounts, an_admin_ends_another_users_sessions_and_with_keys_true_its_keys) {
  test_server server;
  const auto frank = add_user(server, "frank", "operator");
  const auto cookie = sign_in(server, "frank", "frank-password");
  auto key_res = make_key(server, {{"Cookie", cookie}}, "operator");
  ASSERT_EQ(key_res.status, 201u);
  const std::string key(key_res.json().at("key").as_string());
  auto viewer_key = server.api_key("viewer");
  EXPECT_EQ(status_with_key(server, http::verb::delete_, "/api/users/" + frank + "/sessions", viewer_key), 403u);
  EXPECT_EQ(status_with_cookie(server, http::verb::get, "/api/auth/me", cookie), 200u);

  auto ended = server.del("/api/users/" + frank + "/sessions");
  ASSERT_EQ(ended.status, 200u) << ended.body;
  EXPECT_EQ(ended.json().at("sessions_ended").as_int64(), 1);
  EXPECT_EQ(ended.json().at("keys_revoked").as_int64(), 0);
  EXPECT_EQ(status_with_cookie(server, http::verb::get, "/api/auth/me", cookie), 401u);
  EXPECT_EQ(status_with_key(server, http::verb::get, "/api/hosts", key), 200u) << "keys live on without keys=true";

  auto with_keys = server.del("/api/users/" + frank + "/sessions?keys=true");
  ASSERT_EQ(with_keys.status, 200u);
  EXPECT_EQ(with_keys.json().at("keys_revoked").as_int64(), 1);
  EXPECT_EQ(status_with_key(server, http::verb::get, "/api/hosts", key), 401u);
}

TEST(accounts, a_key_cannot_outlive_or_outrank_the_key_that_made_it) {
  test_server server;
  auto parent_res = make_key(server, {{"Cookie", server.cookie()}}, "operator", "1h");
  ASSERT_EQ(parent_res.status, 201u) << parent_res.body;
  const std::string parent(parent_res.json().at("key").as_string());
  const std::string parent_id(parent_res.json().at("id").as_string());
  const auto parent_expiry = parse_iso8601(parent_res.json().at("expires_at").as_string());
  ASSERT_TRUE(parent_expiry);

  EXPECT_EQ(make_key(server, {{"Authorization", "Bearer " + parent}}, "admin").status, 403u) << "no more rights than its maker";
  auto child_res = make_key(server, {{"Authorization", "Bearer " + parent}}, "viewer", "30d");
  ASSERT_EQ(child_res.status, 201u) << child_res.body;
  const std::string child(child_res.json().at("key").as_string());
  const auto child_expiry = parse_iso8601(child_res.json().at("expires_at").as_string());
  ASSERT_TRUE(child_expiry);
  EXPECT_LE(*child_expiry, *parent_expiry) << "asked for 30 days, capped at its maker's hour";
  auto forever_res = make_key(server, {{"Authorization", "Bearer " + parent}}, "viewer");
  ASSERT_EQ(forever_res.status, 201u);
  EXPECT_TRUE(forever_res.json().at("expires_at").is_string()) << "no expiry asked: it gets its maker's";

  EXPECT_EQ(status_with_key(server, http::verb::get, "/api/hosts", child), 200u);
  ASSERT_EQ(server.del("/api/api-keys/" + parent_id).status, 200u);
  EXPECT_EQ(status_with_key(server, http::verb::get, "/api/hosts", child), 401u) << "revoked with the key that made it";
  EXPECT_EQ(status_with_key(server, http::verb::get, "/api/hosts", std::string(forever_res.json().at("key").as_string())), 401u);
}

TEST(accounts, the_live_feed_sends_heartbeats_and_closes_when_its_session_ends) {
  test_server server;
  const auto gina = add_user(server, "gina", "viewer");
  const auto first = sign_in(server, "gina", "gina-password");
  const auto second = sign_in(server, "gina", "gina-password");
  ws_client feed(server.port(), "/ws", {{"Cookie", first}});
  feed.send(json::object{{"type", "subscribe"}});
  bool heartbeat = false;
  for (int i = 0; i < 4 && !heartbeat; ++i) {
    auto frame = feed.read_json(15s);
    ASSERT_TRUE(frame) << "the feed closed or stayed silent for 15 s";
    heartbeat = frame->at("type").as_string() == "heartbeat";
  }
  EXPECT_TRUE(heartbeat);

  // Signing out the session the feed was opened with closes the feed at once, not at the next check.
  ws_client other(server.port(), "/ws", {{"Cookie", second}});
  other.send(json::object{{"type", "subscribe"}});
  ASSERT_EQ(status_with_cookie(server, http::verb::post, "/api/auth/logout", first), 200u);
  const auto start = std::chrono::steady_clock::now();
  while (feed.read(8s)) {
  }
  EXPECT_EQ(feed.close_code(), 1008) << "closed by the server for its ended session, not by the read's deadline";
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  // The other session's feed stays: only ended sessions close.
  auto alive = other.read_json(15s);
  ASSERT_TRUE(alive) << "the other session's feed was closed too";

  // A session that ends without the server being told (deleted from the database) is caught by the
  // periodic check, within three heartbeats.
  server.sql("DELETE FROM sessions;");
  while (other.read(40s)) {
  }
  EXPECT_EQ(other.close_code(), 1008);
  (void)gina;
}
