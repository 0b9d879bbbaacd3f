// Environment parsing for dockmon-agent.
#include "core/config.hpp"

#include <algorithm>

#include "dockmon/common/tls.hpp"
#include "dockmon/protocol/registration.hpp"

#include <unistd.h>

#include <charconv>
#include <filesystem>

namespace dockmon::agent {

std::string server_url::describe() const {
  return std::string(tls ? "wss://" : "ws://") + host + ":" + port + target;
}

server_url parse_server_url(std::string_view url) {
  const auto bad = [&](std::string_view why) {
    return config_error("DOCKMON_URL", "'" + std::string(url) + "' " + std::string(why) +
                                           "; expected e.g. https://dockmon.example.com or http://127.0.0.1:8080");
  };
  // The host and path go into the Host header and the request line: no byte may end a header or a line.
  if (std::any_of(url.begin(), url.end(), [](unsigned char c) { return c <= 0x20 || c == 0x7f; }))
    throw bad("holds a space or a control character (CR, LF...)");
  server_url out;
  std::string_view rest;
  if (url.rfind("https://", 0) == 0) { out.tls = true; rest = url.substr(8); }
  else if (url.rfind("wss://", 0) == 0) { out.tls = true; rest = url.substr(6); }
  else if (url.rfind("http://", 0) == 0) { rest = url.substr(7); }
  else if (url.rfind("ws://", 0) == 0) { rest = url.substr(5); }
  else throw bad("has no http://, https://, ws:// or wss:// scheme");
  auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  if (authority.empty()) throw bad("has no host");
  if (authority.find('@') != std::string_view::npos) throw bad("must not carry credentials");
  std::string_view host = authority, port;
  if (authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) throw bad("has an unclosed [IPv6] host");
    host = authority.substr(1, close - 1);
    auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') throw bad("has junk after the host");
      port = after.substr(1);
    }
  } else if (auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) throw bad("has no host");
  for (unsigned char c : host)
    if (!(std::isalnum(c) || c == '.' || c == '-' || c == ':' || c == '_')) throw bad("has an invalid host name");
  if (port.empty()) port = out.tls ? "443" : "80";
  unsigned p = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (ec != std::errc{} || end != port.data() + port.size() || p == 0 || p > 65535) throw bad("has an invalid port");
  if (path.find_first_of("?#") != std::string_view::npos) throw bad("must not carry a query or fragment");
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  if (path.size() >= 13 && path.substr(path.size() - 13) == "/api/agent/ws") path.remove_suffix(13);
  out.host = std::string(host);
  out.port = std::string(port);
  out.target = std::string(path) + "/api/agent/ws";
  return out;
}

namespace {
std::string readable_file(const char* setting, const std::string& path) {
  if (::access(path.c_str(), R_OK) != 0) throw config_error(setting, "names " + path + ", which cannot be read");
  return path;
}
}  // namespace

std::optional<docker::tls_options> docker_tls_settings(const env_lookup& env, const docker::endpoint& engine) {
  bool verify = false;
  bool encrypt = false;
  if (auto v = env("DOCKER_TLS_VERIFY")) verify = parse_bool("DOCKER_TLS_VERIFY", *v);
  if (auto v = env("DOCKER_TLS")) encrypt = parse_bool("DOCKER_TLS", *v);
  if ((!verify && !encrypt) || engine.type != docker::endpoint::kind::tcp) return std::nullopt;

  std::string folder;
  if (auto v = env("DOCKER_CERT_PATH")) folder = *v;
  else if (auto home = env("HOME")) folder = *home + "/.docker";
  else throw config_error("DOCKER_CERT_PATH", "is not set, nor is HOME for its default ~/.docker");
  docker::tls_options tls{folder + "/ca.pem", folder + "/cert.pem", folder + "/key.pem", verify};
  const auto missing = [](const std::string& file) {
    return config_error("DOCKER_CERT_PATH", file + " does not exist; " +
                                                "DOCKER_TLS_VERIFY needs ca.pem, and a client certificate needs cert.pem "
                                                "and key.pem, in DOCKER_CERT_PATH (default ~/.docker)");
  };
  if (verify) {
    for (const auto* file : {&tls.ca_file, &tls.cert_file, &tls.key_file})
      if (!std::filesystem::exists(*file)) throw missing(*file);
    return tls;
  }
  // DOCKER_TLS alone, as the CLI: the CA is not used, and the client certificate only when it is there.
  tls.ca_file.clear();
  const bool has_cert = std::filesystem::exists(tls.cert_file);
  const bool has_key = std::filesystem::exists(tls.key_file);
  if (has_cert != has_key) throw missing(has_cert ? tls.key_file : tls.cert_file);
  if (!has_cert) {
    tls.cert_file.clear();
    tls.key_file.clear();
  }
  return tls;
}

std::string data_path_setting(const env_lookup& env) { return env("DATA_PATH").value_or("/data"); }

