// dockmon-server's settings: flags, each with an environment variable of the same meaning (DESIGN.md section 6).
#pragma once

#include "core/metrics_selection.hpp"

#include "dockmon/common/env.hpp"
#include "dockmon/common/net.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace dockmon::server {

struct server_config {
  host_port listen{"127.0.0.1", 8080};
  std::string data_dir = "./data";
  std::string database_url;  // default sqlite://<data_dir>/dockmon.db
  std::size_t database_pool_size = 8;  // PostgreSQL connections, and threads running store calls
  // Where the other replicas on the same PostgreSQL database reach this one (http://10.0.0.5:8080); empty:
  // a single server.
  std::string replica_address;
  metrics_selection metrics_containers;  // containers with series of their own on /metrics (none by default)
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
  std::chrono::milliseconds notify_burst_window{std::chrono::seconds(10)};
  bool notify_ack_links = false;  // messages carry a link that acknowledges the alert without signing in
  std::string tag_label = "com.docker.compose.project";  // a container's tag from this label's value; empty: none
  std::string log_level = "info";
  bool log_json = false;
  // The address browsers use, when a TLS proxy sits in front (--tls off): https here makes cookies Secure
  // and turns HSTS on; its host is allowed beside loopback's names on a loopback listener.
  std::string public_url;
  // Proxies whose X-Forwarded-For is believed (addresses or CIDR blocks); nobody else's is.
  std::vector<std::string> trusted_proxies;
  std::size_t max_connections = 10000;
  std::size_t max_connections_per_address = 256;
};

// An address block (--trusted-proxy): an address and how many of its leading bits count.
struct network {
  net::ip::address base;
  unsigned prefix = 0;
  bool contains(const net::ip::address& a) const;
};
// "10.0.0.0/8", "::1", "192.168.1.10": nullopt when it is none of these.
std::optional<network> parse_network(std::string_view text);
// The host of "https://name:port/path" ("[::1]" for IPv6), empty when there is none.
std::string url_host(std::string_view url);

// Throws config_error naming the setting on a bad value; CLI11's own errors (--help, unknown flag) pass through.
server_config parse_server_config(int argc, char** argv);

}  // namespace dockmon::server
