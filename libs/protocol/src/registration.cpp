// Registration frame validation and the auth replies.
#include "dockmon/protocol/registration.hpp"

#include "dockmon/common/json_fields.hpp"

#include <array>

namespace dockmon::protocol {

namespace {

protocol_error fail(std::string message) { return protocol_error::because(std::move(message)); }

constexpr std::size_t max_text = 255;
constexpr std::size_t max_host_ips = 64;
constexpr std::size_t max_capabilities = 64;

constexpr std::array known_fields = {
    "type",          "token",          "engine_id",         "hostname",        "version",
    "proto_version", "capabilities",   "os_type",           "os_version",      "kernel_version",
    "docker_version", "daemon_started_at", "total_memory",  "num_cpus",        "hostname_source",
    "force_unique_registration", "agent_os", "agent_arch",   "host_ips",        "host_ip",
};

bool is_known(std::string_view key) {
  for (std::string_view k : known_fields)
    if (k == key) return true;
  return false;
}

result<std::string> identifier(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  if (v == nullptr || !v->is_string()) return fail(std::string(key) + " is required and must be a string");
  std::string_view s = v->get_string();
  if (s.empty() || s.size() > max_token_length || !valid_identifier(s))
    return fail(std::string(key) + " must be 1-255 characters of A-Z a-z 0-9 _ : -");
  return std::string(s);
}

result<std::string> text(const json::object& o, std::string_view key, std::size_t max_length = max_text) {
  auto* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return std::string();
  if (!v->is_string()) return fail(std::string(key) + " must be a string");
  return sanitize_text(v->get_string(), max_length);
}

result<std::int64_t> bounded_int(const json::object& o, std::string_view key, std::int64_t max) {
  auto* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return std::int64_t{0};
  std::int64_t n = 0;
  if (v->is_int64()) n = v->get_int64();
  else if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(max)) n = static_cast<std::int64_t>(v->get_uint64());
  else if (v->is_double() && v->get_double() == static_cast<double>(static_cast<std::int64_t>(v->get_double())) &&
           v->get_double() >= 1 && v->get_double() <= static_cast<double>(max))
    n = static_cast<std::int64_t>(v->get_double());
  else return fail(std::string(key) + " must be a whole number between 1 and " + std::to_string(max));
  if (n < 1 || n > max) return fail(std::string(key) + " must be between 1 and " + std::to_string(max));
  return n;
}

}  // namespace

bool valid_identifier(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string sanitize_text(std::string_view s, std::size_t max_length) {
  std::string out;
  out.reserve(std::min(s.size(), max_length));
  for (std::size_t i = 0; i < s.size() && out.size() < max_length;) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c >= 0x20 && c != 0x7f && c != '<' && c != '>') out.push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    // Keep well-formed UTF-8 sequences whole (hostnames can be non-ASCII); drop stray bytes.
    std::size_t len = (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
    bool whole = len > 0 && i + len <= s.size();
    for (std::size_t k = 1; whole && k < len; ++k)
      whole = (static_cast<unsigned char>(s[i + k]) & 0xc0) == 0x80;
    if (whole && out.size() + len <= max_length) out.append(s.substr(i, len));
    else if (whole) break;
    i += whole ? len : 1;
  }
  return out;
}

result<register_frame> parse_register(const json::value& frame) {
  if (!frame.is_object()) return fail("registration must be a JSON object");
  const auto& o = frame.get_object();
  for (const auto& kv : o)
    if (!is_known(kv.key())) return fail("unknown field in registration");
  auto* type = o.if_contains("type");
  if (type == nullptr || !type->is_string() || type->get_string() != "register")
    return fail("first message must be of type register");

  register_frame f;
  auto token = identifier(o, "token");
  if (!token) return token.error();
  f.token = std::move(*token);
  auto engine = identifier(o, "engine_id");
  if (!engine) return engine.error();
  f.engine_id = std::move(*engine);

  struct text_field {
    const char* key;
    std::string register_frame::*member;
    std::size_t max;
  };
  static const text_field texts[] = {
      {"hostname", &register_frame::hostname, max_text},
      {"version", &register_frame::version, 64},
      {"proto_version", &register_frame::proto_version, 16},
      {"os_type", &register_frame::os_type, 64},
      {"os_version", &register_frame::os_version, max_text},
      {"kernel_version", &register_frame::kernel_version, max_text},
      {"docker_version", &register_frame::docker_version, 64},
      {"daemon_started_at", &register_frame::daemon_started_at, 64},
      {"hostname_source", &register_frame::hostname_source, 64},
      {"agent_os", &register_frame::agent_os, 64},
      {"agent_arch", &register_frame::agent_arch, 64},
      {"host_ip", &register_frame::host_ip, 64},
  };
  for (const auto& t : texts) {
    auto value = text(o, t.key, t.max);
    if (!value) return value.error();
    f.*t.member = std::move(*value);
  }

  auto memory = bounded_int(o, "total_memory", max_total_memory);
  if (!memory) return memory.error();
  f.total_memory = *memory;
  auto cpus = bounded_int(o, "num_cpus", max_num_cpus);
  if (!cpus) return cpus.error();
  f.num_cpus = *cpus;

  if (auto* caps = o.if_contains("capabilities"); caps != nullptr && !caps->is_null()) {
    if (!caps->is_object()) return fail("capabilities must be an object");
    if (caps->get_object().size() > max_capabilities) return fail("too many capabilities");
    for (const auto& kv : caps->get_object()) {
      if (!kv.value().is_bool()) return fail("capabilities values must be booleans");
      if (kv.key().size() > 64 || !valid_identifier(kv.key())) return fail("capability names must be identifiers");
      f.capabilities[kv.key()] = kv.value();
    }
  }
  if (auto* force = o.if_contains("force_unique_registration"); force != nullptr && !force->is_null()) {
    if (!force->is_bool()) return fail("force_unique_registration must be a boolean");
    f.force_unique_registration = force->get_bool();
  }
  if (auto* ips = o.if_contains("host_ips"); ips != nullptr && !ips->is_null()) {
    if (!ips->is_array()) return fail("host_ips must be an array of strings");
    if (ips->get_array().size() > max_host_ips) return fail("too many host_ips");
    for (const auto& ip : ips->get_array()) {
      if (!ip.is_string()) return fail("host_ips must be an array of strings");
      f.host_ips.push_back(sanitize_text(ip.get_string(), 64));
    }
  }
  return f;
}

