// Flag and environment parsing for dockmon-server.
#include "config.hpp"

#include <CLI/CLI.hpp>

namespace dockmon::server {

server_config parse_server_config(int argc, char** argv) {
  server_config cfg;
  CLI::App app{"dockmon-server: watches and steers Docker hosts through their dockmon-agents"};
  std::string listen = "127.0.0.1:8080";
  std::string command_timeout = "30s";
  std::string log_json = "false";
  app.add_option("--listen", listen, "address:port for HTTP, the REST API and the agent socket")->envname("DOCKMON_LISTEN");
  app.add_option("--data-dir", cfg.data_dir, "folder for the SQLite database and server files")->envname("DOCKMON_DATA_DIR");
  app.add_option("--database-url", cfg.database_url, "sqlite:///path/dockmon.db (default: under --data-dir)")
      ->envname("DOCKMON_DATABASE_URL");
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
  if (cfg.data_dir.empty()) throw config_error("--data-dir/DOCKMON_DATA_DIR", "must not be empty");
  if (cfg.database_url.empty()) cfg.database_url = "sqlite://" + cfg.data_dir + "/dockmon.db";
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
  if (auto pw = env_value("DOCKMON_ADMIN_PASSWORD")) {
    if (pw->size() < 8) throw config_error("DOCKMON_ADMIN_PASSWORD", "must be at least 8 characters");
    cfg.admin_password = *pw;
  }
  return cfg;
}

}  // namespace dockmon::server
