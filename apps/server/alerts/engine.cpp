// Events to alerts. Each rule keeps one alert_state per target, so cooldowns and windows belong to that
// rule on that container and never leak to another.
#include "alerts/engine.hpp"

#include "dockmon/common/crypto.hpp"
#include "dockmon/common/time.hpp"

#include <algorithm>
#include <cstdio>

namespace dockmon::server::alerts {

namespace {

const threshold host_down_threshold{0.5, 0.5};

std::string key_of(const std::string& rule_id, const std::string& host_id, const std::string& container_id) {
  return rule_id + '\n' + host_id + '\n' + container_id;
}

// Docker's event attributes: the container's labels, with name, image and exitCode among them.
std::map<std::string, std::string> attributes_of(const std::string& text) {
  std::map<std::string, std::string> out;
  error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object()) return out;
  for (const auto& [key, value] : v.get_object()) {
    if (value.is_string()) out.emplace(std::string(key), std::string(value.get_string()));
    else if (value.is_int64()) out.emplace(std::string(key), std::to_string(value.get_int64()));  // the server's own attributes
  }
  return out;
}

std::string span_text(seconds s) {
  if (s.count() % 3600 == 0 && s.count() >= 3600) return std::to_string(s.count() / 3600) + " h";
  if (s.count() % 60 == 0 && s.count() >= 60) return std::to_string(s.count() / 60) + " min";
  return std::to_string(s.count()) + " s";
}

std::string percent_text(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f%%", value);
  return text;
}

}  // namespace

void engine::set_rule(rule r, time_point now) {
  end_alerts_of(r.id, now);
  const auto id = r.id;
  rules_.insert_or_assign(id, std::move(r));
  // A host rule made while hosts are down starts counting their absence now.
  rebuild_metric_rules();
  if (rules_.at(id).kind == rule_kind::host_down) {
    for (const auto& [host_id, info] : hosts_)
      if (!info.online) host_sample(host_id, 1, now);
  }
}

void engine::remove_rule(const std::string& rule_id, time_point now) {
  end_alerts_of(rule_id, now);
  rules_.erase(rule_id);
  rebuild_metric_rules();
}

void engine::rebuild_metric_rules() {
  metric_rules_.clear();
  disk_rules_.clear();
  sample_rules_.clear();
  for (const auto& [id, r] : rules_) {
    if (is_metric_kind(r.kind)) metric_rules_.push_back(&r);
    if (r.kind == rule_kind::disk_low) disk_rules_.push_back(&r);
  }
}

const std::vector<const rule*>& engine::sample_rules(const std::string& host_id, const std::string& container_id,
                                                     const std::string& name) {
  auto [it, added] = sample_rules_.try_emplace(host_id + '\n' + container_id);
  if (!added) return it->second;
  const bool of_host = container_id.empty();
  auto labels = labels_.find(container_id);
  const target t = of_host ? host_target(host_id)
                           : container_target(host_id, name, labels != labels_.end() ? labels->second : std::map<std::string, std::string>{});
  for (const auto* r : metric_rules_)
    if (r->on_hosts == of_host && r->scope.matches(t)) it->second.push_back(r);
  return it->second;
}

void engine::end_alerts_of(const std::string& rule_id, time_point now) {
  const auto prefix = rule_id + '\n';
  for (auto it = tracked_.begin(); it != tracked_.end();) {
    if (!it->first.starts_with(prefix)) {
      ++it;
      continue;
    }
    if (it->second.state.firing()) {
      auto& record = it->second.record;
      record.state = "resolved";
      record.resolved_at = to_iso8601(now);
      record.message += " (the rule changed)";
      changes_.push_back(record);
    }
    it = tracked_.erase(it);
  }
}

