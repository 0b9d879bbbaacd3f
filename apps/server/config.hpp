// dockmon-server's settings: flags, each with an environment variable of the same meaning (DESIGN.md section 6).
#pragma once

#include "dockmon/common/env.hpp"

#include <chrono>
#include <optional>
#include <string>

namespace dockmon::server {

struct server_config {
  host_port listen{"127.0.0.1", 8080};
  std::string data_dir = "./data";
  std::string database_url;  // default sqlite://<data_dir>/dockmon.db
  std::string tls_cert;
  std::string tls_key;
  std::string client_ca;    // agents must present a certificate signed by this CA (mutual TLS)
  // auto: TLS with --tls-cert, or self-signed when listening beyond loopback; on: always (self-signed
  // without --tls-cert); off: plain HTTP everywhere (behind a TLS-terminating proxy).
  enum class tls_mode { automatic, on, off } tls = tls_mode::automatic;
  std::optional<std::string> admin_password;
  std::chrono::milliseconds command_timeout{std::chrono::seconds(30)};
  // Agents offline longer than this are removed with their hosts (0: never).
  std::chrono::milliseconds agent_retention{std::chrono::hours(24 * 30)};
  std::string log_level = "info";
  bool log_json = false;
};

// Throws config_error naming the setting on a bad value; CLI11's own errors (--help, unknown flag) pass through.
server_config parse_server_config(int argc, char** argv);

}  // namespace dockmon::server
