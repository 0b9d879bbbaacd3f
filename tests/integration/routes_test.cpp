// The route table, walked: every route `dockmon-server routes` lists refuses a request without
// credentials (401) and one from a role below its own (403), against a real server. A route added to the
// table is tested here without a line of this file changing.
#include "harness.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <memory>

using namespace dockmon;
using namespace dockmon::test;

namespace {

struct listed_route {
  http::verb method;
  std::string pattern;
  std::string role;
};

std::vector<listed_route> server_routes() {
  std::vector<listed_route> out;
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(DOCKMON_SERVER_BIN " routes", "r"), ::pclose);
  if (!pipe) return out;
  char line[4096];
  while (std::fgets(line, sizeof line, pipe.get()) != nullptr) {
    auto row = json::parse(line).as_object();
    out.push_back({http::string_to_verb(row.at("method").as_string()), std::string(row.at("path").as_string()),
                   std::string(row.at("role").as_string())});
  }
  return out;
}

// The pattern with each {...} filled by a well-formed value that names nothing.
std::string target_of(const std::string& pattern) {
  std::string out;
  for (std::size_t i = 0; i < pattern.size();) {
    if (pattern[i] != '{') {
      out += pattern[i++];
      continue;
    }
    const auto end = pattern.find('}', i);
    const auto name = pattern.substr(i + 1, end - i - 1);
    if (name == "container_id") out += "0123456789ab";
    else if (name == "version") out += "9.9.9";
    else if (name == "arch") out += "amd64";
    else out += "00000000-0000-4000-8000-000000000000";
    i = end + 1;
  }
  return out;
}

int rank(const std::string& role) {
  if (role == "viewer") return 0;
  if (role == "operator") return 1;
  if (role == "admin") return 2;
  return -1;
}

}  // namespace

TEST(routes, the_table_lists_every_resource_with_a_role) {
  const auto routes = server_routes();
  ASSERT_GE(routes.size(), 39u);
  std::map<std::string, std::string> role_of;
  for (const auto& r : routes) {
    EXPECT_TRUE(r.role == "open" || rank(r.role) >= 0) << r.pattern << ": " << r.role;
    EXPECT_NE(r.method, http::verb::unknown) << r.pattern;
    role_of[std::string(http::to_string(r.method)) + " " + r.pattern] = r.role;
  }
  EXPECT_EQ(role_of["GET /healthz"], "open");
  EXPECT_EQ(role_of["GET /healthz/ready"], "open");
  EXPECT_EQ(role_of["POST /api/auth/login"], "open");
  EXPECT_EQ(role_of["GET /api/hosts"], "viewer");
  EXPECT_EQ(role_of["POST /api/hosts/{host_id}/containers/{container_id}/restart"], "operator");
  EXPECT_EQ(role_of["POST /api/users"], "admin");
  EXPECT_EQ(role_of["POST /api/agent/generate-token"], "admin");
  std::size_t open = 0;
  for (const auto& [route, role] : role_of) open += role == "open" ? 1 : 0;
  EXPECT_EQ(role_of["GET /api/alerts/{alert_id}/ack-link"], "open");
  EXPECT_EQ(role_of["POST /api/alerts/{alert_id}/ack-link"], "open");
  EXPECT_EQ(open, 5u) << "only the health checks, signing in and the sealed acknowledge links are open";
}

TEST(routes, every_route_refuses_strangers_and_lower_roles) {
  const auto routes = server_routes();
  ASSERT_FALSE(routes.empty());
  test_server server;
  const std::map<std::string, std::string> below[] = {
      {{"Authorization", "Bearer " + server.api_key("viewer")}},
      {{"Authorization", "Bearer " + server.api_key("operator")}},
  };
  std::size_t checked = 0;
  for (const auto& r : routes) {
    if (r.role == "open") continue;
    const auto target = target_of(r.pattern);
    const auto what = std::string(http::to_string(r.method)) + " " + target;
    auto stranger = server.request(r.method, target, "{}", {});
    EXPECT_EQ(stranger.status, 401u) << what << ": " << stranger.body;
    for (int lower = 0; lower < rank(r.role); ++lower) {
      auto refused = server.request(r.method, target, "{}", below[lower]);
      EXPECT_EQ(refused.status, 403u) << what << " as a " << (lower == 0 ? "viewer" : "operator") << ": " << refused.body;
    }
    ++checked;
  }
  EXPECT_GE(checked, 37u);
  // The refusals changed nothing: no user, key or token came of them.
  auto users = server.get("/api/users");
  ASSERT_EQ(users.status, 200u);
  EXPECT_EQ(users.json().as_array().size(), 1u) << users.body;
}

TEST(routes, reading_routes_answer_their_role) {
  test_server server;
  const std::map<std::string, std::string> viewer{{"Authorization", "Bearer " + server.api_key("viewer")}};
  for (const auto& r : server_routes()) {
    if (r.method != http::verb::get || r.role != "viewer") continue;
    auto res = server.request(r.method, target_of(r.pattern), {}, viewer);
    EXPECT_NE(res.status, 401u) << r.pattern;
    EXPECT_NE(res.status, 403u) << r.pattern << ": " << res.body;
    EXPECT_NE(res.status, 405u) << r.pattern;
  }
}

TEST(routes, an_unknown_api_path_asks_for_credentials_first_and_a_wrong_method_is_405) {
  test_server server;
  EXPECT_EQ(server.request(http::verb::get, "/api/no-such-thing", {}, {}).status, 401u);
  EXPECT_EQ(server.get("/api/no-such-thing").status, 404u);
  EXPECT_EQ(server.request(http::verb::put, "/api/hosts", "{}", {{"Cookie", server.cookie()}}).status, 405u);
  EXPECT_EQ(server.request(http::verb::get, "/api/auth/login", {}, {}).status, 405u) << "open paths say so without credentials";
}