void engine::restore(const std::vector<store::alert_record>& firing, time_point now) {
  for (const auto& record : firing) {
    auto rule_it = rules_.find(record.rule_id);
    const auto fired_at = parse_iso8601(record.fired_at);
    if (rule_it == rules_.end() || !fired_at) {
      auto ended = record;
      ended.state = "resolved";
      ended.resolved_at = to_iso8601(now);
      changes_.push_back(std::move(ended));
      continue;
    }
    // A disk alert is the host's, one per mount point (its target name); a health check's follows the
    // container's name.
    const bool by_name = record.kind == "health_check_failed" || record.kind == "auto_restart_gave_up";
    auto& t = track(rule_it->second, record.host_id,
                    record.kind == "disk_low" ? "disk:" + record.target_name : by_name ? "health:" + record.target_name : record.container_id);
    t.state.restore_firing(*fired_at, record.notified);
    t.record = record;
  }
}

void engine::adopt(const std::vector<store::alert_record>& firing, time_point now) {
  std::vector<store::alert_record> taken;
  for (const auto& record : firing) {
    if (record.kind == "host_down" || firing_alert(record.id) != nullptr) continue;
    taken.push_back(record);
  }
  restore(taken, now);
}

void engine::forget_host(const std::string& host_id) {
  const std::string middle = '\n' + host_id + '\n';
  std::erase_if(tracked_, [&](const auto& item) {
    const auto& key = item.first;  // key_of: rule id, host id, container id
    const auto at = key.find(middle);
    if (at == std::string::npos) return false;
    auto rule = rules_.find(key.substr(0, at));
    return rule == rules_.end() || rule->second.kind != rule_kind::host_down;
  });
}

engine::tracked& engine::track(const rule& r, const std::string& host_id, const std::string& container_id) {
  auto [it, added] = tracked_.try_emplace(key_of(r.id, host_id, container_id), r.controls);
  return it->second;
}

bool engine::blacked_out(const std::string& host_id, time_point now) const {
  return std::any_of(blackouts_.begin(), blackouts_.end(), [&](const blackout& b) { return b.covers(host_id, now); });
}

void engine::apply(tracked& t, const rule& r, step s, std::string target_name, std::string message, time_point now) {
  // A host that is away speaks for its containers: their alerts are kept, their messages held (the
  // host-down message says so once).
  auto host = hosts_.find(t.record.host_id);
  const bool host_away = !t.record.container_id.empty() && host != hosts_.end() && !host->second.online;
  const bool updating = !t.record.container_id.empty() && in_update(t.record.host_id, target_name, now);
  if (s.notify && (blacked_out(t.record.host_id, now) || r.snoozed_until > now || host_away || updating)) {
    t.state.withhold(s);
    s.notify = false;
  }
  if (s.what == change::fired) {
    store::alert_record a;
    a.id = random_uuid();
    a.rule_id = r.id;
    a.kind = std::string(kind_name(r.kind));
    a.severity = r.severity;
    a.target_name = std::move(target_name);
    a.message = std::move(message);
    a.fired_at = to_iso8601(now);
    a.notified = s.notify;
    a.state = "firing";
    // A one-shot event is its own end: one row, resolved as it is made.
    if (r.controls.one_shot) {
      a.state = "resolved";
      a.resolved_at = a.fired_at;
    }
    a.host_id = t.record.host_id;
    a.container_id = t.record.container_id;
    t.record = std::move(a);
    changes_.push_back(t.record);
    if (s.notify) tell(r, t.record, "fired");
  } else if (s.what == change::resolved && t.record.state == "firing") {
    t.record.state = "resolved";
    t.record.resolved_at = to_iso8601(now);
    changes_.push_back(t.record);
    if (s.notify) tell(r, t.record, "resolved");
  }
}

void engine::tell(const rule& r, const store::alert_record& alert, std::string event) {
  if (r.channel_ids.empty()) return;
  notices_.push_back(notice{alert, std::move(event), r.name, host_name(alert.host_id), r.channel_ids, r.message_template});
}

void engine::host_known(const std::string& host_id, const std::string& name, time_point now) {
  auto& info = hosts_[host_id];
  info.name = name;
  if (!info.online) host_sample(host_id, 1, now);
}

void engine::host_connected(const std::string& host_id, const std::string& name, time_point now) {
  auto& info = hosts_[host_id];
  info.name = name;
  info.online = true;
  host_sample(host_id, 0, now);
}

