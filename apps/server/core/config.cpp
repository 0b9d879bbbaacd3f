// Flag and environment parsing for dockmon-server.
#include "core/config.hpp"

#include <CLI/CLI.hpp>

#include <charconv>

namespace dockmon::server {

namespace {

std::size_t parse_count(const std::string& setting, const std::string& text, std::size_t low, std::size_t high) {
  std::size_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value < low || value > high)
    throw config_error(setting, "must be a number from " + std::to_string(low) + " to " + std::to_string(high) + ", got '" + text + "'");
  return value;
}

}  // namespace

std::optional<network> parse_network(std::string_view text) {
  error_code ec;
  const auto slash = text.find('/');
  auto address = net::ip::make_address(std::string(text.substr(0, slash)), ec);
  if (ec) return std::nullopt;
  unsigned prefix = address.is_v4() ? 32 : 128;
  if (slash != std::string_view::npos) {
    auto digits = text.substr(slash + 1);
    auto [end, pec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
    if (pec != std::errc{} || end != digits.data() + digits.size() || prefix > (address.is_v4() ? 32u : 128u)) return std::nullopt;
  }
  return network{address, prefix};
}

bool network::contains(const net::ip::address& a) const {
  // IPv4 peers may come as ::ffff:a.b.c.d on a dual-stack socket.
  auto plain = a.is_v6() && a.to_v6().is_v4_mapped() ? net::ip::address(net::ip::make_address_v4(net::ip::v4_mapped, a.to_v6())) : a;
  if (plain.is_v4() != base.is_v4()) return false;
  auto bytes_of = [](const net::ip::address& x) {
    std::vector<unsigned char> b;
    if (x.is_v4()) {
      auto v = x.to_v4().to_bytes();
      b.assign(v.begin(), v.end());
    } else {
      auto v = x.to_v6().to_bytes();
      b.assign(v.begin(), v.end());
    }
    return b;
  };
  const auto want = bytes_of(base);
  const auto have = bytes_of(plain);
  for (unsigned bit = 0; bit < prefix; ++bit) {
    const unsigned mask = 0x80u >> (bit % 8);
    if ((want[bit / 8] & mask) != (have[bit / 8] & mask)) return false;
  }
  return true;
}

std::string url_host(std::string_view url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return {};
  auto rest = url.substr(scheme_end + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (rest.starts_with('[')) return std::string(rest.substr(0, rest.find(']') + 1));
  return std::string(rest.substr(0, rest.find(':')));
}

server_config parse_server_config(int argc, char** argv) {
  server_config cfg;
  CLI::App app{"dockmon-server: watches and steers Docker hosts through their dockmon-agents"};
  std::string listen = "127.0.0.1:8080";
  std::string command_timeout = "30s";
  std::string log_json = "false";
  app.add_option("--listen", listen, "address:port for HTTP, the REST API and the agent socket")->envname("DOCKMON_LISTEN");
  app.add_option("--data-dir", cfg.data_dir, "folder for the SQLite database and server files")->envname("DOCKMON_DATA_DIR");
  app.add_option("--database-url", cfg.database_url,
                 "sqlite:///path/dockmon.db (default: under --data-dir) or postgresql://user@host:5432/dockmon")
      ->envname("DOCKMON_DATABASE_URL");
  std::string pool_size = std::to_string(cfg.database_pool_size);
  app.add_option("--database-pool-size", pool_size, "PostgreSQL connections, and threads running store calls (1-256)")
      ->envname("DOCKMON_DATABASE_POOL_SIZE");
  app.add_option("--replica-address", cfg.replica_address,
                 "run as one of several servers on one PostgreSQL database: the http://address:port the others "
                 "reach this one at (a private network)")
      ->envname("DOCKMON_REPLICA_ADDRESS");
  app.add_option("--tls-cert", cfg.tls_cert, "PEM certificate chain for HTTPS/WSS")->envname("DOCKMON_TLS_CERT");
  app.add_option("--tls-key", cfg.tls_key, "PEM private key for HTTPS/WSS")->envname("DOCKMON_TLS_KEY");
  app.add_option("--client-ca", cfg.client_ca, "PEM CA that must have signed every agent's client certificate")
      ->envname("DOCKMON_CLIENT_CA");
  std::string tls = "auto";
  app.add_option("--tls", tls,
                 "auto (TLS with --tls-cert, or self-signed off loopback), on (self-signed without --tls-cert), "
                 "or off (plain HTTP, e.g. behind a TLS proxy)")
      ->envname("DOCKMON_TLS");
  app.add_option("--command-timeout", command_timeout, "how long to wait for an agent's reply (e.g. 30s)")
      ->envname("DOCKMON_COMMAND_TIMEOUT");
  std::string agent_retention = "30d";
  app.add_option("--agent-retention", agent_retention, "remove agents offline for longer than this (e.g. 30d; 0: never)")
      ->envname("DOCKMON_AGENT_RETENTION");
  std::string burst_window = "10s";
  app.add_option("--notify-burst-window", burst_window,
                 "messages about one host within this time after the first go to a channel as one (e.g. 10s; 0: each alone)")
      ->envname("DOCKMON_NOTIFY_BURST_WINDOW");
  app.add_option("--tag-label", cfg.tag_label,
                 "the Docker label whose value is a container's tag too (default com.docker.compose.project; empty: none)")
      ->envname("DOCKMON_TAG_LABEL");
  std::string ack_links = "false";
  app.add_option("--notify-ack-links", ack_links,
                 "messages carry a link (valid 7 days, once) that acknowledges the alert without signing in; needs --public-url")
      ->envname("DOCKMON_NOTIFY_ACK_LINKS");
  app.add_option("--public-url", cfg.public_url, "the URL browsers use (e.g. https://dockmon.example.com behind a TLS proxy)")
      ->envname("DOCKMON_PUBLIC_URL");
  std::string trusted_proxies;
  app.add_option("--trusted-proxy", trusted_proxies,
                 "comma-separated addresses or CIDR blocks of proxies whose X-Forwarded-For is believed")
      ->envname("DOCKMON_TRUSTED_PROXIES");
  std::string max_connections = std::to_string(cfg.max_connections);
  std::string max_per_address = std::to_string(cfg.max_connections_per_address);
  app.add_option("--max-connections", max_connections, "open connections in all (agents, browsers, API clients)")
      ->envname("DOCKMON_MAX_CONNECTIONS");
  app.add_option("--max-connections-per-address", max_per_address, "open connections from one address")
      ->envname("DOCKMON_MAX_CONNECTIONS_PER_ADDRESS");
  std::string metrics_containers = "none";
  app.add_option("--metrics-containers", metrics_containers,
                 "containers with series of their own on /metrics: none, all, or host:<id or name> and tag:<tag>, "
                 "comma-separated (all are on /metrics/containers)")
      ->envname("DOCKMON_METRICS_CONTAINERS");
  app.add_option("--log-level", cfg.log_level, "trace, debug, info, warn or error")->envname("LOG_LEVEL");
  app.add_option("--log-json", log_json, "JSON log lines (true/false)")->envname("LOG_JSON");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    std::exit(app.exit(e));
  }
  cfg.listen = parse_host_port("--listen/DOCKMON_LISTEN", listen);
  cfg.command_timeout = parse_duration("--command-timeout/DOCKMON_COMMAND_TIMEOUT", command_timeout);
  if (cfg.command_timeout < std::chrono::milliseconds(100))
    throw config_error("--command-timeout/DOCKMON_COMMAND_TIMEOUT", "must be at least 100ms");
  cfg.log_json = parse_bool("LOG_JSON", log_json);
  cfg.agent_retention = parse_duration("--agent-retention/DOCKMON_AGENT_RETENTION", agent_retention);
  cfg.notify_ack_links = parse_bool("--notify-ack-links/DOCKMON_NOTIFY_ACK_LINKS", ack_links);
  if (cfg.tag_label.size() > 255 || cfg.tag_label.find_first_of(" \t\r\n") != std::string::npos)
    throw config_error("--tag-label/DOCKMON_TAG_LABEL", "must be a Docker label key: at most 255 characters, no spaces");
  cfg.notify_burst_window = parse_duration("--notify-burst-window/DOCKMON_NOTIFY_BURST_WINDOW", burst_window);
  if (cfg.notify_burst_window > std::chrono::minutes(10))
    throw config_error("--notify-burst-window/DOCKMON_NOTIFY_BURST_WINDOW", "must be at most 10m, so that no message waits longer");
  if (cfg.data_dir.empty()) throw config_error("--data-dir/DOCKMON_DATA_DIR", "must not be empty");
  if (cfg.database_url.empty()) cfg.database_url = "sqlite://" + cfg.data_dir + "/dockmon.db";
  try {
    cfg.metrics_containers = parse_metrics_selection(metrics_containers);
  } catch (const std::invalid_argument& e) {
    throw config_error("--metrics-containers/DOCKMON_METRICS_CONTAINERS", e.what());
  }
  cfg.database_pool_size = parse_count("--database-pool-size/DOCKMON_DATABASE_POOL_SIZE", pool_size, 1, 256);
  if (!cfg.replica_address.empty()) {
    while (cfg.replica_address.ends_with('/')) cfg.replica_address.pop_back();
    const auto host = url_host(cfg.replica_address);
    const auto after_host = cfg.replica_address.substr(std::min(cfg.replica_address.size(), 7 + host.size()));
    if (!cfg.replica_address.starts_with("http://") || host.empty() || !after_host.starts_with(':') ||
        after_host.find('/') != std::string::npos)
      throw config_error("--replica-address/DOCKMON_REPLICA_ADDRESS", "must be http://host:port (the replicas' own network)");
    if (!cfg.database_url.starts_with("postgresql://") && !cfg.database_url.starts_with("postgres://"))
      throw config_error("--replica-address/DOCKMON_REPLICA_ADDRESS",
                         "needs a PostgreSQL --database-url: replicas share one database, which SQLite cannot be");
  }
  if (cfg.tls_cert.empty() != cfg.tls_key.empty())
    throw config_error("--tls-cert/--tls-key", "give both the certificate and its key, or neither");
  if (tls == "auto") cfg.tls = server_config::tls_mode::automatic;
  else if (tls == "on") cfg.tls = server_config::tls_mode::on;
  else if (tls == "off") cfg.tls = server_config::tls_mode::off;
  else throw config_error("--tls/DOCKMON_TLS", "must be auto, on or off");
  if (cfg.tls == server_config::tls_mode::off && !cfg.tls_cert.empty())
    throw config_error("--tls/DOCKMON_TLS", "is off but --tls-cert is given: choose TLS or plain HTTP");
  if (cfg.tls == server_config::tls_mode::off && !cfg.client_ca.empty())
    throw config_error("--client-ca/DOCKMON_CLIENT_CA", "needs TLS, but --tls is off");
  cfg.max_connections = parse_count("--max-connections/DOCKMON_MAX_CONNECTIONS", max_connections, 16, 1'000'000);
  cfg.max_connections_per_address =
      parse_count("--max-connections-per-address/DOCKMON_MAX_CONNECTIONS_PER_ADDRESS", max_per_address, 1, 1'000'000);
  if (!cfg.public_url.empty() && !cfg.public_url.starts_with("https://") && !cfg.public_url.starts_with("http://"))
    throw config_error("--public-url/DOCKMON_PUBLIC_URL", "must start with https:// or http://");
  if (!cfg.public_url.empty() && url_host(cfg.public_url).empty())
    throw config_error("--public-url/DOCKMON_PUBLIC_URL", "names no host");
  while (cfg.public_url.ends_with('/')) cfg.public_url.pop_back();
  if (cfg.notify_ack_links && cfg.public_url.empty())
    throw config_error("--notify-ack-links/DOCKMON_NOTIFY_ACK_LINKS", "needs --public-url: the links must reach this server");
  for (std::string_view rest = trusted_proxies; !rest.empty();) {
    const auto comma = rest.find(',');
    auto one = std::string(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    one.erase(0, one.find_first_not_of(' '));
    one.erase(one.find_last_not_of(' ') + 1);
    if (one.empty()) continue;
    if (!parse_network(one))
      throw config_error("--trusted-proxy/DOCKMON_TRUSTED_PROXIES", "'" + one + "' is not an address or CIDR block");
    cfg.trusted_proxies.push_back(one);
  }
  if (auto pw = env_value("DOCKMON_ADMIN_PASSWORD")) {
    if (pw->size() < 8) throw config_error("DOCKMON_ADMIN_PASSWORD", "must be at least 8 characters");
    cfg.admin_password = *pw;
  }
  return cfg;
}

}  // namespace dockmon::server
