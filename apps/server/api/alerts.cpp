// Alert rules and alerts over REST. Rules are checked by the engine's own parser before they are stored,
// and apply at once; viewers read, operators acknowledge and snooze, admins edit; every change is audited.
#include "api/handlers.hpp"
#include "agents/replica_settings.hpp"
#include "alerts/ack_link.hpp"
#include "alerts/alert_runner.hpp"
#include "alerts/preview.hpp"
#include "auth/audit.hpp"
#include "dockmon/common/crypto.hpp"
#include "dockmon/common/json_fields.hpp"
#include "dockmon/common/time.hpp"

#include <algorithm>
#include <charconv>

namespace dockmon::server {

namespace {

constexpr std::size_t max_rules = 1000;

json::object rule_json(const store::alert_rule_record& r) {
  json::object o;
  o["id"] = r.id;
  o["name"] = r.name;
  o["enabled"] = r.enabled;
  error_code ec;
  auto definition = json::parse(r.definition, ec);
  if (!ec && definition.is_object()) {
    for (const auto& [key, value] : definition.get_object()) o[key] = value;
  }
  o["created_at"] = r.created_at;
  o["updated_at"] = r.updated_at;
  return o;
}

json::object alert_json(const store::alert_record& a) {
  json::object o{{"id", a.id},           {"rule_id", a.rule_id},         {"host_id", a.host_id},
                 {"container_id", a.container_id}, {"target_name", a.target_name}, {"kind", a.kind},
                 {"severity", a.severity}, {"state", a.state},           {"message", a.message},
                 {"fired_at", a.fired_at}, {"notified", a.notified}};
  auto optional_text = [&o](const char* key, const std::string& v) { o[key] = v.empty() ? json::value(nullptr) : json::value(v); };
  optional_text("resolved_at", a.resolved_at);
  optional_text("acknowledged_at", a.acknowledged_at);
  optional_text("acknowledged_by", a.acknowledged_by);
  optional_text("snoozed_until", a.snoozed_until);
  // DESIGN.md section 11's names for the same facts.
  o["container_name"] = a.container_id.empty() ? json::value(nullptr) : json::value(a.target_name);
  o["started_at"] = a.fired_at;
  return o;
}

std::string html_escaped(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

// A small page of its own (no script, no styles from elsewhere): what an acknowledge link shows.
response ack_page(const request& req, http::status status, std::string_view title, std::string_view body_html) {
  response res{status, req.version()};
  res.set(http::field::content_type, "text/html; charset=utf-8");
  res.set(http::field::cache_control, "no-store");
  res.set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'");
  res.set("Referrer-Policy", "no-referrer");  // the token is in the address
  res.keep_alive(req.keep_alive());
  res.body() = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">"
               "<title>" + html_escaped(title) + "</title><style>body{font:16px system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}"
               "button{font-size:1rem;padding:.5rem 1rem}</style></head><body><h1>" + html_escaped(title) + "</h1>" +
               std::string(body_html) + "</body></html>";
  res.prepare_payload();
  return res;
}

json::object blackout_json(const store::blackout_record& b) {
  json::object o{{"id", b.id}, {"name", b.name}, {"created_at", b.created_at}};
  error_code ec;
  auto definition = json::parse(b.definition, ec);
  if (!ec && definition.is_object()) {
    for (const auto& [key, value] : definition.get_object()) o[key] = value;
  }
  return o;
}

// The rule a request describes: name and enabled beside the definition's fields ({name, enabled, kind,
// severity, scope, ...}), on top of `base` (the stored rule, for a PATCH). The error says what is wrong.
std::variant<store::alert_rule_record, std::string> rule_from_body(const json::object& body, store::alert_rule_record base) {
  json::object definition;
  if (!base.definition.empty()) {
    error_code ec;
    auto stored = json::parse(base.definition, ec);
    if (!ec && stored.is_object()) definition = std::move(stored.get_object());
  }
  for (const auto& [key, value] : body) {
    if (key == "name") {
      if (!value.is_string() || value.get_string().empty() || value.get_string().size() > 100)
        return std::string("name must be text of 1 to 100 characters");
      base.name = std::string(value.get_string());
    } else if (key == "enabled") {
      if (!value.is_bool()) return std::string("enabled must be true or false");
      base.enabled = value.get_bool();
    } else if (key != "id" && key != "created_at" && key != "updated_at") {
      definition[key] = value;
    }
  }
  if (base.name.empty()) return std::string("name is required");
  auto parsed = alerts::parse_rule(base.id, base.name, definition);
  if (auto* error = std::get_if<std::string>(&parsed)) return *error;
  base.definition = json::serialize(alerts::definition_json(std::get<alerts::rule>(parsed)));
  return base;
}

class alerts_api : private route_answers {
 public:
  explicit alerts_api(route_call& c) : route_answers(c.req), ctx_(c.ctx), req_(c.req), who_(c.who), query_(c.query) {}

  net::awaitable<response> list_rules() {
    auto list = ctx_.with_store([](store::store& s) { return s.list_alert_rules(); });
    auto rules = co_await std::move(list);
    json::array out;
    for (const auto& r : rules) out.push_back(rule_json(r));
    co_return ok(out);
  }

  net::awaitable<response> create_rule() {
    auto body = json_body(req_);
    if (!body) co_return fail(http::status::bad_request, "body must be a JSON object");
    store::alert_rule_record base;
    base.id = random_uuid();
    base.created_at = now_iso8601();
    base.updated_at = base.created_at;
    auto made = rule_from_body(*body, std::move(base));
    if (auto* error = std::get_if<std::string>(&made)) co_return fail(http::status::bad_request, *error);
    auto rule = std::get<store::alert_rule_record>(std::move(made));
    auto count = ctx_.with_store([](store::store& s) { return s.list_alert_rules().size(); });
    const auto rules = co_await std::move(count);
    if (rules >= max_rules) co_return fail(http::status::conflict, "there are 1000 rules already");
    co_return co_await store_rule(std::move(rule), "create_alert_rule", http::status::created);
  }

  net::awaitable<response> update_rule(std::string rule_id) {
    auto body = json_body(req_);
    if (!body) co_return fail(http::status::bad_request, "body must be a JSON object");
    auto find = ctx_.with_store([rule_id](store::store& s) { return s.find_alert_rule(rule_id); });
    auto stored = co_await std::move(find);
    if (!stored) co_return fail(http::status::not_found, "no such rule");
    stored->updated_at = now_iso8601();
    auto changed = rule_from_body(*body, std::move(*stored));
    if (auto* error = std::get_if<std::string>(&changed)) co_return fail(http::status::bad_request, *error);
    co_return co_await store_rule(std::get<store::alert_rule_record>(std::move(changed)), "update_alert_rule", http::status::ok);
  }

  net::awaitable<response> delete_rule(std::string rule_id) {
    auto forget = ctx_.with_store([rule_id](store::store& s) { return s.delete_alert_rule(rule_id); });
    const bool deleted = co_await std::move(forget);
    record_audit(ctx_, who_, "delete_alert_rule", rule_id, deleted ? "ok" : "not found");
    if (!deleted) co_return fail(http::status::not_found, "no such rule");
    ctx_.alerts.remove_rule(rule_id, sys_clock::now());
    co_await tell_replicas(ctx_, "alert_rule", rule_id);
    co_return ok(json::object{{"id", rule_id}, {"deleted", true}});
  }

  net::awaitable<response> list_alerts() {
    store::alert_filter filter;
    filter.state = std::string(query_param(query_, "state").value_or(""));
    if (filter.state == "all") filter.state.clear();
    if (!filter.state.empty() && filter.state != "firing" && filter.state != "resolved")
      co_return fail(http::status::bad_request, "state must be firing, resolved or all");
    filter.host_id = std::string(query_param(query_, "host_id").value_or(""));
    if (!filter.host_id.empty() && !valid_host_id(filter.host_id)) co_return fail(http::status::bad_request, "malformed host_id");
    if (auto l = query_param(query_, "limit")) {
      unsigned limit = 0;
      auto [end, ec] = std::from_chars(l->data(), l->data() + l->size(), limit);
      if (ec != std::errc{} || end != l->data() + l->size() || limit < 1 || limit > store::max_alert_limit)
        co_return fail(http::status::bad_request, "limit must be 1 to 1000");
      filter.limit = limit;
    }
    auto list = ctx_.with_store([filter](store::store& s) { return s.list_alerts(filter); });
    auto alerts = co_await std::move(list);
    // What changed in the last second is in the engine and not yet in the store: shown as it is now.
    for (const auto& changed : ctx_.alerts.pending_changes()) {
      std::erase_if(alerts, [&changed](const store::alert_record& a) { return a.id == changed.id; });
      if ((filter.state.empty() || changed.state == filter.state) && (filter.host_id.empty() || changed.host_id == filter.host_id))
        alerts.push_back(changed);
    }
    std::stable_sort(alerts.begin(), alerts.end(), [](const auto& a, const auto& b) { return a.fired_at > b.fired_at; });
    if (alerts.size() > filter.limit) alerts.resize(filter.limit);
    json::array out;
    for (const auto& a : alerts) out.push_back(alert_json(a));
    co_return ok(out);
  }

  net::awaitable<response> acknowledge(std::string alert_id) {
    auto done = ctx_.alerts.acknowledge(alert_id, who_.username, sys_clock::now());
    co_return co_await answer_alert_change(std::move(alert_id), std::move(done), "acknowledge_alert", "acknowledged");
  }

  net::awaitable<response> resolve(std::string alert_id) {
    auto done = ctx_.alerts.resolve(alert_id, who_.username, sys_clock::now());
    co_return co_await answer_alert_change(std::move(alert_id), std::move(done), "resolve_alert", "resolved");
  }

  net::awaitable<response> snooze(std::string alert_id) {
    auto body = json_body(req_);
    // {minutes}, or {seconds} as DESIGN.md section 11 has it.
    const auto* minutes = body ? body->if_contains("minutes") : nullptr;
    const auto* secs = body ? body->if_contains("seconds") : nullptr;
    std::chrono::seconds span{0};
    if (minutes != nullptr && minutes->is_int64()) span = std::chrono::minutes(minutes->as_int64());
    else if (minutes == nullptr && secs != nullptr && secs->is_int64()) span = std::chrono::seconds(secs->as_int64());
    if (span < std::chrono::seconds(1) || span > std::chrono::hours(24 * 7))
      co_return fail(http::status::bad_request, "minutes must be 1 to 10080 (a week), or seconds 1 to 604800");
    const auto until = sys_clock::now() + span;
    auto done = ctx_.alerts.snooze(alert_id, until);
    co_return co_await answer_alert_change(std::move(alert_id), std::move(done), "snooze_alert", "snoozed until " + to_iso8601(until));
  }

  // The whole rule quiet for a while (minutes 0 wakes it): its alerts still fire and are kept, and it
  // stays quiet across a restart; its alerts do not end, as they would for an edit.
  net::awaitable<response> snooze_rule(std::string rule_id) {
    auto body = json_body(req_);
    const auto* minutes = body ? body->if_contains("minutes") : nullptr;
    if (minutes == nullptr || !minutes->is_int64() || minutes->as_int64() < 0 || minutes->as_int64() > 7 * 24 * 60)
      co_return fail(http::status::bad_request, "minutes must be 0 (wake) to 10080 (a week)");
    const auto until = minutes->as_int64() == 0 ? sys_clock::time_point{} : sys_clock::now() + std::chrono::minutes(minutes->as_int64());
    auto save = ctx_.with_store([rule_id, until](store::store& s) -> std::optional<store::alert_rule_record> {
      auto stored = s.find_alert_rule(rule_id);
      if (!stored) return std::nullopt;
      auto definition = json::parse(stored->definition).as_object();
      definition["snoozed_until"] = until == sys_clock::time_point{} ? json::value(nullptr) : json::value(to_iso8601(until));
      stored->definition = json::serialize(definition);
      s.save_alert_rule(*stored);
      return stored;
    });
    const auto saved = co_await std::move(save);
    if (!saved) co_return fail(http::status::not_found, "no such rule");
    ctx_.alerts.snooze_rule(rule_id, until);
    co_await tell_replicas(ctx_, "alert_rule_snooze", rule_id);
    record_audit(ctx_, who_, "snooze_alert_rule", rule_id + " (" + saved->name + ")",
                 until == sys_clock::time_point{} ? std::string("woken") : "snoozed until " + to_iso8601(until));
    co_return ok(rule_json(*saved));
  }

  // The rule in the body replayed over the last week's events: how often it would have fired and sent.
  net::awaitable<response> preview_rule() {
    auto body = json_body(req_);
    if (!body) co_return fail(http::status::bad_request, "body must be a JSON object");
    store::alert_rule_record base;
    base.id = "preview";
    base.name = "preview";
    auto made = rule_from_body(*body, std::move(base));
    if (auto* error = std::get_if<std::string>(&made)) co_return fail(http::status::bad_request, *error);
    const auto& record = std::get<store::alert_rule_record>(made);
    auto parsed = alerts::parse_rule(record.id, record.name, json::parse(record.definition));
    auto rule = std::get<alerts::rule>(std::move(parsed));
    if (auto reason = alerts::not_replayable(rule)) co_return ok(json::object{{"supported", false}, {"reason", *reason}});
    const auto now = sys_clock::now();
    // CPU and memory rules replay the stored history, series by series, with the events for scope.
    auto names = alerts::is_metric_kind(rule.kind) ? ctx_.telemetry.container_names() : std::map<std::string, std::string>{};
    auto replay = ctx_.with_store([rule = std::move(rule), blackouts = ctx_.alerts.blackouts(), now, names = std::move(names),
                                   tags = ctx_.tags](store::store& s) {
      const auto week_ago = now - std::chrono::hours(24 * 7);
      const auto events = s.events_since(to_iso8601(week_ago, true), store::max_replay_events);
      if (!alerts::is_metric_kind(rule.kind)) return alerts::preview(rule, blackouts, events, now, tags);
      alerts::metric_preview metric(rule, blackouts, events, names, now, tags);
      s.for_each_rollup_series(unix_seconds(week_ago) - 900,
                               [&metric](const std::string& key, const auto& rows) { metric.series(key, rows); });
      return metric.counts();
    });
    const auto counts = co_await std::move(replay);
    co_return ok(json::object{{"supported", true},
                              {"fired_24h", counts.fired_24h},
                              {"notified_24h", counts.notified_24h},
                              {"fired_7d", counts.fired_7d},
                              {"notified_7d", counts.notified_7d},
                              {"events_replayed", counts.events_replayed},
                              {"complete", counts.events_replayed < store::max_replay_events}});
  }

  // An acknowledge link from a notification: a page that asks first (a mail scanner that follows every
  // link must not acknowledge anything), whose button posts back to the same address.
  net::awaitable<response> ack_link_page(std::string alert_id) {
    const auto token = std::string(query_param(query_, "token").value_or(""));
    if (!alerts::ack_token_valid(ctx_.secrets, token, alert_id, sys_clock::now()))
      co_return ack_page(req_, http::status::forbidden, "This link does not work",
                         "<p>The link is not one this server made for this alert, or it is older than 7 days. Sign in to acknowledge the alert.</p>");
    auto find = ctx_.with_store([alert_id](store::store& s) { return s.find_alert(alert_id); });
    auto stored = co_await std::move(find);
    for (const auto& changed : ctx_.alerts.pending_changes())
      if (changed.id == alert_id) stored = changed;
    if (!stored) co_return ack_page(req_, http::status::not_found, "No such alert", "<p>The alert is gone.</p>");
    if (stored->state != "firing" || !stored->acknowledged_at.empty())
      co_return ack_page(req_, http::status::conflict, "Nothing to acknowledge",
                         "<p>" + html_escaped(stored->message) + "</p><p>" +
                             (stored->state != "firing" ? "It is resolved." : "It was acknowledged by " + html_escaped(stored->acknowledged_by) + ".") +
                             "</p>");
    co_return ack_page(req_, http::status::ok, "Acknowledge this alert?",
                       "<p>" + html_escaped(stored->message) + "</p><form method=\"post\"><button type=\"submit\">Acknowledge</button></form>");
  }

  net::awaitable<response> ack_by_link(std::string alert_id) {
    const auto token = std::string(query_param(query_, "token").value_or(""));
    if (!alerts::ack_token_valid(ctx_.secrets, token, alert_id, sys_clock::now()))
      co_return ack_page(req_, http::status::forbidden, "This link does not work",
                         "<p>The link is not one this server made for this alert, or it is older than 7 days.</p>");
    auto done = ctx_.alerts.acknowledge(alert_id, "a link in a notification", sys_clock::now(), true);
    if (!done)
      co_return ack_page(req_, http::status::conflict, "Nothing to acknowledge", "<p>The alert is resolved or was acknowledged already.</p>");
    record_audit(ctx_, who_, "acknowledge_alert", alert_id, "by a link in a notification");
    co_return ack_page(req_, http::status::ok, "Acknowledged", "<p>" + html_escaped(done->message) + "</p><p>Thank you.</p>");
  }

  net::awaitable<response> list_blackouts() {
    auto read = ctx_.with_store([](store::store& s) { return s.list_blackouts(); });
    const auto stored = co_await std::move(read);
    json::array out;
    for (const auto& b : stored) out.push_back(blackout_json(b));
    co_return ok(out);
  }

  net::awaitable<response> create_blackout() {
    auto body = json_body(req_);
    if (!body) co_return fail(http::status::bad_request, "body must be a JSON object");
    const auto* name = body->if_contains("name");
    if (name == nullptr || !name->is_string() || name->get_string().empty() || name->get_string().size() > 100)
      co_return fail(http::status::bad_request, "name must be text of 1 to 100 characters");
    store::blackout_record record{random_uuid(), std::string(name->get_string()), {}, now_iso8601()};
    auto definition = *body;
    definition.erase("name");
    auto parsed = alerts::parse_blackout(record.id, record.name, definition);
    if (auto* error = std::get_if<std::string>(&parsed)) co_return fail(http::status::bad_request, *error);
    record.definition = json::serialize(alerts::definition_json(std::get<alerts::blackout>(parsed)));
    auto save = ctx_.with_store([record](store::store& s) {
      if (s.list_blackouts().size() >= 100) return std::optional<std::vector<store::blackout_record>>();
      s.save_blackout(record);
      return std::optional(s.list_blackouts());
    });
    const auto all = co_await std::move(save);
    if (!all) co_return fail(http::status::conflict, "there are 100 blackout windows already");
    apply_blackouts(ctx_, *all);
    co_await tell_replicas(ctx_, "blackouts");
    record_audit(ctx_, who_, "create_blackout", record.id + " (" + record.name + ")", "ok");
    co_return ok(blackout_json(record), http::status::created);
  }

  net::awaitable<response> delete_blackout(std::string blackout_id) {
    auto forget = ctx_.with_store([blackout_id](store::store& s) {
      const bool deleted = s.delete_blackout(blackout_id);
      return std::pair(deleted, s.list_blackouts());
    });
    const auto [deleted, all] = co_await std::move(forget);
    record_audit(ctx_, who_, "delete_blackout", blackout_id, deleted ? "ok" : "not found");
    if (!deleted) co_return fail(http::status::not_found, "no such blackout window");
    apply_blackouts(ctx_, all);
    co_await tell_replicas(ctx_, "blackouts");
    co_return ok(json::object{{"id", blackout_id}, {"deleted", true}});
  }

 private:
  net::awaitable<response> store_rule(store::alert_rule_record rule, std::string action, http::status status) {
    // A rule never names a channel that is not there: its notifications would have nowhere to go.
    auto save = ctx_.with_store([rule](store::store& s) -> std::string {
      const auto definition = json::parse(rule.definition);
      for (const auto& id : definition.at("channel_ids").as_array()) {
        if (!s.find_channel(id.as_string())) return std::string(id.as_string());
      }
      s.save_alert_rule(rule);
      return {};
    });
    const auto missing = co_await std::move(save);
    if (!missing.empty()) co_return fail(http::status::bad_request, "channel_ids: no channel has the id " + missing);
    apply_stored_rule(ctx_, rule);
    co_await tell_replicas(ctx_, "alert_rule", rule.id);
    record_audit(ctx_, who_, std::move(action), rule.id + " (" + rule.name + ")", "ok");
    co_return ok(rule_json(rule), status);
  }

  // The engine changed a firing alert (done), or has none of that id: then it is unknown (404) or over (409).
  net::awaitable<response> answer_alert_change(std::string alert_id, std::optional<store::alert_record> done, std::string action,
                                               std::string result) {
    if (done) {
      record_audit(ctx_, who_, std::move(action), alert_id, std::move(result));
      co_return ok(alert_json(*done));
    }
    const auto pending = ctx_.alerts.pending_changes();
    const bool known = std::any_of(pending.begin(), pending.end(), [&alert_id](const auto& a) { return a.id == alert_id; });
    auto find = ctx_.with_store([alert_id](store::store& s) { return s.find_alert(alert_id); });
    auto stored = co_await std::move(find);
    if (!stored && !known) co_return fail(http::status::not_found, "no such alert");
    co_return fail(http::status::conflict, "this alert is resolved");
  }

  server_context& ctx_;
  const request& req_;
  const store::principal& who_;
  std::string_view query_;
};

}  // namespace

net::awaitable<response> list_alert_rules(route_call& c) { return serve<alerts_api, &alerts_api::list_rules>(c); }
net::awaitable<response> create_alert_rule(route_call& c) { return serve<alerts_api, &alerts_api::create_rule>(c); }
net::awaitable<response> update_alert_rule(route_call& c) { return serve<alerts_api, &alerts_api::update_rule>(c); }
net::awaitable<response> delete_alert_rule(route_call& c) { return serve<alerts_api, &alerts_api::delete_rule>(c); }
net::awaitable<response> list_alerts(route_call& c) { return serve<alerts_api, &alerts_api::list_alerts>(c); }
net::awaitable<response> acknowledge_alert(route_call& c) { return serve<alerts_api, &alerts_api::acknowledge>(c); }
net::awaitable<response> resolve_alert(route_call& c) { return serve<alerts_api, &alerts_api::resolve>(c); }
net::awaitable<response> snooze_alert(route_call& c) { return serve<alerts_api, &alerts_api::snooze>(c); }
net::awaitable<response> alert_ack_link_page(route_call& c) { return serve<alerts_api, &alerts_api::ack_link_page>(c); }
net::awaitable<response> acknowledge_alert_by_link(route_call& c) { return serve<alerts_api, &alerts_api::ack_by_link>(c); }
net::awaitable<response> snooze_alert_rule(route_call& c) { return serve<alerts_api, &alerts_api::snooze_rule>(c); }
net::awaitable<response> preview_alert_rule(route_call& c) { return serve<alerts_api, &alerts_api::preview_rule>(c); }
net::awaitable<response> list_blackouts(route_call& c) { return serve<alerts_api, &alerts_api::list_blackouts>(c); }
net::awaitable<response> create_blackout(route_call& c) { return serve<alerts_api, &alerts_api::create_blackout>(c); }
net::awaitable<response> delete_blackout(route_call& c) { return serve<alerts_api, &alerts_api::delete_blackout>(c); }

}  // namespace dockmon::server