void engine::host_disconnected(const std::string& host_id, time_point now) {
  hosts_[host_id].online = false;
  host_sample(host_id, 1, now);
}

void engine::host_elsewhere(const std::string& host_id, bool online, time_point now) {
  hosts_[host_id].online = online;
  host_sample(host_id, online ? 0 : 1, now);
}

std::vector<std::pair<std::string, bool>> engine::host_states() const {
  std::vector<std::pair<std::string, bool>> out;
  out.reserve(hosts_.size());
  for (const auto& [id, info] : hosts_) out.emplace_back(id, info.online);
  return out;
}

void engine::host_sample(const std::string& host_id, double down, time_point now) {
  const target host = host_target(host_id);
  for (const auto& [id, r] : rules_) {
    if (r.kind != rule_kind::host_down || !r.scope.matches(host)) continue;
    auto& t = track(r, host_id, {});
    t.record.host_id = host_id;
    t.record.container_id.clear();
    // Called each second for every host that is away: the message is built only when something changed.
    const auto s = t.state.sample(down, host_down_threshold, now);
    if (s.what == change::none) continue;
    apply(t, r, s, host_name(host_id),
          "host " + host_name(host_id) + " is down: its agent has been away for " + span_text(r.controls.fire_after) +
              "; alerts of its containers tell no one until it is back",
          now);
  }
}

void engine::on_container_event(const store::event_record& e, time_point now) {
  if (e.type == "update" || e.type == "agent_update") return on_update_outcome(e, now);
  if (e.type == "health") return on_health_change(e, now);
  if (e.type != "container") return;
  const std::string verb = e.action.substr(0, e.action.find(':'));
  const auto attributes = attributes_of(e.attributes);
  const target container = container_target(e.host_id, e.container_name, attributes);
  const std::string where = e.container_name + " on " + host_name(e.host_id);
  const bool asked_for = verb == "die" && stop_expected(e.host_id, e.container_id, now);
  const bool gone = verb == "die" || verb == "destroy";
  if (verb == "destroy") labels_.erase(e.container_id);
  else labels_[e.container_id] = attributes;  // for the scope of rules on this container's samples
  sample_rules_.erase(e.host_id + '\n' + e.container_id);  // its name or labels may have changed
  for (const auto& [id, r] : rules_) {
    if (r.watches_hosts() || !r.scope.matches(container)) continue;
    if (is_metric_kind(r.kind)) {
      // A container that stops has no numbers any more: its metric alerts end with it.
      auto found = tracked_.find(key_of(r.id, e.host_id, e.container_id));
      if (gone && found != tracked_.end()) apply(found->second, r, found->second.state.condition_over(now), e.container_name, {}, now);
      continue;
    }
    step s;
    std::string message;
    auto& t = track(r, e.host_id, e.container_id);
    t.record.host_id = e.host_id;
    t.record.container_id = e.container_id;
    switch (r.kind) {
      case rule_kind::container_stopped:
        if (verb == "die") {
          if (r.only_unexpected && asked_for) continue;
          const auto code = attributes.find("exitCode");
          s = t.state.occurrence(now);
          message = where + " stopped" + (code != attributes.end() ? " (exit code " + code->second + ")" : "");
        } else if (verb == "start" || verb == "destroy") {
          s = t.state.condition_over(now);
        }
        break;
      case rule_kind::container_started:
        if (verb == "start") {
          s = t.state.occurrence(now);
          message = where + " started";
        }
        break;
      case rule_kind::container_restarting:
        // Docker's restart policy and manual starts alike: every start counts, and a loop makes many.
        if (verb == "start") {
          s = t.state.occurrence(now);
          message = where + " is restarting: " + std::to_string(r.controls.occurrences) + " starts within " +
                    span_text(r.controls.window);
        } else if (verb == "destroy") {
          s = t.state.condition_over(now);
        }
        break;
      case rule_kind::container_unhealthy:
        if (e.action == "health_status: unhealthy") {
          s = t.state.occurrence(now);
          message = where + " is unhealthy";
        } else if (e.action == "health_status: healthy" || verb == "destroy") {
          s = t.state.condition_over(now);
        }
        break;
      case rule_kind::container_oom:
        if (verb == "oom") {
          s = t.state.occurrence(now);
          message = where + " ran out of memory and was killed";
        }
        break;
      default: break;  // the other kinds follow hosts, samples or update outcomes
    }
    apply(t, r, s, e.container_name, std::move(message), now);
  }
  // A removed container's quiet states go with it, so churn does not grow the engine.
  if (verb == "destroy") {
    const auto suffix = '\n' + e.host_id + '\n' + e.container_id;
    std::erase_if(tracked_, [&suffix](const auto& item) { return item.first.ends_with(suffix) && !item.second.state.firing(); });
  }
}

