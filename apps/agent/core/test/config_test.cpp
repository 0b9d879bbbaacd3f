#include "core/config.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
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

// What loading these values throws, if anything.
std::optional<config_error> failure(std::map<std::string, std::string> values) {
  try {
    load_agent_config(env_of(std::move(values)));
  } catch (const config_error& e) {
    return e;
  }
  return std::nullopt;
}

std::string failing_setting(std::map<std::string, std::string> values) {
  auto e = failure(std::move(values));
  return e ? e->setting() : "";
}

std::string failure_message(std::map<std::string, std::string> values) {
  auto e = failure(std::move(values));
  return e ? e->what() : "";
}

// A DOCKER_CERT_PATH with the named files in it (empty: the config checks only that they are there).
class cert_folder {
 public:
  explicit cert_folder(std::initializer_list<const char*> files = {}) {
    char tmpl[] = "/tmp/dockmon-certs-XXXXXX";
    path_ = ::mkdtemp(tmpl);
    for (const char* f : files) std::ofstream(path_ + "/" + f) << "";
  }
  ~cert_folder() { std::filesystem::remove_all(path_); }
  cert_folder(const cert_folder&) = delete;
  cert_folder& operator=(const cert_folder&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::map<std::string, std::string> tcp_engine(std::map<std::string, std::string> more) {
  more.emplace("DOCKMON_URL", "http://127.0.0.1:8080");
  more.emplace("DOCKER_HOST", "tcp://docker.example.com:2376");
  return more;
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

TEST(agent_config, several_servers_are_listed_in_turn_and_must_agree_on_tls) {
  auto c = load_agent_config(env_of({{"DOCKMON_URL", "wss://a.example:8443, wss://b.example:8443/prefix ,"}}));
  ASSERT_EQ(c.servers.size(), 2u);
  EXPECT_EQ(c.servers[0].host, "a.example");
  EXPECT_EQ(c.servers[1].host, "b.example");
  EXPECT_EQ(c.servers[1].target, "/prefix/api/agent/ws");
  EXPECT_EQ(c.server.host, "a.example") << "the first is dialed first";
  EXPECT_EQ(load_agent_config(env_of({{"DOCKMON_URL", "http://h"}})).servers.size(), 1u);
  EXPECT_EQ(failing_setting({{"DOCKMON_URL", "wss://a,ws://b"}}), "DOCKMON_URL");
  EXPECT_EQ(failing_setting({{"DOCKMON_URL", " , "}}), "DOCKMON_URL");
  EXPECT_EQ(failing_setting({{"DOCKMON_URL", "http://a,ftp://b"}}), "DOCKMON_URL");
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
  EXPECT_EQ(failing_setting({{"DOCKMON_URL", "http://h"}, {"FORCE_UNIQUE_REGISTRATION", "true"}}), "FORCE_UNIQUE_REGISTRATION")
      << "a clone needs AGENT_NAME";
  EXPECT_EQ(failing_setting({{"DOCKMON_URL", "http://h"}, {"FORCE_UNIQUE_REGISTRATION", "true"}, {"AGENT_NAME", "clone-2"}}), "");
  // Anything that would become a header must not be able to end one.
  EXPECT_EQ(failing_setting({{"DOCKMON_URL", "http://h\r\nX-Injected: 1"}}), "DOCKMON_URL");
  EXPECT_EQ(failing_setting({{"DOCKMON_URL", "http://h/api\n"}}), "DOCKMON_URL");
  EXPECT_EQ(failing_setting({{"DOCKMON_URL", "http://h x"}}), "DOCKMON_URL");
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

TEST(agent_config, docker_tls_is_read_as_the_docker_cli_reads_it) {
  cert_folder all{"ca.pem", "cert.pem", "key.pem"};
  auto verified = load_agent_config(env_of(tcp_engine({{"DOCKER_TLS_VERIFY", "1"}, {"DOCKER_CERT_PATH", all.path()}})));
  ASSERT_TRUE(verified.docker_tls.has_value());
  EXPECT_TRUE(verified.docker_tls->verify);
  EXPECT_EQ(verified.docker_tls->ca_file, all.path() + "/ca.pem");
  EXPECT_EQ(verified.docker_tls->cert_file, all.path() + "/cert.pem");
  EXPECT_EQ(verified.docker_tls->key_file, all.path() + "/key.pem");

  // DOCKER_TLS alone: encrypted, the engine not checked, so its CA is not used.
  auto loose = load_agent_config(env_of(tcp_engine({{"DOCKER_TLS", "1"}, {"DOCKER_CERT_PATH", all.path()}})));
  ASSERT_TRUE(loose.docker_tls.has_value());
  EXPECT_FALSE(loose.docker_tls->verify);
  EXPECT_TRUE(loose.docker_tls->ca_file.empty());
  EXPECT_EQ(loose.docker_tls->cert_file, all.path() + "/cert.pem");
  cert_folder none;
  auto anonymous = load_agent_config(env_of(tcp_engine({{"DOCKER_TLS", "1"}, {"DOCKER_CERT_PATH", none.path()}})));
  ASSERT_TRUE(anonymous.docker_tls.has_value());
  EXPECT_TRUE(anonymous.docker_tls->cert_file.empty());
  EXPECT_TRUE(anonymous.docker_tls->key_file.empty());

  // DOCKER_CERT_PATH defaults to ~/.docker.
  cert_folder home;
  std::filesystem::create_directory(home.path() + "/.docker");
  for (const char* f : {"ca.pem", "cert.pem", "key.pem"}) std::ofstream(home.path() + "/.docker/" + f) << "";
  auto from_home = load_agent_config(env_of(tcp_engine({{"DOCKER_TLS_VERIFY", "true"}, {"HOME", home.path()}})));
  ASSERT_TRUE(from_home.docker_tls.has_value());
  EXPECT_EQ(from_home.docker_tls->ca_file, home.path() + "/.docker/ca.pem");

  // Off, plain TCP, or a unix socket (TLS does not apply; no files needed).
  EXPECT_FALSE(load_agent_config(env_of(tcp_engine({{"DOCKER_TLS_VERIFY", "0"}, {"DOCKER_CERT_PATH", none.path()}})))
                   .docker_tls.has_value());
  EXPECT_FALSE(load_agent_config(env_of(tcp_engine({}))).docker_tls.has_value());
  EXPECT_FALSE(load_agent_config(env_of({{"DOCKMON_URL", "http://h"}, {"DOCKER_TLS_VERIFY", "1"},
                                         {"DOCKER_CERT_PATH", none.path()}}))
                   .docker_tls.has_value());
}

TEST(agent_config, docker_tls_bad_values_and_missing_files_are_named) {
  EXPECT_EQ(failing_setting(tcp_engine({{"DOCKER_TLS_VERIFY", "maybe"}})), "DOCKER_TLS_VERIFY");
  EXPECT_EQ(failing_setting(tcp_engine({{"DOCKER_TLS", "sure"}})), "DOCKER_TLS");
  EXPECT_EQ(failing_setting({{"DOCKMON_URL", "http://h"}, {"DOCKER_HOST", "tcp://"}, {"DOCKER_TLS_VERIFY", "1"}}),
            "DOCKER_HOST");

  cert_folder no_key{"ca.pem", "cert.pem"};
  const auto why = failure_message(tcp_engine({{"DOCKER_TLS_VERIFY", "1"}, {"DOCKER_CERT_PATH", no_key.path()}}));
  EXPECT_EQ(why.rfind("DOCKER_CERT_PATH: " + no_key.path() + "/key.pem does not exist", 0), 0u) << why;
  cert_folder no_ca{"cert.pem", "key.pem"};
  EXPECT_NE(failure_message(tcp_engine({{"DOCKER_TLS_VERIFY", "1"}, {"DOCKER_CERT_PATH", no_ca.path()}}))
                .find(no_ca.path() + "/ca.pem"),
            std::string::npos);
  // A certificate without its key is a mistake even where the CLI would go on without a client certificate.
  EXPECT_NE(failure_message(tcp_engine({{"DOCKER_TLS", "1"}, {"DOCKER_CERT_PATH", no_key.path()}})).find("/key.pem"),
            std::string::npos);
  EXPECT_EQ(failing_setting(tcp_engine({{"DOCKER_TLS_VERIFY", "1"}})), "DOCKER_CERT_PATH");  // no HOME either
}

TEST(agent_config, self_update_settings_default_to_refusing_updates) {
  auto c = load_agent_config(env_of({{"DOCKMON_URL", "http://h"}}));
  EXPECT_FALSE(c.update_key.has_value());
  EXPECT_EQ(c.update_deadline, 60s);
  EXPECT_EQ(c.mode, agent_config::run_mode::automatic);
  EXPECT_EQ(data_path_setting(env_of({})), "/data");
  EXPECT_EQ(data_path_setting(env_of({{"DATA_PATH", "/var/lib/dockmon"}})), "/var/lib/dockmon");
}

TEST(agent_config, self_update_settings_are_read_and_bad_ones_named) {
  const auto key = signing::secret_key::generate().public_part().base64();
  auto c = load_agent_config(env_of({{"DOCKMON_URL", "http://h"},
                                     {"DOCKMON_UPDATE_PUBKEY", key},
                                     {"DOCKMON_UPDATE_DEADLINE", "5s"},
                                     {"AGENT_MODE", "native"}}));
  ASSERT_TRUE(c.update_key.has_value());
  EXPECT_EQ(c.update_key->base64(), key);
  EXPECT_EQ(c.update_deadline, 5s);
  EXPECT_EQ(c.mode, agent_config::run_mode::native);
  EXPECT_EQ(failing_setting({{"DOCKMON_URL", "http://h"}, {"DOCKMON_UPDATE_PUBKEY", "c2hvcnQ="}}), "DOCKMON_UPDATE_PUBKEY");
  EXPECT_EQ(failing_setting({{"DOCKMON_URL", "http://h"}, {"DOCKMON_UPDATE_DEADLINE", "500ms"}}), "DOCKMON_UPDATE_DEADLINE");
  EXPECT_EQ(failing_setting({{"DOCKMON_URL", "http://h"}, {"AGENT_MODE", "systemd"}}), "AGENT_MODE");
}