result<register_frame> parse_register(std::string_view text) {
  error_code ec;
  auto value = json::parse(text, ec);
  if (ec) return fail("registration is not valid JSON");
  return parse_register(value);
}

json::object to_json(const register_frame& f) {
  json::object o;
  o["type"] = "register";
  o["token"] = f.token;
  o["engine_id"] = f.engine_id;
  o["hostname"] = f.hostname;
  o["version"] = f.version;
  o["proto_version"] = f.proto_version;
  o["capabilities"] = f.capabilities;
  o["os_type"] = f.os_type;
  o["os_version"] = f.os_version;
  o["kernel_version"] = f.kernel_version;
  o["docker_version"] = f.docker_version;
  o["daemon_started_at"] = f.daemon_started_at;
  if (f.total_memory > 0) o["total_memory"] = f.total_memory;
  if (f.num_cpus > 0) o["num_cpus"] = f.num_cpus;
  if (!f.agent_os.empty()) o["agent_os"] = f.agent_os;
  if (!f.agent_arch.empty()) o["agent_arch"] = f.agent_arch;
  if (!f.hostname_source.empty()) o["hostname_source"] = f.hostname_source;
  if (f.force_unique_registration) o["force_unique_registration"] = true;
  return o;
}

json::object to_json(const auth_success& s) {
  json::object o;
  o["type"] = "auth_success";
  o["agent_id"] = s.agent_id;
  o["host_id"] = s.host_id;
  o["permanent_token"] = s.permanent_token;
  if (!s.server_version.empty()) o["server_version"] = s.server_version;
  if (s.stats_batch) o["stats_batch"] = true;
  if (s.host_filesystems) o["host_filesystems"] = true;
  if (s.health_thresholds) o["health_thresholds"] = true;
  return o;
}

json::object auth_error_frame(std::string_view error) {
  json::object o;
  o["type"] = "auth_error";
  o["error"] = error;
  return o;
}

result<auth_reply> parse_auth_reply(const json::value& frame) {
  if (!frame.is_object()) return fail("auth reply must be a JSON object");
  const auto& o = frame.get_object();
  auto* type = o.if_contains("type");
  if (type == nullptr || !type->is_string()) return fail("auth reply has no type");
  auth_reply reply;
  if (type->get_string() == "auth_error") {
    reply.error = sanitize_text(string_field(o, "error"), 1024);
    if (reply.error.empty()) reply.error = "registration refused";
    return reply;
  }
  if (type->get_string() != "auth_success") return fail("expected auth_success or auth_error");
  reply.ok = true;
  reply.success.agent_id = string_field(o, "agent_id");
  reply.success.host_id = string_field(o, "host_id");
  reply.success.permanent_token = string_field(o, "permanent_token");
  reply.success.server_version = string_field(o, "server_version");
  if (auto* b = o.if_contains("stats_batch"); b != nullptr && b->is_bool()) reply.success.stats_batch = b->get_bool();
  if (auto* b = o.if_contains("host_filesystems"); b != nullptr && b->is_bool()) reply.success.host_filesystems = b->get_bool();
  if (auto* b = o.if_contains("health_thresholds"); b != nullptr && b->is_bool()) reply.success.health_thresholds = b->get_bool();
  if (reply.success.agent_id.empty()) return fail("auth_success without agent_id");
  if (!reply.success.permanent_token.empty() && !valid_identifier(reply.success.permanent_token))
    return fail("auth_success carries a malformed permanent_token");
  return reply;
}

}  // namespace dockmon::protocol