// The outcome of an update: update_complete (with the new container's id and name), or its failed stage
// (the rollback stage after it is not another alert); a self-update's failed or rolled_back. The words
// come from the attributes' message and error.
void engine::on_update_outcome(const store::event_record& e, time_point now) {
  const auto attributes = attributes_of(e.attributes);
  auto said = [&attributes](const char* key) {
    auto it = attributes.find(key);
    return it != attributes.end() ? it->second : std::string();
  };
  const bool self = e.type == "agent_update";
  rule_kind kind;
  if (self && (e.action == "failed" || e.action == "rolled_back")) kind = rule_kind::self_update_failed;
  else if (!self && e.action == "update_complete") kind = rule_kind::update_completed;  // names the new container
  else if (!self && e.action == "failed") kind = rule_kind::update_failed;
  else return;
  const auto labels = self ? labels_.end() : labels_.find(e.container_id);
  std::map<std::string, std::string> container_labels = labels != labels_.end() ? labels->second : std::map<std::string, std::string>{};
  const auto name_label = container_labels.find("name");
  const std::string name = !e.container_name.empty() ? e.container_name
                           : name_label != container_labels.end() ? name_label->second
                                                                  : e.container_id.substr(0, 12);
  const target t = self ? host_target(e.host_id) : container_target(e.host_id, name, container_labels);
  // The update is over: the container's alerts speak again, starting with this outcome's.
  if (!self) updates_.erase(e.host_id + '\n' + name);
  std::string message = self ? "agent of host " + host_name(e.host_id) + ": self-update " + (e.action == "failed" ? "failed" : "rolled back")
                             : "update of " + name + " on " + host_name(e.host_id) + (kind == rule_kind::update_completed ? " completed" : " failed");
  if (const auto words = said("message"); !words.empty()) message += ": " + words;
  if (kind == rule_kind::update_completed && !e.image.empty()) message += ": now runs " + e.image;
  if (const auto error = said("error"); !error.empty() && kind != rule_kind::update_completed) message += " (" + error + ")";
  for (const auto& [id, r] : rules_) {
    if (r.kind != kind || !r.scope.matches(t)) continue;
    auto& state = track(r, e.host_id, self ? std::string() : e.container_id);
    state.record.host_id = e.host_id;
    state.record.container_id = self ? std::string() : e.container_id;
    apply(state, r, state.state.occurrence(now), self ? host_name(e.host_id) : name, message, now);
  }
}

