// Health check configs and results: checked field by field, written as DockMon writes them.
#include "dockmon/protocol/health_check.hpp"

#include "dockmon/common/json_fields.hpp"
#include "dockmon/common/validate.hpp"
#include "dockmon/protocol/envelope.hpp"
#include "dockmon/protocol/registration.hpp"

#include <algorithm>
#include <array>
#include <charconv>

namespace dockmon::protocol {

namespace {

protocol_error fail(std::string message) { return protocol_error::because(std::move(message)); }

constexpr std::size_t max_url = 2048;
constexpr std::size_t max_json_text = 8192;
constexpr std::array methods{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

std::optional<int> code_of(std::string_view s) {
  s = trim(s);
  int v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size() || v < 100 || v > 599) return std::nullopt;
  return v;
}

// An HTTP header name: a token (RFC 9110), so nothing a request could be split with.
bool header_name(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

bool has_line_break(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos || s.find('\0') != std::string_view::npos; }

std::optional<protocol_error> check_headers(const std::string& text) {
  if (text.empty()) return std::nullopt;
  if (text.size() > max_json_text) return fail("headers_json must be at most 8192 characters");
  error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object() || v.as_object().size() > 50) return fail("headers_json must be a JSON object of at most 50 headers");
  for (const auto& [name, value] : v.as_object()) {
    if (!header_name(name)) return fail("headers_json holds a header name that is not a token");
    if (!value.is_string() || has_line_break(value.as_string())) return fail("headers_json values must be text without line breaks");
  }
  return std::nullopt;
}

std::optional<protocol_error> check_auth(const std::string& text) {
  if (text.empty()) return std::nullopt;
  if (text.size() > max_json_text) return fail("auth_config_json must be at most 8192 characters");
  error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object()) return fail("auth_config_json must be a JSON object");
  const auto& o = v.as_object();
  const auto type = string_field(o, "type");
  if (type != "basic" && type != "bearer" && type != "none" && !type.empty())
    return fail("auth_config_json.type must be basic, bearer or none");
  for (const char* key : {"username", "password", "token"}) {
    const auto* f = o.if_contains(key);
    if (f != nullptr && !f->is_null() && (!f->is_string() || has_line_break(f->as_string())))
      return fail(std::string("auth_config_json.") + key + " must be text without line breaks");
  }
  return std::nullopt;
}

// A whole number from min to max, or the fallback when absent; nullopt when present and wrong.
std::optional<int> whole(const json::object& o, std::string_view key, int fallback, int min, int max) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return fallback;
  if (!v->is_int64() && !v->is_uint64()) return std::nullopt;
  const auto n = v->is_int64() ? v->as_int64() : static_cast<std::int64_t>(std::min<std::uint64_t>(v->as_uint64(), 1u << 30));
  if (n < min || n > max) return std::nullopt;
  return static_cast<int>(n);
}

std::optional<bool> flag(const json::object& o, std::string_view key, bool fallback) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return fallback;
  if (!v->is_bool()) return std::nullopt;
  return v->as_bool();
}

// Text or null (as DockMon sends an empty JSON column); nullopt when something else.
std::optional<std::string> text(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return std::string();
  if (!v->is_string()) return std::nullopt;
  return std::string(v->as_string());
}

}  // namespace

bool status_codes::accepts(int code) const {
  return std::any_of(ranges.begin(), ranges.end(), [code](const auto& r) { return code >= r.first && code <= r.second; });
}

