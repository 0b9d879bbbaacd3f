#include "config.hpp"

#include <gtest/gtest.h>

#include <map>

using namespace dockmon;
using namespace dockmon::agent;
using namespace std::chrono_literals;

namespace {
env_lookup env_of(std::map<std::string, std::string> values) {
  return [values = std::move(values)](const char* name) -> std::optional<std::string> {
    auto it = values.find(name);
    if (it == values.end() || it->second.empty()) return std::nullopt;
    return it->second;
  };
}

std::string failing_setting(std::map<std::string, std::string> values) {
  try {
    load_agent_config(env_of(std::move(values)));
  } catch (const config_error& e) {
    return e.setting();
  }
  return "";
}
}  // namespace

TEST(agent_config, defaults_as_dockmon) {
  auto c = load_agent_config(env_of({{"DOCKMON_URL", "http://127.0.0.1:8080"}, {"REGISTRATION_TOKEN", "abc"}}));
  EXPECT_FALSE(c.server.tls);
  EXPECT_EQ(c.server.host, "127.0.0.1");
  EXPECT_EQ(c.server.port, "8080");
  EXPECT_EQ(c.server.target, "/api/agent/ws");
  EXPECT_EQ(c.docker_host, "unix:///var/run/docker.sock");
  EXPECT_EQ(c.token_file(), "/data/permanent_token");
  EXPECT_EQ(c.reconnect_initial, 1s);
  EXPECT_EQ(c.reconnect_max, 60s);
  EXPECT_EQ(c.stats_interval, 2s);
}

TEST(agent_config, url_schemes_ports_and_prefixes) {
  auto s = parse_server_url("https://dockmon.example.com/prefix/");
  EXPECT_TRUE(s.tls);
  EXPECT_EQ(s.port, "443");
  EXPECT_EQ(s.target, "/prefix/api/agent/ws");
  EXPECT_EQ(parse_server_url("ws://h:9/api/agent/ws").target, "/api/agent/ws");
  EXPECT_EQ(parse_server_url("http://[::1]:8080").host, "::1");
  EXPECT_EQ(parse_server_url("http://h").port, "80");
}

TEST(agent_config, malformed_values_name_their_variable) {
  EXPECT_EQ(failing_setting({}), "DOCKMON_URL");
  EXPECT_EQ(failing_setting({{"DOCKMON_URL", "ftp://x"}}), "DOCKMON_URL");
  EXPECT_EQ(failing_setting({{"DOCKMON_URL", "http://"}}), "DOCKMON_URL");
  EXPECT_EQ(failing_setting({{"DOCKMON_URL", "http://h:99999"}}), "DOCKMON_URL");
  EXPECT_EQ(failing_setting({{"DOCKMON_URL", "http://user:pw@h"}}), "DOCKMON_URL");
  EXPECT_EQ(failing_setting({{"DOCKMON_URL", "http://h"}, {"REGISTRATION_TOKEN", "bad token"}}), "REGISTRATION_TOKEN");
  EXPECT_EQ(failing_setting({{"DOCKMON_URL", "http://h"}, {"PERMANENT_TOKEN", "x/y"}}), "PERMANENT_TOKEN");
  EXPECT_EQ(failing_setting({{"DOCKMON_URL", "http://h"}, {"RECONNECT_INITIAL", "soon"}}), "RECONNECT_INITIAL");
  EXPECT_EQ(failing_setting({{"DOCKMON_URL", "http://h"}, {"RECONNECT_INITIAL", "10s"}, {"RECONNECT_MAX", "5s"}}),
            "RECONNECT_MAX");
  EXPECT_EQ(failing_setting({{"DOCKMON_URL", "http://h"}, {"LOG_JSON", "perhaps"}}), "LOG_JSON");
  EXPECT_EQ(failing_setting({{"DOCKMON_URL", "http://h"}, {"INSECURE_SKIP_VERIFY", "2"}}), "INSECURE_SKIP_VERIFY");
  EXPECT_EQ(failing_setting({{"DOCKMON_URL", "http://h"}, {"STATS_INTERVAL", "10ms"}}), "STATS_INTERVAL");
}

TEST(agent_config, tls_trust_settings_are_checked_at_start) {
  const std::string pin = "sha256//" + std::string(43, 'A') + "=";
  const std::string readable = "/etc/hostname";
  auto cfg = load_agent_config(env_of({{"DOCKMON_URL", "https://h"}, {"DOCKMON_PINNED_PUBKEY", pin + ";" + pin},
                                       {"DOCKMON_CA_FILE", readable}, {"DOCKMON_CLIENT_CERT", readable},
                                       {"DOCKMON_CLIENT_KEY", readable}}));
  EXPECT_EQ(cfg.pinned_pubkeys.size(), 2U);
  EXPECT_EQ(cfg.ca_file, readable);
  EXPECT_EQ(cfg.client_cert, readable);
  EXPECT_EQ(failing_setting({{"DOCKMON_URL", "https://h"}, {"DOCKMON_PINNED_PUBKEY", "sha256//short"}}), "DOCKMON_PINNED_PUBKEY");
  EXPECT_EQ(failing_setting({{"DOCKMON_URL", "https://h"}, {"DOCKMON_CA_FILE", "/no/such/ca.pem"}}), "DOCKMON_CA_FILE");
  EXPECT_EQ(failing_setting({{"DOCKMON_URL", "https://h"}, {"DOCKMON_CLIENT_CERT", readable}}), "DOCKMON_CLIENT_KEY");
  EXPECT_EQ(failing_setting({{"DOCKMON_URL", "https://h"}, {"DOCKMON_CLIENT_KEY", readable}}), "DOCKMON_CLIENT_CERT");
  // Trust settings on a plain URL would silently do nothing: refused.
  EXPECT_EQ(failing_setting({{"DOCKMON_URL", "http://h"}, {"DOCKMON_PINNED_PUBKEY", pin}}), "DOCKMON_URL");
}