// A health check's change (health_link): unhealthy fires health_check_failed, gave_up fires
// auto_restart_gave_up; healthy or stopped ends both.
void engine::on_health_change(const store::event_record& e, time_point now) {
  const auto attributes = attributes_of(e.attributes);
  auto said = [&attributes](const char* key) {
    auto it = attributes.find(key);
    return it != attributes.end() ? it->second : std::string();
  };
  const bool over = e.action == "healthy" || e.action == "stopped";
  if (!over && e.action != "unhealthy" && e.action != "gave_up") return;
  const auto labels = std::find_if(labels_.begin(), labels_.end(), [&e](const auto& l) { return !e.container_id.empty() && l.first.starts_with(e.container_id); });
  const target t = container_target(e.host_id, e.container_name, labels != labels_.end() ? labels->second : std::map<std::string, std::string>{});
  const std::string where = e.container_name + " on " + host_name(e.host_id);
  for (const auto& [id, r] : rules_) {
    if ((r.kind != rule_kind::health_check_failed && r.kind != rule_kind::auto_restart_gave_up) || !r.scope.matches(t)) continue;
    // By name: the check follows its container through updates, and so does its alert.
    const std::string key = "health:" + e.container_name;
    if (over) {
      auto found = tracked_.find(key_of(r.id, e.host_id, key));
      if (found != tracked_.end()) apply(found->second, r, found->second.state.condition_over(now), e.container_name, {}, now);
      continue;
    }
    const bool fires = (r.kind == rule_kind::health_check_failed) == (e.action == "unhealthy");
    if (!fires) continue;
    auto& state = track(r, e.host_id, key);
    state.record.host_id = e.host_id;
    state.record.container_id = e.container_id;
    std::string message = r.kind == rule_kind::health_check_failed
                              ? "health check of " + where + " failed" + (said("error").empty() ? "" : ": " + said("error"))
                              : "gave up restarting " + where + " after " + said("attempt") + " restarts";
    apply(state, r, state.state.occurrence(now), e.container_name, std::move(message), now);
  }
}

void engine::on_disk_sample(const std::string& host_id, const std::vector<std::pair<std::string, double>>& used_percent,
                            time_point now) {
  const target host = host_target(host_id);
  for (const auto* r : disk_rules_) {
    if (!r->scope.matches(host)) continue;
    for (const auto& [mount, used] : used_percent) {
      if (!glob_match(r->mount_pattern, mount)) continue;
      auto found = tracked_.find(key_of(r->id, host_id, "disk:" + mount));
      if (found == tracked_.end() && used <= r->limit.above) continue;  // below the line: nothing to keep
      auto& t = found != tracked_.end() ? found->second : track(*r, host_id, "disk:" + mount);
      t.record.host_id = host_id;
      t.record.container_id.clear();
      const auto s = t.state.sample(used, r->limit, now);
      if (s.what == change::none) continue;
      apply(t, *r, s, mount,
            "host " + host_name(host_id) + ": " + mount + " is " + percent_text(used) + " full (above " + percent_text(r->limit.above) +
                " for " + span_text(r->controls.fire_after) + ")",
            now);
    }
  }
}

void engine::on_sample(const std::string& host_id, const std::string& container_id, const std::string& name, double cpu,
                       double memory, time_point now) {
  const bool of_host = container_id.empty();
  for (const auto* r : sample_rules(host_id, container_id, name)) {
    const double value = r->kind == rule_kind::cpu_high ? cpu : memory;
    // Most samples of most targets are below the line: they leave no state behind, so many rules on a
    // large fleet cost a lookup each, not an entry each.
    auto found = tracked_.find(key_of(r->id, host_id, container_id));
    if (found == tracked_.end() && value <= r->limit.above) continue;
    auto& t = found != tracked_.end() ? found->second : track(*r, host_id, container_id);
    t.record.host_id = host_id;
    t.record.container_id = container_id;
    const auto s = t.state.sample(value, r->limit, now);
    if (s.what == change::none) continue;
    const std::string where = of_host ? "host " + host_name(host_id) : name + " on " + host_name(host_id);
    apply(t, *r, s, of_host ? host_name(host_id) : name,
          where + ": " + (r->kind == rule_kind::cpu_high ? "CPU" : "memory") + " above " + percent_text(r->limit.above) +
              " for " + span_text(r->controls.fire_after) + " (now " + percent_text(value) + ")",
          now);
  }
}

void engine::updating(const std::string& host_id, const std::string& container_name, time_point until) {
  updates_[host_id + '\n' + container_name] = until;
}

bool engine::in_update(const std::string& host_id, const std::string& container_name, time_point now) const {
  if (updates_.empty()) return false;
  // The old container is renamed <name>-dockmon-backup-<time> while the new one takes its name.
  const auto backup = container_name.find("-dockmon-backup-");
  auto it = updates_.find(host_id + '\n' + container_name.substr(0, backup));
  return it != updates_.end() && it->second > now;
}

