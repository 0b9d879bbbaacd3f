// Loading, feeding and storing the alert engine. The engine changes only on the I/O thread; the store
// writes go through the database pool one batch at a time, so rows land in the order they changed.
#include "alerts/alert_runner.hpp"

#include "dockmon/common/time.hpp"
#include "alerts/ack_link.hpp"
#include "notify/message.hpp"

#include <spdlog/spdlog.h>

namespace dockmon::server {

namespace {

using namespace std::chrono_literals;

// What a notice says, fixed now: a retry tomorrow says the same.
notify::message message_of(const server_context& ctx, const alerts::notice& n) {
  const auto& public_url = ctx.config.public_url;
  const auto& a = n.alert;
  notify::message m;
  m.event = n.event;
  m.severity = a.severity;
  m.kind = a.kind;
  m.alert_id = a.id;
  m.rule_id = a.rule_id;
  m.rule_name = n.rule_name;
  m.host_id = a.host_id;
  m.host_name = n.host_name;
  m.container_id = a.container_id;
  m.container_name = a.container_id.empty() ? "" : a.target_name;
  m.fired_at = a.fired_at;
  m.resolved_at = n.event == "resolved" ? a.resolved_at : "";
  if (!public_url.empty()) m.link = public_url + "/#/alerts/" + a.id;
  m.title = (n.event == "resolved" ? "[resolved] " : "[" + a.severity + "] ") + a.message;
  if (!n.message_template.empty()) {
    m.text = notify::fill_template(n.message_template, m);
  } else {
    m.text = a.message + "\nHost: " + n.host_name;
    if (!m.container_name.empty()) m.text += "\nContainer: " + m.container_name;
    m.text += "\nRule: " + n.rule_name + " (" + a.severity + ")\nSince: " + a.fired_at;
    if (!m.resolved_at.empty()) m.text += "\nResolved: " + m.resolved_at;
    if (!m.link.empty()) m.text += "\n" + m.link;
  }
  if (ctx.config.notify_ack_links && n.event == "fired" && a.state == "firing") {
    m.text += "\nAcknowledge without signing in: " + public_url + "/api/alerts/" + a.id +
              "/ack-link?token=" + alerts::make_ack_token(ctx.secrets, a.id, sys_clock::now() + alerts::ack_link_lifetime);
  }
  return m;
}

// The outbox rows of the notices: one per notice and channel, due at once unless a burst about the same
// host is under way on that channel (then due with the rest of the burst).
std::vector<store::notification_record> outbox_rows(server_context& ctx, const std::vector<alerts::notice>& notices) {
  std::vector<store::notification_record> rows;
  const auto now = sys_clock::now();
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  for (const auto& n : notices) {
    const auto text = json::serialize(notify::message_json(message_of(ctx, n)));
    for (const auto& channel_id : n.channel_ids) {
      store::notification_record row;
      row.alert_id = n.alert.id;
      row.channel_id = channel_id;
      row.message = text;
      row.created_at = to_iso8601(now);
      row.group_key = n.alert.host_id;
      row.next_attempt_ms = ctx.bursts.due_ms(channel_id, n.alert.host_id, now_ms);
      rows.push_back(std::move(row));
    }
  }
  return rows;
}

std::optional<alerts::rule> parse_stored_rule(const store::alert_rule_record& stored) {
  error_code ec;
  const auto definition = json::parse(stored.definition, ec);
  auto parsed = ec ? std::variant<alerts::rule, std::string>(std::string("not JSON"))
                   : alerts::parse_rule(stored.id, stored.name, definition);
  if (auto* error = std::get_if<std::string>(&parsed)) {
    spdlog::error("alert rule {} ({}) is left out: {}", stored.id, stored.name, *error);
    return std::nullopt;
  }
  return std::get<alerts::rule>(std::move(parsed));
}

}  // namespace

bool apply_stored_rule(server_context& ctx, const store::alert_rule_record& stored) {
  const auto now = sys_clock::now();
  if (!stored.enabled) {
    ctx.alerts.remove_rule(stored.id, now);
    return true;
  }
  auto parsed = parse_stored_rule(stored);
  if (!parsed) return false;
  ctx.alerts.set_rule(std::move(*parsed), now);
  return true;
}

void snooze_stored_rule(server_context& ctx, const store::alert_rule_record& stored) {
  if (auto parsed = parse_stored_rule(stored)) ctx.alerts.snooze_rule(stored.id, parsed->snoozed_until);
}

void apply_blackouts(server_context& ctx, const std::vector<store::blackout_record>& stored) {
  std::vector<alerts::blackout> windows;
  for (const auto& b : stored) {
    error_code ec;
    const auto definition = json::parse(b.definition, ec);
    auto parsed = ec ? std::variant<alerts::blackout, std::string>(std::string("not JSON")) : alerts::parse_blackout(b.id, b.name, definition);
    if (auto* error = std::get_if<std::string>(&parsed)) {
      spdlog::error("blackout {} ({}) is left out: {}", b.id, b.name, *error);
      continue;
    }
    windows.push_back(std::get<alerts::blackout>(std::move(parsed)));
  }
  ctx.alerts.set_blackouts(std::move(windows));
}

void start_alerts(server_context& ctx) {
  const auto now = sys_clock::now();
  apply_blackouts(ctx, ctx.db->list_blackouts());
  ctx.tags.load(ctx.db->list_tags());
  ctx.alerts.set_tags(ctx.tags);
  for (const auto& stored : ctx.db->list_alert_rules()) apply_stored_rule(ctx, stored);
  for (const auto& h : ctx.db->list_hosts()) ctx.alerts.host_known(h.id, h.name, now);
  ctx.alerts.restore(ctx.db->list_alerts({"firing", "", store::max_alert_limit}), now);
  save_alert_changes(ctx);
  // A change is stored (and its notifications sent) at once, not at the next tick.
  ctx.telemetry.on_event_kept([&ctx](const store::event_record& e) {
    ctx.alerts.on_container_event(e, sys_clock::now());
    if (ctx.alerts.has_changes()) ctx.alerts_wake.wake();
  });
  ctx.telemetry.on_sample_kept([&ctx](const std::string& host_id, const std::string& container_id, const std::string& name,
                                      double cpu, double memory) {
    ctx.alerts.on_sample(host_id, container_id, name, cpu, memory, sys_clock::now());
    if (ctx.alerts.has_changes()) ctx.alerts_wake.wake();
  });
  ctx.telemetry.on_disks_kept([&ctx](const std::string& host_id, const std::vector<filesystem_point>& disks) {
    std::vector<std::pair<std::string, double>> used;
    used.reserve(disks.size());
    for (const auto& d : disks) used.emplace_back(d.mount, d.used_percent);
    ctx.alerts.on_disk_sample(host_id, used, sys_clock::now());
    if (ctx.alerts.has_changes()) ctx.alerts_wake.wake();
  });
}

void save_alert_changes(server_context& ctx) {
  ctx.db->save_alerts(ctx.alerts.take_changes(), outbox_rows(ctx, ctx.alerts.take_notices()));
  ctx.alerts.changes_stored();
}

net::awaitable<void> run_alert_engine(server_context& ctx) {
  auto last_tick = std::chrono::steady_clock::now();
  for (;;) {
    co_await ctx.alerts_wake.wait(1s);
    if (std::chrono::steady_clock::now() - last_tick >= 1s) {
      last_tick = std::chrono::steady_clock::now();
      ctx.alerts.tick(sys_clock::now());
    }
    auto changed = ctx.alerts.take_changes();
    if (changed.empty()) continue;
    auto rows = outbox_rows(ctx, ctx.alerts.take_notices());
    const bool to_send = !rows.empty();
    try {
      auto save = ctx.with_store([changed = std::move(changed), rows = std::move(rows)](store::store& s) { s.save_alerts(changed, rows); });
      co_await std::move(save);
      if (to_send) ctx.outbox_wake.wake();
    } catch (const std::exception& e) {
      spdlog::error("cannot store alerts: {}", e.what());
    }
    ctx.alerts.changes_stored();
  }
}

}  // namespace dockmon::server
