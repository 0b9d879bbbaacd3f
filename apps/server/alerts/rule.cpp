// Rule definitions: every field bounded, every kind's defaults chosen so that a rule made with only a kind
// is quiet (a restart loop needs 3 restarts in 5 minutes, a host is down after 60 s, 5 minutes between
// messages).
#include "alerts/rule.hpp"

#include "dockmon/common/time.hpp"

#include <algorithm>
#include <array>

namespace dockmon::server::alerts {

namespace {

struct kind_info {
  rule_kind kind;
  std::string_view name;
};

constexpr std::array kinds{
    kind_info{rule_kind::container_stopped, "container_stopped"},
    kind_info{rule_kind::container_started, "container_started"},
    kind_info{rule_kind::container_restarting, "container_restarting"},
    kind_info{rule_kind::container_unhealthy, "container_unhealthy"},
    kind_info{rule_kind::container_oom, "container_oom"},
    kind_info{rule_kind::host_down, "host_down"},
    kind_info{rule_kind::cpu_high, "cpu_high"},
    kind_info{rule_kind::memory_high, "memory_high"},
    kind_info{rule_kind::disk_low, "disk_low"},
    kind_info{rule_kind::update_completed, "update_completed"},
    kind_info{rule_kind::update_failed, "update_failed"},
    kind_info{rule_kind::self_update_failed, "self_update_failed"},
    kind_info{rule_kind::health_check_failed, "health_check_failed"},
    kind_info{rule_kind::auto_restart_gave_up, "auto_restart_gave_up"},
    kind_info{rule_kind::update_available, "update_available"},
};

constexpr std::int64_t longest_span = 7 * 24 * 3600;  // a week, for every duration a rule takes

// A whole number of seconds from 0 to a week, or the default when absent.
std::optional<std::string> read_seconds(const json::object& d, std::string_view key, seconds& out) {
  const auto* v = d.if_contains(key);
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (!v->is_int64() || v->as_int64() < 0 || v->as_int64() > longest_span)
    return std::string(key) + " must be a whole number of seconds from 0 to 604800";
  out = seconds(v->as_int64());
  return std::nullopt;
}

std::optional<std::string> read_text(const json::object& d, std::string_view key, std::string& out, std::size_t longest) {
  const auto* v = d.if_contains(key);
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (!v->is_string() || v->get_string().size() > longest)
    return std::string(key) + " must be text of at most " + std::to_string(longest) + " characters";
  out = std::string(v->get_string());
  return std::nullopt;
}

std::optional<std::string> read_flag(const json::object& d, std::string_view key, bool& out) {
  const auto* v = d.if_contains(key);
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (!v->is_bool()) return std::string(key) + " must be true or false";
  out = v->get_bool();
  return std::nullopt;
}

std::optional<std::string> read_scope(const json::object& d, alerts::scope& out) {
  const auto* v = d.if_contains("scope");
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (!v->is_object()) return "scope must be an object: {hosts, name, label, tag}";
  const auto& s = v->get_object();
  if (const auto* hosts = s.if_contains("hosts"); hosts != nullptr && !hosts->is_null()) {
    if (!hosts->is_array() || hosts->get_array().size() > 1000) return "scope.hosts must be a list of at most 1000 host ids";
    for (const auto& h : hosts->get_array()) {
      if (!h.is_string() || h.get_string().empty() || h.get_string().size() > 64) return "scope.hosts must hold host ids";
      out.host_ids.emplace_back(h.get_string());
    }
  }
  for (auto [key, target] : {std::pair{"name", &out.name_pattern}, std::pair{"label", &out.label}, std::pair{"tag", &out.tag}}) {
    if (auto error = read_text(s, key, *target, 256)) return "scope." + *error;
  }
  return std::nullopt;
}

std::optional<std::string> read_channels(const json::object& d, std::vector<std::string>& out) {
  const auto* v = d.if_contains("channel_ids");
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (!v->is_array() || v->get_array().size() > 20) return "channel_ids must be a list of at most 20 channel ids";
  for (const auto& c : v->get_array()) {
    if (!c.is_string() || c.get_string().empty() || c.get_string().size() > 64) return "channel_ids must hold channel ids";
    if (std::find(out.begin(), out.end(), c.get_string()) == out.end()) out.emplace_back(c.get_string());
  }
  return std::nullopt;
}

// threshold_percent (90 unless given; above 0, at most `highest`) and clear_percent (`gap` under it
// unless given): fires above the one and clears only below the other, so a value at the line does not flap.
std::optional<std::string> read_threshold(const json::object& d, double highest, double gap, threshold& out) {
  auto percent = [&d, highest](std::string_view key, double fallback) -> std::optional<double> {
    const auto* v = d.if_contains(key);
    if (v == nullptr || v->is_null()) return fallback;
    if (!v->is_number()) return std::nullopt;
    const double value = v->to_number<double>();
    if (value < 0 || value > highest) return std::nullopt;
    return value;
  };
  const auto above = percent("threshold_percent", 90);
  if (!above || *above <= 0)
    return "threshold_percent must be a number above 0 and at most " + std::to_string(static_cast<int>(highest));
  const auto below = percent("clear_percent", std::max(0.0, *above - gap));
  if (!below || *below > *above) return std::string("clear_percent must be a number from 0 to threshold_percent");
  out = threshold{*above, *below};
  return std::nullopt;
}

// A metric rule's target ("container" or "host") and thresholds: fires above threshold_percent, clears
// below clear_percent (10 under the threshold unless given), so a value at the line does not flap.
std::optional<std::string> read_metric(const json::object& d, rule& r) {
  if (!is_metric_kind(r.kind)) return std::nullopt;
  std::string target = "container";
  if (auto error = read_text(d, "target", target, 16)) return error;
  if (target != "container" && target != "host") return std::string("target must be container or host");
  r.on_hosts = target == "host";
  return read_threshold(d, 10000, 10, r.limit);  // a container's CPU may be several cores' worth
}

// A disk rule's mount points and thresholds: fires above threshold_percent used (90), clears below
// clear_percent (5 under the threshold unless given).
std::optional<std::string> read_disk(const json::object& d, rule& r) {
  if (r.kind != rule_kind::disk_low) return std::nullopt;
  if (auto error = read_text(d, "mount", r.mount_pattern, 256)) return error;
  if (r.mount_pattern.empty()) r.mount_pattern = "*";
  return read_threshold(d, 100, 5, r.limit);
}

// Quiet defaults per kind; the definition may change each.
noise_controls defaults_for(rule_kind kind) {
  noise_controls c;
  switch (kind) {
    case rule_kind::container_restarting:
      c.occurrences = 3;
      c.window = seconds(300);
      c.clear_after = seconds(60);
      break;
    case rule_kind::host_down:
    case rule_kind::disk_low: c.fire_after = seconds(60); break;
    case rule_kind::cpu_high:
    case rule_kind::memory_high: c.fire_after = seconds(300); break;
    case rule_kind::container_started:
    case rule_kind::container_oom:
    case rule_kind::update_completed:
    case rule_kind::update_failed:
    case rule_kind::self_update_failed:
    case rule_kind::update_available: c.one_shot = true; break;
    case rule_kind::container_stopped:
    case rule_kind::container_unhealthy:
    case rule_kind::health_check_failed:
    case rule_kind::auto_restart_gave_up: break;  // firing until the check is healthy again (or its container stopped)
  }
  return c;
}

// DESIGN.md section 11 names some fields otherwise ({scope:{host_ids, container_pattern, labels, tags},
// threshold, duration_s, ...}): those names are taken as well, and win over ours (a PATCH that says
// `threshold` changes a stored `threshold_percent`).
std::variant<json::object, std::string> with_contract_names(json::object d) {
  static constexpr std::pair<std::string_view, std::string_view> top[] = {
      {"threshold", "threshold_percent"},      {"clear_threshold", "clear_percent"}, {"duration_s", "fire_after_seconds"},
      {"window_s", "window_seconds"},          {"clear_delay_s", "clear_after_seconds"}, {"cooldown_s", "cooldown_seconds"}};
  for (auto [alias, name] : top) {
    if (auto* v = d.if_contains(alias); v != nullptr) d[name] = *v;
    d.erase(alias);
  }
  auto* scope = d.if_contains("scope");
  if (scope == nullptr || !scope->is_object()) return d;
  auto& s = scope->as_object();
  if (auto* v = s.if_contains("host_ids")) s["hosts"] = *v;
  if (auto* v = s.if_contains("container_pattern")) s["name"] = *v;
  // One tag and one label per rule: a list of one is that one.
  if (auto* v = s.if_contains("tags"); v != nullptr && !v->is_null()) {
    if (!v->is_array() || v->as_array().size() > 1) return std::string("scope.tags takes one tag (a list of at most one)");
    if (!v->as_array().empty()) s["tag"] = v->as_array()[0];
  }
  if (auto* v = s.if_contains("labels"); v != nullptr && !v->is_null()) {
    if (v->is_object() && v->as_object().size() <= 1) {
      for (const auto& [key, value] : v->as_object()) {
        if (!value.is_string() && !value.is_null()) return std::string("scope.labels values must be text");
        s["label"] = std::string(key) + (value.is_string() && !value.as_string().empty() ? "=" + std::string(value.as_string()) : "");
      }
    } else if (v->is_array() && v->as_array().size() <= 1) {
      if (!v->as_array().empty()) s["label"] = v->as_array()[0];
    } else {
      return std::string("scope.labels takes one label: {\"key\": \"value\"} or [\"key=value\"]");
    }
  }
  for (const char* alias : {"host_ids", "container_pattern", "tags", "labels"}) s.erase(alias);
  return d;
}

}  // namespace

std::string_view kind_name(rule_kind k) {
  for (const auto& info : kinds)
    if (info.kind == k) return info.name;
  return "?";
}

bool is_metric_kind(rule_kind k) { return k == rule_kind::cpu_high || k == rule_kind::memory_high; }

std::variant<rule, std::string> parse_rule(std::string id, std::string name, const json::value& definition) {
  if (!definition.is_object()) return std::string("the definition must be a JSON object");
  auto named = with_contract_names(definition.get_object());
  if (auto* error = std::get_if<std::string>(&named)) return *error;
  const auto& d = std::get<json::object>(named);
  rule r;
  r.id = std::move(id);
  r.name = std::move(name);
  std::string kind;
  if (auto error = read_text(d, "kind", kind, 64)) return *error;
  bool known = false;
  for (const auto& info : kinds) {
    if (info.name != kind) continue;
    r.kind = info.kind;
    known = true;
  }
  if (!known) {
    std::string names;
    for (const auto& info : kinds) names += (names.empty() ? "" : ", ") + std::string(info.name);
    return "kind must be one of " + names;
  }
  // News rather than trouble, unless the rule says otherwise.
  if (r.kind == rule_kind::update_completed || r.kind == rule_kind::update_available) r.severity = "info";
  if (auto error = read_text(d, "severity", r.severity, 16)) return *error;
  if (r.severity != "info" && r.severity != "warning" && r.severity != "error" && r.severity != "critical")
    return std::string("severity must be info, warning, error or critical");
  if (auto error = read_scope(d, r.scope)) return *error;
  if (auto error = read_metric(d, r)) return *error;
  if (auto error = read_disk(d, r)) return *error;
  if (r.watches_hosts() && (!r.scope.name_pattern.empty() || !r.scope.label.empty()))
    return std::string("a host rule's scope takes hosts and tag, not a container name or label");
  r.controls = defaults_for(r.kind);
  auto& c = r.controls;
  for (auto [key, target] : {std::pair{"fire_after_seconds", &c.fire_after}, std::pair{"window_seconds", &c.window},
                             std::pair{"clear_after_seconds", &c.clear_after}, std::pair{"cooldown_seconds", &c.cooldown}}) {
    if (auto error = read_seconds(d, key, *target)) return *error;
  }
  if (const auto* n = d.if_contains("occurrences"); n != nullptr && !n->is_null()) {
    if (!n->is_int64() || n->as_int64() < 1 || n->as_int64() > 1000) return std::string("occurrences must be 1 to 1000");
    c.occurrences = static_cast<unsigned>(n->as_int64());
  }
  if (auto error = read_flag(d, "notify_on_resolve", c.notify_on_resolve)) return *error;
  if (auto error = read_flag(d, "only_unexpected", r.only_unexpected)) return *error;
  if (auto error = read_channels(d, r.channel_ids)) return *error;
  if (auto error = read_text(d, "template", r.message_template, 2000)) return *error;
  if (const auto* v = d.if_contains("snoozed_until"); v != nullptr && !v->is_null()) {
    const auto until = v->is_string() ? parse_iso8601(v->get_string()) : std::nullopt;
    if (!until) return std::string("snoozed_until must be an ISO 8601 time or null");
    r.snoozed_until = *until;
  }
  return r;
}

json::object definition_json(const rule& r) {
  json::object scope;
  json::array hosts;
  for (const auto& h : r.scope.host_ids) hosts.emplace_back(h);
  scope["hosts"] = std::move(hosts);
  scope["name"] = r.scope.name_pattern;
  scope["label"] = r.scope.label;
  scope["tag"] = r.scope.tag;
  json::object d;
  d["kind"] = kind_name(r.kind);
  d["severity"] = r.severity;
  d["scope"] = std::move(scope);
  d["fire_after_seconds"] = r.controls.fire_after.count();
  d["occurrences"] = r.controls.occurrences;
  d["window_seconds"] = r.controls.window.count();
  d["clear_after_seconds"] = r.controls.clear_after.count();
  d["cooldown_seconds"] = r.controls.cooldown.count();
  d["notify_on_resolve"] = r.controls.notify_on_resolve;
  json::array channels;
  for (const auto& c : r.channel_ids) channels.emplace_back(c);
  d["channel_ids"] = std::move(channels);
  d["template"] = r.message_template;
  if (r.kind == rule_kind::container_stopped) d["only_unexpected"] = r.only_unexpected;
  if (is_metric_kind(r.kind)) {
    d["target"] = r.on_hosts ? "host" : "container";
    d["threshold_percent"] = r.limit.above;
    d["clear_percent"] = r.limit.clear_below;
  }
  if (r.kind == rule_kind::disk_low) {
    d["mount"] = r.mount_pattern;
    d["threshold_percent"] = r.limit.above;
    d["clear_percent"] = r.limit.clear_below;
  }
  d["snoozed_until"] = r.snoozed_until == time_point{} ? json::value(nullptr) : json::value(to_iso8601(r.snoozed_until));
  return d;
}

}  // namespace dockmon::server::alerts
