// Health check settings: request bodies, stored rows, API answers.
#include "health/check_settings.hpp"

#include "dockmon/common/json_fields.hpp"

#include <algorithm>

namespace dockmon::server {

namespace {

// A placeholder id: the checks of a config do not depend on which container it is pushed for.
constexpr std::string_view any_container = "000000000000";

std::optional<int> whole(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (v->is_int64()) return static_cast<int>(std::clamp<std::int64_t>(v->as_int64(), -1, 1 << 30));
  if (v->is_uint64()) return 1 << 30;
  return -1;  // present but not a number: refused by the range check
}

const json::value* field(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && !v->is_null() ? v : nullptr;
}

json::object parsed_object(const std::string& text) {
  error_code ec;
  auto v = text.empty() ? json::value() : json::parse(text, ec);
  return !ec && v.is_object() ? v.as_object() : json::object();
}

// The body's headers object as the wire's headers_json text, masked values taken from `previous`; the
// error, or nullopt.
std::optional<std::string> headers_text(const json::value& headers, const std::string& previous, std::string& out) {
  if (!headers.is_object()) return "headers must be an object of names to values";
  const auto before = parsed_object(previous);
  json::object result;
  for (const auto& [name, value] : headers.as_object()) {
    if (value.is_string() && value.as_string() == masked_secret && before.contains(name)) result[name] = before.at(name);
    else result[name] = value;
  }
  out = result.empty() ? std::string() : json::serialize(result);
  return std::nullopt;
}

std::optional<std::string> auth_text(const json::value& auth, const std::string& previous, std::string& out) {
  if (!auth.is_object()) return "auth must be an object: {type, username, password} or {type, token}";
  auto result = auth.as_object();
  const auto type = string_field(result, "type");
  if (type.empty() || type == "none") {
    out.clear();
    return std::nullopt;
  }
  const auto before = parsed_object(previous);
  for (const char* key : {"password", "token"})
    if (result.contains(key) && result.at(key).is_string() && result.at(key).as_string() == masked_secret)
      result[key] = before.contains(key) ? before.at(key) : json::value("");
  out = json::serialize(result);
  return std::nullopt;
}

}  // namespace

std::variant<check_settings, std::string> parse_check_body(const json::object& body, const check_settings* previous) {
  check_settings s;
  auto& c = s.config;
  // Ours, with defaults that suit a home lab: three failures in a row, restarts off until asked for.
  c.failure_threshold = 3;
  c.success_threshold = 1;
  c.auto_restart = false;
  c.max_restarts = 3;
  c.restart_delay_seconds = 10;
  c.check_interval_seconds = 30;
  c.timeout_seconds = 5;
  const auto type = string_field(body, "type");
  if (type == "tcp") {
    const auto address = string_field(body, "address");
    if (address.empty()) return std::string("address is needed for a tcp check: host:port, {container}:port for the container itself");
    c.url = "tcp://" + address;
  } else if (type.empty() || type == "http") {
    c.url = string_field(body, "url");
    if (c.url.empty()) return std::string("url is needed: http(s)://..., {container} for the container's address");
  } else {
    return std::string("type must be http or tcp");
  }
  if (auto* m = field(body, "method")) {
    if (!m->is_string()) return std::string("method must be text");
    c.method = std::string(m->as_string());
  }
  if (auto* codes = field(body, "expected_status")) {
    if (codes->is_int64()) c.expected_status_codes = std::to_string(codes->as_int64());
    else if (codes->is_string()) c.expected_status_codes = std::string(codes->as_string());
    else return std::string("expected_status must be codes or ranges: 200, \"200,204\" or \"200-299\"");
  }
  auto number = [&body](std::string_view key, auto& out) {
    if (auto n = whole(body, key)) out = *n;
  };
  number("interval_s", c.check_interval_seconds);
  number("timeout_s", c.timeout_seconds);
  for (auto [key, slot] : {std::pair{"failure_threshold", &c.failure_threshold}, std::pair{"success_threshold", &c.success_threshold},
                           std::pair{"max_restarts", &c.max_restarts}, std::pair{"restart_delay_s", &c.restart_delay_seconds}})
    if (auto n = whole(body, key)) *slot = *n;
  auto flag = [&body](std::string_view key, auto& out) -> bool {
    auto* f = field(body, key);
    if (f == nullptr) return true;
    if (!f->is_bool()) return false;
    out = f->as_bool();
    return true;
  };
  bool restart = *c.auto_restart, on_exit = false;
  if (!flag("enabled", c.enabled) || !flag("follow_redirects", c.follow_redirects) || !flag("verify_tls", c.verify_ssl) ||
      !flag("auto_restart", restart) || !flag("restart_on_exit", on_exit))
    return std::string("enabled, follow_redirects, verify_tls, auto_restart and restart_on_exit must be true or false");
  c.auto_restart = restart;
  c.restart_on_exit = on_exit;
  c.desired_state = string_field(body, "desired_state");
  if (c.desired_state.empty()) c.desired_state = "running";
  if (auto* headers = field(body, "headers")) {
    if (auto error = headers_text(*headers, previous != nullptr ? previous->config.headers_json : std::string(), c.headers_json))
      return *error;
  }
  if (auto* auth = field(body, "auth")) {
    if (auto error = auth_text(*auth, previous != nullptr ? previous->config.auth_config_json : std::string(), c.auth_config_json))
      return *error;
  }
  s.check_from = string_field(body, "check_from");
  if (s.check_from.empty()) s.check_from = "agent";
  if (s.check_from != "agent" && s.check_from != "server") return std::string("check_from must be agent or server");
  if (s.check_from == "server" && c.url.find("{container}") != std::string::npos)
    return std::string("a check from the server needs an address the server can reach, not {container}");

  // The agent's own rules decide the rest, so nothing is accepted here that an agent would refuse.
  auto wire = protocol::to_json(c);
  wire["container_id"] = any_container;
  auto checked = protocol::parse_health_check_config(json::value(std::move(wire)));
  if (!checked) {
    // The wire's names, in the words of the body.
    std::string error = checked.error().message;
    for (auto [wire_name, body_name] : {std::pair{"expected_status_codes", "expected_status"}, std::pair{"check_interval_seconds", "interval_s"},
                                        std::pair{"timeout_seconds", "timeout_s"}, std::pair{"restart_delay_seconds", "restart_delay_s"},
                                        std::pair{"headers_json", "headers"}, std::pair{"auth_config_json", "auth"},
                                        std::pair{"verify_ssl", "verify_tls"}})
      for (auto at = error.find(wire_name); at != std::string::npos; at = error.find(wire_name))
        error.replace(at, std::string_view(wire_name).size(), body_name);
    return error;
  }
  s.config = std::move(*checked);
  s.config.container_id.clear();
  return s;
}

store::health_check_record to_record(const std::string& host_id, const std::string& container_name, const check_settings& s,
                                     const secret_box& box, const std::string& updated_at) {
  auto settings = protocol::to_json(s.config);
  settings.erase("container_id");
  settings.erase("host_id");
  settings.erase("headers_json");
  settings.erase("auth_config_json");
  settings["check_from"] = s.check_from;
  std::string sealed;
  if (!s.config.headers_json.empty() || !s.config.auth_config_json.empty())
    sealed = box.seal(json::serialize(json::object{{"headers_json", s.config.headers_json}, {"auth_config_json", s.config.auth_config_json}}));
  return store::health_check_record{host_id, container_name, json::serialize(settings), std::move(sealed), updated_at};
}

std::optional<check_settings> from_record(const store::health_check_record& r, const secret_box& box) {
  error_code ec;
  auto settings = json::parse(r.settings_json, ec);
  if (ec || !settings.is_object()) return std::nullopt;
  auto wire = settings.as_object();
  check_settings s;
  s.check_from = string_field(wire, "check_from") == "server" ? "server" : "agent";
  wire.erase("check_from");
  wire["container_id"] = any_container;
  if (!r.secrets_sealed.empty()) {
    auto opened = box.open(r.secrets_sealed);
    if (!opened) return std::nullopt;
    auto secrets = json::parse(*opened, ec);
    if (ec || !secrets.is_object()) return std::nullopt;
    wire["headers_json"] = string_field(secrets.as_object(), "headers_json");
    wire["auth_config_json"] = string_field(secrets.as_object(), "auth_config_json");
  }
  auto config = protocol::parse_health_check_config(json::value(std::move(wire)));
  if (!config) return std::nullopt;
  s.config = std::move(*config);
  s.config.container_id.clear();
  return s;
}

json::object settings_json(const check_settings& s) {
  const auto& c = s.config;
  json::object o;
  const bool tcp = c.url.starts_with("tcp://");
  o["type"] = tcp ? "tcp" : "http";
  if (tcp) o["address"] = c.url.substr(6);
  o["url"] = c.url;
  o["method"] = c.method;
  o["expected_status"] = c.expected_status_codes;
  o["interval_s"] = c.check_interval_seconds;
  o["timeout_s"] = c.timeout_seconds;
  o["follow_redirects"] = c.follow_redirects;
  o["verify_tls"] = c.verify_ssl;
  o["enabled"] = c.enabled;
  o["failure_threshold"] = c.failure_threshold.value_or(3);
  o["success_threshold"] = c.success_threshold.value_or(1);
  o["auto_restart"] = c.auto_restart.value_or(false);
  o["max_restarts"] = c.max_restarts.value_or(3);
  o["restart_delay_s"] = c.restart_delay_seconds.value_or(10);
  o["restart_on_exit"] = c.restart_on_exit.value_or(false);
  o["desired_state"] = c.desired_state.empty() ? "running" : c.desired_state;
  o["check_from"] = s.check_from;
  json::object headers;
  for (const auto& [name, value] : parsed_object(c.headers_json)) headers[name] = masked_secret;
  o["headers"] = std::move(headers);
  auto auth = parsed_object(c.auth_config_json);
  if (auth.empty()) auth["type"] = "none";
  for (const char* key : {"password", "token"})
    if (auth.contains(key)) auth[key] = masked_secret;
  o["auth"] = std::move(auth);
  return o;
}

}  // namespace dockmon::server
