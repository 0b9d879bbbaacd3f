// dockmon-agent's settings, from the environment as DockMon's agent reads them (DESIGN.md section 7).
#pragma once

#include "core/allow_list.hpp"
#include "dockmon/common/env.hpp"
#include "dockmon/common/signing.hpp"
#include "dockmon/docker/client.hpp"

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace dockmon::agent {

// DOCKMON_URL split for dialing: http->ws, https->wss, the agent path appended.
struct server_url {
  bool tls = false;
  std::string host;
  std::string port;
  std::string target;  // e.g. /api/agent/ws, after any path prefix of the URL
  std::string describe() const;
};
// Throws config_error("DOCKMON_URL", ...) on anything but http(s)://host[:port][/prefix] or ws(s)://.
server_url parse_server_url(std::string_view url);

struct agent_config {
  server_url server;  // the one dialed now: servers[0] at start
  // DOCKMON_URL=wss://a,wss://b: every server, tried in turn after a failed or lost connection (several
  // replicas without a load balancer). All TLS or all plain, as one TLS setup serves them all.
  std::vector<server_url> servers;
  std::string registration_token;
  std::string permanent_token;
  std::string docker_host = "unix:///var/run/docker.sock";
  // DOCKER_TLS_VERIFY or DOCKER_TLS with DOCKER_CERT_PATH, for a tcp:// DOCKER_HOST (as the Docker CLI).
  std::optional<docker::tls_options> docker_tls;
  std::string data_path = "/data";
  std::string log_level = "info";
  bool log_json = false;
  std::chrono::milliseconds reconnect_initial{std::chrono::seconds(1)};
  std::chrono::milliseconds reconnect_max{std::chrono::seconds(60)};
  std::string agent_name;
  // DockMon 1.1: a cloned machine that shares another's Docker engine id registers as a host of its own.
  bool force_unique_registration = false;
  bool insecure_skip_verify = false;
  std::string ca_file;                      // DOCKMON_CA_FILE: trusted instead of the system CAs
  std::vector<std::string> pinned_pubkeys;  // DOCKMON_PINNED_PUBKEY: the server's key must be one of these
  std::string client_cert, client_key;      // DOCKMON_CLIENT_CERT/KEY: for servers run with --client-ca
  std::chrono::milliseconds stats_interval{std::chrono::seconds(2)};
  allow_list allowed;  // AGENT_ALLOW; everything by default
  // Self-update: the operator's public key (DOCKMON_UPDATE_PUBKEY); without it every update is refused.
  std::optional<signing::public_key> update_key;
  // How long a new build has to register before it puts the previous one back (DOCKMON_UPDATE_DEADLINE).
  std::chrono::milliseconds update_deadline{std::chrono::seconds(60)};
  // AGENT_MODE: native (a binary, e.g. under systemd: it may replace itself) or container (its image is
  // updated instead); auto: container when /.dockerenv or /run/.containerenv exists.
  enum class run_mode { automatic, native, container } mode = run_mode::automatic;

  std::string token_file() const { return data_path + "/permanent_token"; }
};

using env_lookup = std::function<std::optional<std::string>(const char*)>;

// DATA_PATH, default /data: read on its own at start, before the other settings, because a pending
// self-update is judged before anything a broken build could trip over.
std::string data_path_setting(const env_lookup& env);

// DOCKER_TLS_VERIFY (TLS, the engine checked against ca.pem, cert.pem and key.pem presented) or DOCKER_TLS
// (TLS, the engine not checked; cert.pem and key.pem presented when both exist), the files in
// DOCKER_CERT_PATH (default ~/.docker). nullopt for plain TCP and for a unix socket, which TLS does not
// apply to. Throws config_error naming the variable, or DOCKER_CERT_PATH with the missing file.
std::optional<docker::tls_options> docker_tls_settings(const env_lookup& env, const docker::endpoint& engine);

// Reads every setting through `env` (the process environment in production, a map in tests).
// Throws config_error naming the variable on a missing or malformed value.
agent_config load_agent_config(const env_lookup& env);

}  // namespace dockmon::agent
