// Telemetry ingest, reads, persistence hand-off and the snapshot behind /metrics.
#include "telemetry/live_telemetry.hpp"

#include "dockmon/common/json_fields.hpp"
#include "dockmon/common/time.hpp"
#include "dockmon/common/validate.hpp"
#include "dockmon/protocol/registration.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <optional>

namespace dockmon::server {

namespace {

constexpr std::size_t max_containers_per_host = 5000;
constexpr std::size_t max_pending_events = 10000;
constexpr std::size_t max_filesystems_per_host = 64;


// A finite, non-negative number from an agent, or 0.
double number(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  if (v == nullptr || !v->is_number()) return 0;
  error_code ec;
  double d = v->to_number<double>(ec);
  if (ec || !std::isfinite(d) || d < 0) return 0;
  return d;
}

// The host frame's `filesystems`: at most 64, each with an absolute mount point and sizes that add up;
// anything else is left out.
std::optional<std::vector<filesystem_point>> filesystems_of(const json::object& stats) {
  auto* list = stats.if_contains("filesystems");
  if (list == nullptr || !list->is_array()) return std::nullopt;
  std::vector<filesystem_point> out;
  for (const auto& item : list->get_array()) {
    if (out.size() >= max_filesystems_per_host) break;
    if (!item.is_object()) continue;
    filesystem_point fs;
    fs.mount = protocol::sanitize_text(string_field(item.get_object(), "mount"), 512);
    fs.total_bytes = number(item.get_object(), "total_bytes");
    fs.used_bytes = number(item.get_object(), "used_bytes");
    fs.available_bytes = number(item.get_object(), "available_bytes");
    if (!fs.mount.starts_with('/') || fs.total_bytes <= 0 || fs.used_bytes + fs.available_bytes > fs.total_bytes) continue;
    const double usable = fs.used_bytes + fs.available_bytes;
    fs.used_percent = fs.available_bytes > 0 ? fs.used_bytes * 100 / usable : fs.used_bytes * 100 / fs.total_bytes;
    out.push_back(std::move(fs));
  }
  return out;
}

std::int64_t now_seconds() { return unix_seconds(sys_clock::now()); }

json::object point_json(const stats_point& p) {
  json::object o;
  o["timestamp"] = to_iso8601(sys_clock::time_point(std::chrono::seconds(p.t)));
  o["cpu_percent"] = p.cpu_percent;
  o["memory_usage"] = p.memory_usage;
  o["memory_limit"] = p.memory_limit;
  o["memory_percent"] = p.memory_percent;
  o["network_rx"] = p.network_rx;
  o["network_tx"] = p.network_tx;
  o["disk_read"] = p.disk_read;
  o["disk_write"] = p.disk_write;
  o["pids"] = p.pids;
  return o;
}

json::object host_point_json(const stats_point& p) {
  json::object o;
  o["timestamp"] = to_iso8601(sys_clock::time_point(std::chrono::seconds(p.t)));
  o["cpu_percent"] = p.cpu_percent;
  o["mem_percent"] = p.memory_percent;
  o["net_bytes_per_sec"] = p.network_rx;
  return o;
}

// An outcome the server records itself (an update's end), stamped with the server's time.
store::event_record outcome_event(const std::string& host_id, const std::string& container_id, std::string type,
                                  std::string action, const json::object& attributes) {
  store::event_record e;
  e.host_id = host_id;
  e.container_id = container_id;
  e.type = std::move(type);
  e.action = std::move(action);
  e.timestamp = to_iso8601(sys_clock::now(), true);
  e.attributes = json::serialize(attributes);
  return e;
}

std::string container_key(const std::string& host_id, const std::string& container_id) {
  return "ctr:" + host_id + ":" + container_id;
}

// Prometheus label values: backslash, quote and newline escaped.
stats_point from_row(const store::stats_rollup_row& r) {
  stats_point p;
  p.t = r.t;
  p.cpu_percent = r.cpu_percent;
  p.memory_usage = r.memory_usage;
  p.memory_limit = r.memory_limit;
  p.memory_percent = r.memory_percent;
  p.network_rx = r.network_rx;
  p.network_tx = r.network_tx;
  p.disk_read = r.disk_read;
  p.disk_write = r.disk_write;
  p.pids = r.pids;
  return p;
}

// The name an agent gives a container, when it is one Docker would accept; nullopt for anything else,
// which drops the frame: a name goes into pages and links. "/name" (Docker's API form) is accepted.
std::optional<std::string> agent_container_name(const json::object& p, std::string_view key) {
  std::string name = string_field(p, key);
  if (!name.empty() && name.front() == '/') name.erase(0, 1);
  if (name.empty()) return name;
  if (!valid_container_name(name)) return std::nullopt;
  return name;
}

}  // namespace

void live_telemetry::ingest_container(const std::string& host_id, const json::object& p) {
  std::string id = string_field(p, "container_id");
  auto name = agent_container_name(p, "container_name");
  if (!valid_container_id(id) || !name) return;
  if (!limits_[host_id].admit_series(id)) return;
  auto& per_host = containers_[host_id];
  auto it = per_host.find(id);
  if (it == per_host.end()) {
    if (per_host.size() >= max_containers_per_host) return;
    it = per_host.emplace(id, container_latest{}).first;
  }
  auto& latest = it->second;
  latest.name = std::move(*name);
  stats_point& s = latest.point;
  // The server's clock, not the agent's: a host with a wrong clock must not scramble the history.
  s.t = now_seconds();
  s.cpu_percent = number(p, "cpu_percent");
  s.memory_usage = number(p, "memory_usage");
  s.memory_limit = number(p, "memory_limit");
  s.memory_percent = number(p, "memory_percent");
  s.network_rx = number(p, "network_rx");
  s.network_tx = number(p, "network_tx");
  s.disk_read = number(p, "disk_read");
  s.disk_write = number(p, "disk_write");
  s.pids = number(p, "pids");
  history_.add(container_key(host_id, id), s);
  ++samples_ingested_;
  if (sample_listener_) sample_listener_(host_id, id, latest.name, s.cpu_percent, s.memory_percent);

  if (subscribers_.empty()) return;
  json::object frame = point_json(s);
  frame["type"] = "container_stats";
  frame["host_id"] = host_id;
  frame["container_id"] = id;
  frame["container_name"] = latest.name;
  publish(host_id, id, container_key(host_id, id), json::serialize(frame), false);
}

void live_telemetry::on_container_stats(const std::string& host_id, const json::object& payload) {
  ingest_container(host_id, payload);
}

void live_telemetry::on_container_stats_batch(const std::string& host_id, const json::object& payload) {
  auto* list = payload.if_contains("containers");
  if (list == nullptr || !list->is_array()) return;
  std::set<std::string> present;
  std::size_t n = 0;
  for (const auto& c : list->get_array()) {
    if (++n > max_containers_per_host) break;
    if (!c.is_object()) continue;
    ingest_container(host_id, c.get_object());
    present.insert(string_field(c.get_object(), "container_id"));
  }
  // A batch is the whole running set: whoever is missing has stopped.
  auto& per_host = containers_[host_id];
  auto& limits = limits_[host_id];
  const auto now = now_seconds();
  std::erase_if(per_host, [&](const auto& kv) {
    if (present.contains(kv.first)) return false;
    limits.gone(kv.first, now);
    return true;
  });
}

void live_telemetry::on_host_stats(const std::string& host_id, const json::object& stats) {
  stats_point s;
  s.t = now_seconds();
  s.cpu_percent = number(stats, "cpu_percent");
  s.memory_percent = number(stats, "mem_percent");
  s.network_rx = number(stats, "net_bytes_per_sec");
  hosts_[host_id] = s;
  const std::string key = "host:" + host_id;
  history_.add(key, s);
  ++samples_ingested_;
  if (sample_listener_) sample_listener_(host_id, {}, {}, s.cpu_percent, s.memory_percent);
  if (auto disks = filesystems_of(stats)) {
    if (disk_listener_) disk_listener_(host_id, *disks);
    filesystems_[host_id] = std::move(*disks);
  }
  if (subscribers_.empty()) return;
  json::object frame = host_point_json(s);
  frame["type"] = "host_stats";
  frame["host_id"] = host_id;
  publish(host_id, {}, key, json::serialize(frame), false);
}

void live_telemetry::on_container_event(const std::string& host_id, const json::object& payload) {
  store::event_record e;
  e.host_id = host_id;
  e.container_id = string_field(payload, "container_id");
  auto name = agent_container_name(payload, "container_name");
  if (!valid_container_id(e.container_id) || !name) return;
  e.container_name = std::move(*name);
  e.image = protocol::sanitize_text(string_field(payload, "image"), 512);
  e.type = "container";
  e.action = protocol::sanitize_text(string_field(payload, "action"), 128);
  // A healthcheck runs an exec every interval: three events a second per container that say nothing a
  // health_status event does not say better.
  if (e.action.starts_with("exec_")) return;
  if (auto* attrs = payload.if_contains("attributes"); attrs != nullptr && attrs->is_object()) {
    auto text = json::serialize(*attrs);
    e.attributes = text.size() <= 16 * 1024 ? text : "{}";
  } else {
    e.attributes = "{}";
  }
  if (!limits_[host_id].admit_event(e.attributes.size())) return;
  // The agent's time, unless it claims a future (a wrong clock, or an event meant to stay on top).
  const auto now = sys_clock::now();
  auto when = parse_iso8601(string_field(payload, "timestamp"));
  e.timestamp = to_iso8601(when && *when <= now + std::chrono::minutes(5) ? *when : now, true);
  std::string verb = e.action.substr(0, e.action.find(':'));
  if (verb == "die" || verb == "destroy") {
    containers_[host_id].erase(e.container_id);
    limits_[host_id].gone(e.container_id, unix_seconds(now));
  }

  json::object frame;
  frame["type"] = "container_event";
  frame["host_id"] = host_id;
  frame["container_id"] = e.container_id;
  frame["container_name"] = e.container_name;
  frame["image"] = e.image;
  frame["action"] = e.action;
  frame["timestamp"] = e.timestamp;
  publish(host_id, e.container_id, {}, json::serialize(frame), true);
  keep_event(std::move(e));
}

void live_telemetry::containers_listed(const std::string& host_id, const std::vector<std::string>& ids) {
  limits_[host_id].listed(ids, now_seconds());
}

bool live_telemetry::take_list_wanted(const std::string& host_id) {
  auto it = limits_.find(host_id);
  return it != limits_.end() && it->second.take_list_wanted();
}

void live_telemetry::prune_gone_series() {
  const auto now = now_seconds();
  for (auto& [host_id, limits] : limits_) {
    for (const auto& id : limits.take_expired(now)) {
      history_.remove(container_key(host_id, id));
      if (auto c = containers_.find(host_id); c != containers_.end()) c->second.erase(id);
    }
  }
}

std::uint64_t live_telemetry::refused_by_limits() const {
  std::uint64_t n = 0;
  for (const auto& [host_id, limits] : limits_) n += limits.refused_series() + limits.refused_events();
  return n;
}

void live_telemetry::keep_event(store::event_record e) {
  if (event_listener_) event_listener_(e);
  ++events_ingested_;
  if (pending_events_.size() >= max_pending_events) {
    ++events_overflowed_;
    return;
  }
  pending_events_.push_back(std::move(e));
}

void live_telemetry::on_agent_link(const std::string& host_id, bool connected) {
  keep_event(outcome_event(host_id, {}, "agent", connected ? "connected" : "disconnected", json::object{}));
}

void live_telemetry::on_health(const std::string& host_id, const std::string& container_id, const std::string& container_name,
                               const std::string& action, const json::object& attributes) {
  json::object frame{{"type", "health_check"}, {"host_id", host_id}, {"container_id", container_id},
                     {"container_name", container_name}, {"action", action}, {"attributes", attributes},
                     {"timestamp", now_iso8601()}};
  publish(host_id, container_id, {}, json::serialize(frame), true);
  auto e = outcome_event(host_id, container_id, "health", action, attributes);
  e.container_name = container_name;
  keep_event(std::move(e));
}

void live_telemetry::on_update_progress(const std::string& host_id, const json::object& payload) {
  const auto container_id = string_field(payload, "container_id");
  if (!valid_container_id(container_id)) return;
  const auto stage = protocol::sanitize_text(string_field(payload, "stage"), 32);
  const auto message = protocol::sanitize_text(string_field(payload, "message"), 1024);
  const auto error = protocol::sanitize_text(string_field(payload, "error"), 1024);
  json::object frame{{"type", "update_progress"}, {"host_id", host_id}, {"container_id", container_id},
                     {"stage", stage},            {"message", message}, {"timestamp", now_iso8601()}};
  frame["error"] = error.empty() ? json::value(nullptr) : json::value(error);
  if (auto layer = protocol::sanitize_text(string_field(payload, "layer"), 80); !layer.empty()) {
    frame["layer"] = layer;
    frame["current"] = number(payload, "current");
    frame["total"] = number(payload, "total");
    frame["percent"] = std::clamp(number(payload, "percent"), 0.0, 100.0);
  }
  publish(host_id, container_id, {}, json::serialize(frame), true);
  if (stage != "completed" && stage != "failed" && stage != "rollback") return;
  keep_event(outcome_event(host_id, container_id, "update", stage, json::object{{"message", message}, {"error", error}}));
}

void live_telemetry::on_update_complete(const std::string& host_id, const json::object& payload) {
  const auto old_id = string_field(payload, "old_container_id");
  const auto new_id = string_field(payload, "new_container_id");
  const auto named = agent_container_name(payload, "container_name");
  if (!valid_container_id(old_id) || !valid_container_id(new_id) || !named) return;
  const auto& name = *named;
  const auto image = protocol::sanitize_text(string_field(payload, "image"), 512);
  json::object frame{{"type", "update_complete"}, {"host_id", host_id},    {"old_container_id", old_id},
                     {"new_container_id", new_id}, {"container_name", name}, {"image", image}};
  publish(host_id, old_id, {}, json::serialize(frame), true);
  auto e = outcome_event(host_id, new_id, "update", "update_complete",
                         json::object{{"old_container_id", old_id}, {"new_container_id", new_id}});
  e.container_name = name;
  e.image = image;
  keep_event(std::move(e));
}

void live_telemetry::on_selfupdate_progress(const std::string& host_id, const json::object& payload) {
  const auto stage = protocol::sanitize_text(string_field(payload, "stage"), 32);
  const auto message = protocol::sanitize_text(string_field(payload, "message"), 1024);
  const auto error = protocol::sanitize_text(string_field(payload, "error"), 1024);
  const auto version = protocol::sanitize_text(string_field(payload, "version"), 64);
  if (stage.empty()) return;
  json::object frame{{"type", "selfupdate_progress"}, {"host_id", host_id}, {"stage", stage},
                     {"message", message},            {"version", version}, {"timestamp", now_iso8601()}};
  frame["error"] = error.empty() ? json::value(nullptr) : json::value(error);
  publish(host_id, {}, {}, json::serialize(frame), true);
  if (stage != "completed" && stage != "failed" && stage != "rolled_back") return;
  if (error.empty()) spdlog::info("agent of host {} self-update {}: {}", host_id, stage, message);
  else spdlog::warn("agent of host {} self-update {}: {}: {}", host_id, stage, message, error);
  keep_event(outcome_event(host_id, {}, "agent_update", stage,
                           json::object{{"message", message}, {"error", error}, {"version", version}}));
}

void live_telemetry::on_events_dropped(const std::string& host_id, const json::object& payload) {
  auto count = static_cast<std::uint64_t>(number(payload, "count"));
  auto& known = events_dropped_[host_id];
  if (count > known) spdlog::warn("agent of host {} dropped {} events it could not send in time", host_id, count - known);
  known = count;
}

void live_telemetry::publish(const std::string& host_id, const std::string& container_id, const std::string& key,
                             const std::string& frame, bool is_event) {
  std::erase_if(subscribers_, [](const auto& w) { return w.expired(); });
  for (const auto& w : subscribers_) {
    auto s = w.lock();
    if (!s || !s->wants(host_id, container_id)) continue;
    if (!is_event && !container_id.empty() && !s->wants_container_stats()) continue;
    if (is_event) s->send_event(frame);
    else s->send_stats(key, frame);
  }
}

std::map<std::string, std::string> live_telemetry::container_names() const {
  std::map<std::string, std::string> out;
  for (const auto& [host, containers] : containers_)
    for (const auto& [id, latest] : containers) out.emplace(id, latest.name);
  return out;
}

json::value live_telemetry::latest_host_point(const std::string& host_id) const {
  auto h = hosts_.find(host_id);
  return h == hosts_.end() ? json::value(nullptr) : json::value(host_point_json(h->second));
}

json::object live_telemetry::host_stats_json(const std::string& host_id) const {
  json::object out;
  out["host_id"] = host_id;
  auto h = hosts_.find(host_id);
  out["host"] = h == hosts_.end() ? json::value(nullptr) : json::value(host_point_json(h->second));
  json::array disks;
  if (auto f = filesystems_.find(host_id); f != filesystems_.end()) {
    for (const auto& fs : f->second) {
      json::object o;
      o["mount"] = fs.mount;
      o["total_bytes"] = fs.total_bytes;
      o["used_bytes"] = fs.used_bytes;
      o["available_bytes"] = fs.available_bytes;
      o["used_percent"] = fs.used_percent;
      disks.push_back(std::move(o));
    }
  }
  out["filesystems"] = std::move(disks);
  json::array list;
  if (auto c = containers_.find(host_id); c != containers_.end()) {
    for (const auto& [id, latest] : c->second) {
      auto o = point_json(latest.point);
      o["container_id"] = id;
      o["container_name"] = latest.name;
      list.push_back(std::move(o));
    }
  }
  out["containers"] = std::move(list);
  return out;
}

std::optional<json::object> live_telemetry::container_history(const std::string& host_id, const std::string& cid,
                                                               std::chrono::seconds window) const {
  std::string id = cid;
  if (auto c = containers_.find(host_id); c != containers_.end() && !c->second.contains(cid) && cid.size() >= 12) {
    for (const auto& [full, latest] : c->second)
      if (full.rfind(cid, 0) == 0) id = full;
  }
  auto key = container_key(host_id, id);
  auto points = history_.range(key, window, now_seconds());
  // Unknown only when no tier has anything: a restarted server has rollups but no raw samples yet.
  bool known = !points.empty() || (containers_.contains(host_id) && containers_.at(host_id).contains(id));
  for (auto tier_window : {std::chrono::hours(24), std::chrono::hours(24 * 30)})
    known = known || !history_.range(key, tier_window, now_seconds()).empty();
  if (!known) return std::nullopt;
  json::array list;
  for (const auto& p : points) list.push_back(point_json(p));
  json::object out;
  out["host_id"] = host_id;
  out["container_id"] = id;
  out["range_seconds"] = window.count();
  out["points"] = std::move(list);
  return out;
}

std::vector<store::event_record> live_telemetry::take_events() { return std::exchange(pending_events_, {}); }

std::vector<store::stats_rollup_row> live_telemetry::take_rollups() {
  std::vector<store::stats_rollup_row> rows;
  for (auto& r : history_.take_completed_rollups()) {
    store::stats_rollup_row row;
    row.key = r.key;
    row.step = r.step;
    row.t = r.point.t;
    row.cpu_percent = r.point.cpu_percent;
    row.memory_usage = r.point.memory_usage;
    row.memory_limit = r.point.memory_limit;
    row.memory_percent = r.point.memory_percent;
    row.network_rx = r.point.network_rx;
    row.network_tx = r.point.network_tx;
    row.disk_read = r.point.disk_read;
    row.disk_write = r.point.disk_write;
    row.pids = r.point.pids;
    rows.push_back(std::move(row));
  }
  return rows;
}

void live_telemetry::restore(const std::vector<store::stats_rollup_row>& rows) {
  std::vector<stats_history::rollup> rollups;
  rollups.reserve(rows.size());
  for (const auto& r : rows) rollups.push_back(stats_history::rollup{r.key, r.step, from_row(r)});
  history_.restore(rollups);
}

metrics_snapshot live_telemetry::metrics(std::size_t agents_online, std::size_t pending_commands, bool with_containers,
                                         const container_choice& choose) const {
  metrics_snapshot out;
  auto host_name = [&](const std::string& id) {
    auto it = host_names_.find(id);
    return it == host_names_.end() ? std::string() : it->second;
  };
  for (const auto& [host_id, per_host] : containers_) {
    if (!with_containers) break;
    const auto host = host_name(host_id);
    for (const auto& [id, latest] : per_host) {
      if (!choose || choose(host_id, host, latest.name)) out.containers.push_back({host_id, host, id, latest.name, latest.point});
    }
  }
  for (const auto& [host_id, p] : hosts_) {
    const auto reported = containers_.find(host_id);
    out.hosts.push_back({host_id, host_name(host_id), p, reported == containers_.end() ? 0 : reported->second.size()});
  }
  out.agents_online = agents_online;
  out.pending_commands = pending_commands;
  out.samples_ingested = samples_ingested_;
  out.events_ingested = events_ingested_;
  out.events_overflowed = events_overflowed_;
  out.stats_series = history_.series_count();
  out.agent_input_refused = refused_by_limits();
  return out;
}

}  // namespace dockmon::server