agent_config load_agent_config(const env_lookup& env) {
  agent_config cfg;
  auto url = env("DOCKMON_URL");
  if (!url) throw config_error("DOCKMON_URL", "is required: the address of dockmon-server, e.g. http://127.0.0.1:8080");
  for (std::size_t start = 0; start <= url->size();) {
    const auto comma = std::min(url->find(',', start), url->size());
    auto one = std::string_view(*url).substr(start, comma - start);
    while (!one.empty() && one.front() == ' ') one.remove_prefix(1);
    while (!one.empty() && one.back() == ' ') one.remove_suffix(1);
    if (!one.empty()) cfg.servers.push_back(parse_server_url(one));
    start = comma + 1;
  }
  if (cfg.servers.empty()) throw config_error("DOCKMON_URL", "names no server");
  if (cfg.servers.size() > 16) throw config_error("DOCKMON_URL", "names more than 16 servers");
  for (const auto& other : cfg.servers) {
    if (other.tls != cfg.servers.front().tls)
      throw config_error("DOCKMON_URL", "mixes TLS and plain servers; give all as https:// (wss://) or all as http:// (ws://)");
  }
  cfg.server = cfg.servers.front();

  if (auto t = env("REGISTRATION_TOKEN")) cfg.registration_token = *t;
  if (auto t = env("PERMANENT_TOKEN")) cfg.permanent_token = *t;
  for (auto [name, value] : {std::pair{"REGISTRATION_TOKEN", &cfg.registration_token},
                             std::pair{"PERMANENT_TOKEN", &cfg.permanent_token}}) {
    if (!value->empty() && (value->size() > protocol::max_token_length || !protocol::valid_identifier(*value)))
      throw config_error(name, "is malformed: 1-255 characters of A-Z a-z 0-9 _ : -");
  }
  if (auto v = env("DOCKER_HOST")) cfg.docker_host = *v;
  cfg.docker_tls = docker_tls_settings(env, docker::parse_docker_host(cfg.docker_host));
  cfg.data_path = data_path_setting(env);
  if (auto v = env("LOG_LEVEL")) cfg.log_level = *v;
  if (auto v = env("LOG_JSON")) cfg.log_json = parse_bool("LOG_JSON", *v);
  if (auto v = env("RECONNECT_INITIAL")) cfg.reconnect_initial = parse_duration("RECONNECT_INITIAL", *v);
  if (auto v = env("RECONNECT_MAX")) cfg.reconnect_max = parse_duration("RECONNECT_MAX", *v);
  if (cfg.reconnect_initial.count() < 100) throw config_error("RECONNECT_INITIAL", "must be at least 100ms");
  if (cfg.reconnect_max < cfg.reconnect_initial)
    throw config_error("RECONNECT_MAX", "must not be shorter than RECONNECT_INITIAL");
  if (auto v = env("AGENT_NAME")) {
    if (v->size() > 255) throw config_error("AGENT_NAME", "is longer than 255 characters");
    cfg.agent_name = *v;
  }
  if (auto v = env("FORCE_UNIQUE_REGISTRATION")) {
    cfg.force_unique_registration = parse_bool("FORCE_UNIQUE_REGISTRATION", *v);
    // DockMon's rule: a clone registered as a host of its own needs a name of its own.
    if (cfg.force_unique_registration && cfg.agent_name.empty())
      throw config_error("FORCE_UNIQUE_REGISTRATION", "needs AGENT_NAME, so that each clone has a name of its own");
  }
  if (auto v = env("INSECURE_SKIP_VERIFY")) cfg.insecure_skip_verify = parse_bool("INSECURE_SKIP_VERIFY", *v);
  if (auto v = env("DOCKMON_CA_FILE")) cfg.ca_file = readable_file("DOCKMON_CA_FILE", *v);
  if (auto v = env("DOCKMON_PINNED_PUBKEY")) cfg.pinned_pubkeys = tls::parse_pins("DOCKMON_PINNED_PUBKEY", *v);
  if (auto v = env("DOCKMON_CLIENT_CERT")) cfg.client_cert = readable_file("DOCKMON_CLIENT_CERT", *v);
  if (auto v = env("DOCKMON_CLIENT_KEY")) cfg.client_key = readable_file("DOCKMON_CLIENT_KEY", *v);
  if (cfg.client_cert.empty() != cfg.client_key.empty())
    throw config_error(cfg.client_cert.empty() ? "DOCKMON_CLIENT_CERT" : "DOCKMON_CLIENT_KEY",
                       "is needed too: give the client certificate and its key together");
  const bool any_tls_setting = !cfg.ca_file.empty() || !cfg.pinned_pubkeys.empty() || !cfg.client_cert.empty();
  if (any_tls_setting && !cfg.server.tls)
    throw config_error("DOCKMON_URL", "must be https:// or wss:// when DOCKMON_CA_FILE, DOCKMON_PINNED_PUBKEY or DOCKMON_CLIENT_CERT is set");
  if (auto v = env("STATS_INTERVAL")) {
    cfg.stats_interval = parse_duration("STATS_INTERVAL", *v);
    if (cfg.stats_interval.count() < 250) throw config_error("STATS_INTERVAL", "must be at least 250ms");
  }
  if (auto v = env("AGENT_ALLOW")) cfg.allowed = allow_list::parse(*v);
  if (auto v = env("DOCKMON_UPDATE_PUBKEY")) {
    cfg.update_key = signing::public_key::parse(*v);
    if (!cfg.update_key)
      throw config_error("DOCKMON_UPDATE_PUBKEY", "is not a public key: give the base64 line `dockmon-server keygen` printed");
  }
  if (auto v = env("DOCKMON_UPDATE_DEADLINE")) {
    cfg.update_deadline = parse_duration("DOCKMON_UPDATE_DEADLINE", *v);
    if (cfg.update_deadline.count() < 1000) throw config_error("DOCKMON_UPDATE_DEADLINE", "must be at least 1s");
  }
  if (auto v = env("AGENT_MODE")) {
    if (*v == "auto") cfg.mode = agent_config::run_mode::automatic;
    else if (*v == "native") cfg.mode = agent_config::run_mode::native;
    else if (*v == "container") cfg.mode = agent_config::run_mode::container;
    else throw config_error("AGENT_MODE", "must be auto, native or container");
  }
  return cfg;
}

}  // namespace dockmon::agent
