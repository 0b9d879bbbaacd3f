// dockmon-server's settings as an operator gives them: a bad flag or environment value stops the start
// with exit code 2 and a message naming the setting; the first start prints a random admin password once.
#include "harness.hpp"

#include <gtest/gtest.h>

#include <sys/wait.h>

#include <filesystem>
#include <regex>

using namespace dockmon;
using namespace dockmon::test;

namespace {

struct start_result {
  int exit_code = -1;
  std::string output;
};

// Starts the server with these flags and environment, expecting it to stop by itself within 10 s.
start_result start_and_wait(std::vector<std::string> args, std::map<std::string, std::string> env) {
  const auto dir = make_temp_dir("dockmon-it-config");
  args.insert(args.end(), {"--data-dir", dir + "/data"});
  env.try_emplace("DOCKMON_LISTEN", "127.0.0.1:0");
  process p(DOCKMON_SERVER_BIN, args, env, dir + "/server.log");
  start_result r;
  if (!wait_until([&] { return !p.running(); }, 10s)) {
    r.output = "still running: " + p.log();
    return r;
  }
  const int status = p.stop();
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.output = p.log();
  std::filesystem::remove_all(dir);
  return r;
}

}  // namespace

TEST(server_config, a_bad_value_stops_the_start_with_exit_2_naming_the_setting) {
  struct bad_setting {
    std::vector<std::string> args;
    std::map<std::string, std::string> env;
    std::string named;
  };
  const std::vector<bad_setting> cases{
      {{"--listen", "nowhere"}, {}, "--listen/DOCKMON_LISTEN"},
      {{}, {{"DOCKMON_LISTEN", "127.0.0.1:99999"}}, "--listen/DOCKMON_LISTEN"},
      {{"--command-timeout", "soon"}, {}, "--command-timeout/DOCKMON_COMMAND_TIMEOUT"},
      {{}, {{"DOCKMON_COMMAND_TIMEOUT", "10ms"}}, "--command-timeout/DOCKMON_COMMAND_TIMEOUT"},
      {{"--tls", "maybe"}, {}, "--tls/DOCKMON_TLS"},
      {{"--tls-cert", "/nonexistent.pem"}, {}, "--tls-cert/--tls-key"},
      {{}, {{"DOCKMON_ADMIN_PASSWORD", "short"}}, "DOCKMON_ADMIN_PASSWORD"},
      {{}, {{"LOG_LEVEL", "chatty"}}, "LOG_LEVEL"},
      {{}, {{"LOG_JSON", "perhaps"}}, "LOG_JSON"},
      {{"--agent-retention", "forever"}, {}, "--agent-retention/DOCKMON_AGENT_RETENTION"},
      {{}, {{"DOCKMON_TRUSTED_PROXIES", "10.0.0.0/33"}}, "--trusted-proxy/DOCKMON_TRUSTED_PROXIES"},
      {{"--max-connections", "0"}, {}, "--max-connections/DOCKMON_MAX_CONNECTIONS"},
      {{"--metrics-containers", "everything"}, {}, "--metrics-containers/DOCKMON_METRICS_CONTAINERS"},
      {{}, {{"DOCKMON_METRICS_CONTAINERS", "host:,tag:"}}, "--metrics-containers/DOCKMON_METRICS_CONTAINERS"},
      {{"--database-pool-size", "0"}, {}, "--database-pool-size/DOCKMON_DATABASE_POOL_SIZE"},
      {{"--database-url", "postgresql://dockmon@127.0.0.1:1/none?connect_timeout=2"}, {}, "cannot reach PostgreSQL"},
      {{}, {{"DOCKMON_PUBLIC_URL", "dockmon.example.com"}}, "--public-url/DOCKMON_PUBLIC_URL"},
      {{}, {{"DOCKMON_DATABASE_URL", "mysql://x"}}, "database URL"},
      {{"--replica-address", "http://10.0.0.5:8080"}, {}, "--replica-address/DOCKMON_REPLICA_ADDRESS"},  // on SQLite
      {{"--replica-address", "https://10.0.0.5:8080", "--database-url", "postgresql://db/dockmon"}, {},
       "--replica-address/DOCKMON_REPLICA_ADDRESS"},
      {{}, {{"DOCKMON_REPLICA_ADDRESS", "http://10.0.0.5"}, {"DOCKMON_DATABASE_URL", "postgresql://db/dockmon"}},
       "--replica-address/DOCKMON_REPLICA_ADDRESS"},
  };
  for (const auto& c : cases) {
    auto r = start_and_wait(c.args, c.env);
    const std::string what = json::serialize(json::value_from(c.env)) + " " + (c.args.empty() ? "" : c.args[0]);
    if (c.named == "database URL" || c.named == "cannot reach PostgreSQL") {
      EXPECT_NE(r.exit_code, 0) << what << ": " << r.output;
    } else {
      EXPECT_EQ(r.exit_code, 2) << what << ": " << r.output;
    }
    EXPECT_NE(r.output.find(c.named), std::string::npos) << what << ": " << r.output;
    EXPECT_EQ(r.output.find("listening on"), std::string::npos) << what << ": it must not serve";
  }
  // An unknown flag is CLI11's to refuse, also with a non-zero exit.
  auto unknown = start_and_wait({"--no-such-flag"}, {});
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_NE(unknown.output.find("--no-such-flag"), std::string::npos) << unknown.output;
}

TEST(server_config, the_first_start_prints_a_random_admin_password_once) {
  const auto dir = make_temp_dir("dockmon-it-first-start");
  const std::vector<std::string> args{"--listen", "127.0.0.1:0", "--data-dir", dir + "/data"};
  std::string password;
  unsigned short port = 0;
  {
    process first(DOCKMON_SERVER_BIN, args, {}, dir + "/first.log");
    static const std::regex shown(R"(admin password \(shown once\): (\S+))");
    static const std::regex listening(R"(listening on http://127\.0\.0\.1:(\d+))");
    std::smatch m;
    ASSERT_TRUE(wait_until([&] {
      const auto log = first.log();
      return std::regex_search(log, m, listening);
    }, 20s)) << first.log();
    port = static_cast<unsigned short>(std::stoi(m[1].str()));
    const auto log = first.log();
    ASSERT_TRUE(std::regex_search(log, m, shown)) << log;
    password = m[1].str();
    EXPECT_GE(password.size(), 20u) << "random and long";
    json::object creds{{"username", "admin"}, {"password", password}};
    EXPECT_EQ(http_request(port, http::verb::post, "/api/auth/login", json::serialize(creds)).status, 200u);
  }
  process second(DOCKMON_SERVER_BIN, args, {}, dir + "/second.log");
  ASSERT_TRUE(wait_until([&] { return second.log().find("listening on") != std::string::npos; }, 20s)) << second.log();
  EXPECT_EQ(second.log().find("admin password"), std::string::npos) << "shown once, never again";
  EXPECT_EQ(second.log().find(password), std::string::npos);
  std::filesystem::remove_all(dir);
}
