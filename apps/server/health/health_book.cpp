// Health checks by host and name: pushes to agents, results in, changes out.
#include "health/health_book.hpp"

#include "dockmon/common/time.hpp"

namespace dockmon::server {

namespace {

std::string short_id(const std::string& id) { return id.substr(0, 12); }

protocol::health_check_config wire_config(const health_entry& e) {
  auto c = e.settings.config;
  c.container_id = e.container_id;
  c.host_id = e.host_id;
  return c;
}

bool runs_on_agent(const health_entry& e) { return e.settings.check_from == "agent"; }

}  // namespace

void health_book::put(const std::string& host_id, const std::string& container_name, check_settings settings, std::string updated_at) {
  auto& e = entries_[{host_id, container_name}];
  const bool fresh = e.host_id.empty();
  e.host_id = host_id;
  e.container_name = container_name;
  e.settings = std::move(settings);
  e.updated_at = std::move(updated_at);
  // A changed check starts over: its old state said nothing of the new settings.
  if (!fresh) {
    e.state = "unknown";
    e.consecutive_failures = 0;
    e.gave_up = false;
    e.own.reset();
  }
}

bool health_book::remove(const std::string& host_id, const std::string& container_name) {
  return entries_.erase({host_id, container_name}) > 0;
}

const health_entry* health_book::find(const std::string& host_id, const std::string& container_name) const {
  auto found = entries_.find({host_id, container_name});
  return found != entries_.end() ? &found->second : nullptr;
}

const health_entry* health_book::find_ref(const std::string& host_id, const std::string& ref) const {
  if (const auto* e = find(host_id, ref)) return e;
  if (ref.size() < 12) return nullptr;
  for (auto it = entries_.lower_bound({host_id, {}}); it != entries_.end() && it->first.first == host_id; ++it)
    if (!it->second.container_id.empty() && ref.starts_with(it->second.container_id)) return &it->second;
  return nullptr;
}

std::vector<const health_entry*> health_book::of_host(const std::string& host_id) const {
  std::vector<const health_entry*> out;
  for (auto it = entries_.lower_bound({host_id, {}}); it != entries_.end() && it->first.first == host_id; ++it) out.push_back(&it->second);
  return out;
}

std::vector<const health_entry*> health_book::server_checks() const {
  std::vector<const health_entry*> out;
  for (const auto& [key, e] : entries_)
    if (!runs_on_agent(e)) out.push_back(&e);
  return out;
}

std::size_t health_book::count_on(const std::string& host_id) const { return of_host(host_id).size(); }

health_entry* health_book::by_container(const std::string& host_id, const std::string& container_id, const std::string& name) {
  for (auto it = entries_.lower_bound({host_id, {}}); it != entries_.end() && it->first.first == host_id; ++it)
    if (!it->second.container_id.empty() && short_id(container_id) == it->second.container_id) return &it->second;
  auto named = entries_.find({host_id, name});
  if (name.empty() || named == entries_.end()) return nullptr;
  if (named->second.container_id.empty()) named->second.container_id = short_id(container_id);
  return named->second.container_id == short_id(container_id) ? &named->second : nullptr;
}

json::object health_book::sync_frame(const std::string& host_id, const std::map<std::string, std::string>& id_by_name) {
  std::vector<protocol::health_check_config> configs;
  for (auto it = entries_.lower_bound({host_id, {}}); it != entries_.end() && it->first.first == host_id; ++it) {
    auto& e = it->second;
    auto id = id_by_name.find(e.container_name);
    e.container_id = id != id_by_name.end() ? short_id(id->second) : std::string();  // none of that name now
    e.container_full_id = id != id_by_name.end() ? id->second : std::string();
    if (runs_on_agent(e) && !e.container_id.empty()) configs.push_back(wire_config(e));
  }
  return protocol::health_check_configs_sync_frame(configs);
}

std::vector<json::object> health_book::container_seen(const std::string& host_id, const std::string& container_id, const std::string& name) {
  std::vector<json::object> frames;
  auto found = entries_.find({host_id, name});
  if (found == entries_.end()) return frames;
  if (found->second.container_id == short_id(container_id)) {
    if (container_id.size() == 64) found->second.container_full_id = container_id;
    return frames;
  }
  auto& e = found->second;
  if (runs_on_agent(e) && !e.container_id.empty()) frames.push_back(protocol::health_check_config_remove_frame(e.container_id));
  e.container_id = short_id(container_id);
  e.container_full_id = container_id.size() == 64 ? container_id : std::string();
  if (runs_on_agent(e)) frames.push_back(protocol::health_check_config_frame(wire_config(e)));
  return frames;
}

std::optional<json::object> health_book::push_frame(const std::string& host_id, const std::string& container_name) const {
  const auto* e = find(host_id, container_name);
  if (e == nullptr || e->container_id.empty()) return std::nullopt;
  if (!runs_on_agent(*e)) return protocol::health_check_config_remove_frame(e->container_id);
  return protocol::health_check_config_frame(wire_config(*e));
}

health_change health_book::change(const health_entry& e, std::string action, json::object attributes) const {
  return health_change{e.host_id, e.container_full_id.empty() ? e.container_id : e.container_full_id, e.container_name,
                       std::move(action), std::move(attributes)};
}

std::optional<health_change> health_book::on_result(const std::string& host_id, const protocol::health_check_result& r) {
  auto* e = by_container(host_id, r.container_id, r.container_name);
  if (e == nullptr) return std::nullopt;  // a check this server no longer has
  e->last = r;
  std::string state = r.state;
  if (state.empty()) {
    // DockMon's agent: every probe; the thresholds are applied here (restarts are not: it has none).
    if (!e->own) e->own.emplace(health::policy_of(e->settings.config));
    e->own->observe(r.healthy);
    state = std::string(e->own->state_name());
    e->consecutive_failures = e->own->consecutive_failures();
    if (e->recent.size() >= max_recent) e->recent.pop_front();
    e->recent.push_back({r.timestamp, r.healthy, r.response_time_ms});
  } else {
    e->consecutive_failures = r.consecutive_failures;
    e->restarts = r.restarts;
    e->gave_up = r.gave_up;
  }
  if (state == e->state) return std::nullopt;
  const bool worth_an_event = state != "unknown" && !(e->state == "unknown" && state == "stopped");
  e->state = state;
  if (!worth_an_event) return std::nullopt;
  json::object attributes{{"url", e->settings.config.url}};
  if (!r.error_message.empty()) attributes["error"] = r.error_message;
  if (r.status_code != 0) attributes["status_code"] = r.status_code;
  if (state == "unhealthy") attributes["failures"] = e->consecutive_failures;
  return change(*e, state, std::move(attributes));
}

std::vector<health_change> health_book::on_summary(const std::string& host_id, const std::vector<protocol::health_check_result>& checks) {
  std::vector<health_change> changes;
  for (const auto& r : checks) {
    auto* e = by_container(host_id, r.container_id, r.container_name);
    if (e == nullptr) continue;
    const auto at = parse_iso8601(r.timestamp).value_or(sys_clock::now());
    const auto step = std::chrono::seconds(e->settings.config.check_interval_seconds);
    const auto n = static_cast<std::int64_t>(r.recent_ms.size());
    for (std::int64_t i = 0; i < n; ++i) {
      if (e->recent.size() >= max_recent) e->recent.pop_front();
      const auto ms = r.recent_ms[static_cast<std::size_t>(i)];
      e->recent.push_back({to_iso8601(at - step * (n - 1 - i)), ms >= 0, std::max<std::int64_t>(ms, 0)});
    }
    // A state change the agent sent while this server was away reaches it here at the latest.
    if (auto c = on_result(host_id, r)) changes.push_back(std::move(*c));
  }
  return changes;
}

std::optional<health_change> health_book::on_restart(const std::string& host_id, const protocol::auto_restart_report& r) {
  auto* e = by_container(host_id, r.container_id, r.container_name);
  if (e == nullptr) return std::nullopt;
  if (e->restart_log.size() >= max_restart_log) e->restart_log.pop_front();
  e->restart_log.push_back({r.timestamp, r.reason, r.error, r.attempt, r.ok, r.gave_up});
  if (r.gave_up) e->gave_up = true;
  else e->restarts = r.attempt;
  json::object attributes{{"reason", r.reason}, {"attempt", r.attempt}, {"max_restarts", r.max_restarts}};
  if (!r.error.empty()) attributes["error"] = r.error;
  return change(*e, r.gave_up ? "gave_up" : r.ok ? "auto_restart" : "restart_failed", std::move(attributes));
}

json::object health_book::status_json(const health_entry& e) {
  json::object o;
  o["host_id"] = e.host_id;
  o["container_name"] = e.container_name;
  o["container_id"] = e.container_id.empty() ? json::value(nullptr) : json::value(e.container_id);
  o["config"] = settings_json(e.settings);
  o["updated_at"] = e.updated_at;
  o["state"] = e.settings.config.enabled ? e.state : "paused";
  o["healthy"] = e.state == "healthy" ? json::value(true) : e.state == "unhealthy" ? json::value(false) : json::value(nullptr);
  o["consecutive_failures"] = e.consecutive_failures;
  o["restarts"] = e.restarts;
  o["gave_up"] = e.gave_up;
  if (e.last) {
    json::object last{{"timestamp", e.last->timestamp}, {"healthy", e.last->healthy}, {"response_time_ms", e.last->response_time_ms}};
    if (e.last->status_code != 0) last["status_code"] = e.last->status_code;
    if (!e.last->error_message.empty()) last["error"] = e.last->error_message;
    o["last"] = std::move(last);
  } else {
    o["last"] = nullptr;
  }
  json::array results;
  for (const auto& p : e.recent) results.push_back(json::object{{"timestamp", p.timestamp}, {"healthy", p.healthy}, {"response_time_ms", p.response_time_ms}});
  o["last_results"] = std::move(results);
  json::array restarts;
  for (const auto& r : e.restart_log) {
    json::object one{{"timestamp", r.timestamp}, {"reason", r.reason}, {"attempt", r.attempt}, {"ok", r.ok}, {"gave_up", r.gave_up}};
    if (!r.error.empty()) one["error"] = r.error;
    restarts.push_back(std::move(one));
  }
  o["restart_log"] = std::move(restarts);
  return o;
}

}  // namespace dockmon::server