void engine::expect_stop(const std::string& host_id, const std::string& container_id, time_point until) {
  expected_stops_[host_id + '\n' + container_id] = until;
}

bool engine::stop_expected(const std::string& host_id, const std::string& container_id, time_point now) {
  auto it = expected_stops_.find(host_id + '\n' + container_id);
  if (it == expected_stops_.end()) return false;
  const bool expected = it->second >= now;
  expected_stops_.erase(it);
  return expected;
}

std::vector<store::alert_record> engine::take_changes() {
  auto taken = std::exchange(changes_, {});
  in_flight_.insert(in_flight_.end(), taken.begin(), taken.end());
  return taken;
}

std::vector<store::alert_record> engine::pending_changes() const {
  auto pending = in_flight_;
  pending.insert(pending.end(), changes_.begin(), changes_.end());
  return pending;
}

void engine::tick(time_point now) {
  std::erase_if(expected_stops_, [now](const auto& item) { return item.second < now; });
  std::erase_if(updates_, [now](const auto& item) { return item.second < now; });
  for (const auto& [host_id, info] : hosts_)
    if (!info.online) host_sample(host_id, 1, now);
  for (auto& [key, t] : tracked_) {
    const auto rule_id = key.substr(0, key.find('\n'));
    auto rule_it = rules_.find(rule_id);
    if (rule_it == rules_.end() || rule_it->second.kind == rule_kind::host_down) continue;
    const auto s = t.state.tick(now);
    if (s.what != change::none) apply(t, rule_it->second, s, t.record.target_name, t.record.message, now);
  }
}

bool engine::keeps(const std::string& alert_id) const {
  return std::any_of(tracked_.begin(), tracked_.end(),
                     [&](const auto& item) { return item.second.record.id == alert_id && item.second.record.state == "firing"; });
}

engine::tracked* engine::firing_alert(const std::string& alert_id) {
  for (auto& [key, t] : tracked_)
    if (t.record.id == alert_id && t.record.state == "firing") return &t;
  return nullptr;
}

std::optional<store::alert_record> engine::acknowledge(const std::string& alert_id, const std::string& username, time_point now,
                                                       bool once) {
  auto* t = firing_alert(alert_id);
  if (t == nullptr || (once && !t->record.acknowledged_at.empty())) return std::nullopt;
  t->record.acknowledged_at = to_iso8601(now);
  t->record.acknowledged_by = username;
  changes_.push_back(t->record);
  return t->record;
}

std::optional<store::alert_record> engine::snooze(const std::string& alert_id, time_point until) {
  auto* t = firing_alert(alert_id);
  if (t == nullptr) return std::nullopt;
  t->state.snooze_until(until);
  t->record.snoozed_until = to_iso8601(until);
  changes_.push_back(t->record);
  return t->record;
}

std::optional<store::alert_record> engine::resolve(const std::string& alert_id, const std::string& username, time_point now) {
  auto* t = firing_alert(alert_id);
  if (t == nullptr) return std::nullopt;
  auto rule_it = rules_.find(t->record.rule_id);
  if (rule_it == rules_.end()) return std::nullopt;
  t->record.message += " (resolved by " + username + ")";
  apply(*t, rule_it->second, t->state.end_now(now), t->record.target_name, t->record.message, now);
  return t->record;
}

bool engine::snooze_rule(const std::string& rule_id, time_point until) {
  auto it = rules_.find(rule_id);
  if (it == rules_.end()) return false;
  it->second.snoozed_until = until;
  return true;
}

std::map<std::string, std::size_t> engine::firing_by_severity() const {
  std::map<std::string, std::size_t> out;
  for (const auto& [key, t] : tracked_)
    if (t.record.state == "firing") ++out[t.record.severity];
  return out;
}

std::string engine::host_name(const std::string& host_id) const {
  auto it = hosts_.find(host_id);
  return it != hosts_.end() && !it->second.name.empty() ? it->second.name : host_id;
}

}  // namespace dockmon::server::alerts