std::optional<status_codes> parse_status_codes(std::string_view text) {
  status_codes out;
  if (trim(text).empty()) {
    out.ranges.emplace_back(200, 200);
    return out;
  }
  if (text.size() > 256 || trim(text).ends_with(',')) return std::nullopt;
  while (!text.empty()) {
    const auto comma = text.find(',');
    const auto part = text.substr(0, comma);
    const auto dash = part.find('-');
    const auto low = code_of(part.substr(0, dash));
    const auto high = dash == std::string_view::npos ? low : code_of(part.substr(dash + 1));
    if (!low || !high || *low > *high) return std::nullopt;
    out.ranges.emplace_back(*low, *high);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

result<health_check_config> parse_health_check_config(const json::value& v) {
  if (!v.is_object()) return fail("a health check config must be a JSON object");
  const auto& o = v.as_object();
  health_check_config c;
  c.container_id = string_field(o, "container_id");
  if (!valid_container_id(c.container_id)) return fail("container_id must be a container id (12 or 64 hex digits)");
  c.host_id = string_field(o, "host_id");
  if (c.host_id.size() > 64 || !valid_identifier(c.host_id.empty() ? "-" : c.host_id)) return fail("host_id is malformed");
  auto enabled = flag(o, "enabled", true);
  auto follow = flag(o, "follow_redirects", true);
  auto verify = flag(o, "verify_ssl", true);
  if (!enabled || !follow || !verify) return fail("enabled, follow_redirects and verify_ssl must be true or false");
  c.enabled = *enabled;
  c.follow_redirects = *follow;
  c.verify_ssl = *verify;
  auto url = text(o, "url");
  if (!url || url->size() > max_url || !(url->starts_with("http://") || url->starts_with("https://") || url->starts_with("tcp://")) ||
      has_line_break(*url) || url->find(' ') != std::string::npos)
    return fail("url must be an http://, https:// or tcp:// address of at most 2048 characters");
  c.url = std::move(*url);
  auto method = text(o, "method");
  if (!method) return fail("method must be text");
  if (!method->empty()) c.method = std::move(*method);
  if (std::find(methods.begin(), methods.end(), c.method) == methods.end())
    return fail("method must be GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS");
  auto codes = text(o, "expected_status_codes");
  if (!codes || !parse_status_codes(*codes)) return fail("expected_status_codes must be codes or ranges of 100-599: 200, 200,204 or 200-299");
  c.expected_status_codes = codes->empty() ? "200" : std::move(*codes);
  auto timeout = whole(o, "timeout_seconds", 10, 1, 300);
  if (!timeout) return fail("timeout_seconds must be 1 to 300");
  c.timeout_seconds = *timeout;
  auto interval = whole(o, "check_interval_seconds", 60, 5, 86400);
  if (!interval) return fail("check_interval_seconds must be 5 to 86400");
  c.check_interval_seconds = *interval;
  auto headers = text(o, "headers_json");
  auto auth = text(o, "auth_config_json");
  if (!headers || !auth) return fail("headers_json and auth_config_json must be JSON text");
  if (auto error = check_headers(*headers)) return *error;
  if (auto error = check_auth(*auth)) return *error;
  c.headers_json = std::move(*headers);
  c.auth_config_json = std::move(*auth);

  // Ours, when present.
  auto optional_whole = [&o](std::string_view key, int min, int max, std::optional<int>& out) -> bool {
    if (!o.contains(key) || o.at(key).is_null()) return true;
    auto n = whole(o, key, 0, min, max);
    if (!n) return false;
    out = *n;
    return true;
  };
  if (!optional_whole("failure_threshold", 1, 100, c.failure_threshold) || !optional_whole("success_threshold", 1, 100, c.success_threshold))
    return fail("failure_threshold and success_threshold must be 1 to 100");
  if (!optional_whole("max_restarts", 0, 100, c.max_restarts)) return fail("max_restarts must be 0 to 100");
  if (!optional_whole("restart_delay_seconds", 0, 3600, c.restart_delay_seconds)) return fail("restart_delay_seconds must be 0 to 3600");
  if (o.contains("auto_restart") && !o.at("auto_restart").is_null()) {
    if (!o.at("auto_restart").is_bool()) return fail("auto_restart must be true or false");
    c.auto_restart = o.at("auto_restart").as_bool();
  }
  if (o.contains("restart_on_exit") && !o.at("restart_on_exit").is_null()) {
    if (!o.at("restart_on_exit").is_bool()) return fail("restart_on_exit must be true or false");
    c.restart_on_exit = o.at("restart_on_exit").as_bool();
  }
  auto desired = text(o, "desired_state");
  if (!desired || (!desired->empty() && *desired != "running" && *desired != "on_demand"))
    return fail("desired_state must be running or on_demand");
  c.desired_state = std::move(*desired);
  return c;
}

json::object to_json(const health_check_config& c) {
  json::object o{{"container_id", c.container_id},
                 {"host_id", c.host_id},
                 {"enabled", c.enabled},
                 {"url", c.url},
                 {"method", c.method},
                 {"expected_status_codes", c.expected_status_codes},
                 {"timeout_seconds", c.timeout_seconds},
                 {"check_interval_seconds", c.check_interval_seconds},
                 {"follow_redirects", c.follow_redirects},
                 {"verify_ssl", c.verify_ssl},
                 {"headers_json", c.headers_json.empty() ? json::value(nullptr) : json::value(c.headers_json)},
                 {"auth_config_json", c.auth_config_json.empty() ? json::value(nullptr) : json::value(c.auth_config_json)}};
  if (c.failure_threshold) o["failure_threshold"] = *c.failure_threshold;
  if (c.success_threshold) o["success_threshold"] = *c.success_threshold;
  if (c.auto_restart) o["auto_restart"] = *c.auto_restart;
  if (c.max_restarts) o["max_restarts"] = *c.max_restarts;
  if (c.restart_delay_seconds) o["restart_delay_seconds"] = *c.restart_delay_seconds;
  if (c.restart_on_exit) o["restart_on_exit"] = *c.restart_on_exit;
  if (!c.desired_state.empty()) o["desired_state"] = c.desired_state;
  return o;
}

json::object health_check_config_frame(const health_check_config& c) {
  return json::object{{"type", "health_check_config"}, {"payload", to_json(c)}};
}

json::object health_check_configs_sync_frame(const std::vector<health_check_config>& configs) {
  json::array list;
  for (const auto& c : configs) list.push_back(to_json(c));
  return json::object{{"type", "health_check_configs_sync"}, {"payload", json::object{{"configs", std::move(list)}}}};
}

json::object health_check_config_remove_frame(std::string_view container_id) {
  return json::object{{"type", "health_check_config_remove"}, {"payload", json::object{{"container_id", container_id}}}};
}

json::object to_json(const health_check_result& r) {
  json::object o{{"container_id", r.container_id}, {"host_id", r.host_id}, {"healthy", r.healthy},
                 {"response_time_ms", r.response_time_ms}, {"timestamp", r.timestamp}};
  if (r.status_code != 0) o["status_code"] = r.status_code;
  if (!r.error_message.empty()) o["error_message"] = r.error_message;
  if (!r.state.empty()) {
    o["state"] = r.state;
    if (!r.container_name.empty()) o["container_name"] = r.container_name;
    o["consecutive_failures"] = r.consecutive_failures;
    o["restarts"] = r.restarts;
    o["gave_up"] = r.gave_up;
  }
  if (!r.recent_ms.empty()) {
    json::array recent;
    for (auto ms : r.recent_ms) recent.push_back(ms);
    o["recent_ms"] = std::move(recent);
  }
  return o;
}

json::object health_check_result_event(const health_check_result& r) { return event_frame("health_check_result", to_json(r)); }

json::object health_check_summary_event(const std::vector<health_check_result>& checks) {
  json::array list;
  for (const auto& r : checks) list.push_back(to_json(r));
  return event_frame("health_check_summary", json::object{{"checks", std::move(list)}});
}

result<std::vector<health_check_result>> parse_health_check_summary(const json::object& payload) {
  const auto* checks = payload.if_contains("checks");
  if (checks == nullptr || !checks->is_array() || checks->as_array().size() > 1000)
    return fail("checks must be a list of at most 1000 results");
  std::vector<health_check_result> out;
  for (const auto& c : checks->as_array()) {
    if (!c.is_object()) return fail("each check must be an object");
    auto r = parse_health_check_result(c.as_object());
    if (!r) return r.error();
    out.push_back(std::move(*r));
  }
  return out;
}

json::object auto_restart_event(const auto_restart_report& r) {
  json::object o{{"container_id", r.container_id}, {"container_name", r.container_name}, {"host_id", r.host_id},
                 {"reason", r.reason}, {"attempt", r.attempt}, {"max_restarts", r.max_restarts}, {"ok", r.ok},
                 {"gave_up", r.gave_up}, {"timestamp", r.timestamp}};
  if (!r.error.empty()) o["error"] = r.error;
  return event_frame("auto_restart", std::move(o));
}

result<auto_restart_report> parse_auto_restart(const json::object& p) {
  auto_restart_report r;
  r.container_id = string_field(p, "container_id");
  if (!valid_container_id(r.container_id)) return fail("container_id must be a container id");
  r.container_name = sanitize_text(string_field(p, "container_name"), 256);
  r.host_id = sanitize_text(string_field(p, "host_id"), 64);
  r.reason = string_field(p, "reason");
  if (r.reason != "health_check" && r.reason != "exited") return fail("reason must be health_check or exited");
  auto attempt = whole(p, "attempt", 0, 0, 1000);
  auto max = whole(p, "max_restarts", 0, 0, 1000);
  auto ok = flag(p, "ok", false);
  auto gave_up = flag(p, "gave_up", false);
  if (!attempt || !max || !ok || !gave_up) return fail("attempt, max_restarts, ok and gave_up must be numbers and flags in range");
  r.attempt = *attempt;
  r.max_restarts = *max;
  r.ok = *ok;
  r.gave_up = *gave_up;
  r.error = sanitize_text(string_field(p, "error"), 1024);
  r.timestamp = sanitize_text(string_field(p, "timestamp"), 64);
  return r;
}

result<health_check_result> parse_health_check_result(const json::object& p) {
  health_check_result r;
  r.container_id = string_field(p, "container_id");
  if (!valid_container_id(r.container_id)) return fail("container_id must be a container id");
  r.host_id = sanitize_text(string_field(p, "host_id"), 64);
  const auto* healthy = p.if_contains("healthy");
  if (healthy == nullptr || !healthy->is_bool()) return fail("healthy must be true or false");
  r.healthy = healthy->as_bool();
  auto code = whole(p, "status_code", 0, 0, 999);
  auto took = whole(p, "response_time_ms", 0, 0, 3600 * 1000);
  if (!code || !took) return fail("status_code and response_time_ms must be whole numbers in range");
  r.status_code = *code;
  r.response_time_ms = *took;
  r.error_message = sanitize_text(string_field(p, "error_message"), 1024);
  r.timestamp = sanitize_text(string_field(p, "timestamp"), 64);
  r.state = string_field(p, "state");
  r.container_name = sanitize_text(string_field(p, "container_name"), 256);
  if (!r.state.empty() && r.state != "healthy" && r.state != "unhealthy" && r.state != "unknown" && r.state != "stopped")
    return fail("state must be healthy, unhealthy, unknown or stopped");
  auto failures = whole(p, "consecutive_failures", 0, 0, 1 << 30);
  auto restarts = whole(p, "restarts", 0, 0, 1000);
  auto gave_up = flag(p, "gave_up", false);
  if (!failures || !restarts || !gave_up) return fail("consecutive_failures, restarts and gave_up must be numbers and a flag in range");
  r.consecutive_failures = *failures;
  r.restarts = *restarts;
  r.gave_up = *gave_up;
  if (const auto* recent = p.if_contains("recent_ms"); recent != nullptr && !recent->is_null()) {
    if (!recent->is_array() || recent->as_array().size() > 512) return fail("recent_ms must be a list of at most 512 numbers");
    for (const auto& ms : recent->as_array()) {
      if (!ms.is_int64() || ms.as_int64() < -1 || ms.as_int64() > 3600 * 1000) return fail("recent_ms holds a number out of range");
      r.recent_ms.push_back(ms.as_int64());
    }
  }
  return r;
}

}  // namespace dockmon::protocol
