// The server about itself: liveness for load balancers, status for admins, Prometheus metrics.
#include "api/handlers.hpp"

#include "telemetry/prometheus.hpp"

namespace dockmon::server {

// Live: the process serves. A load balancer that should send work only where it can be done asks
// /healthz/ready, which also asks the database.
net::awaitable<response> healthz(route_call& c) {
  co_return c.ok(json::object{{"status", "ok"}, {"version", DOCKMON_VERSION}});
}

net::awaitable<response> healthz_ready(route_call& c) {
  auto ping = c.ctx.with_store([](store::store& db) { return db.ping(); });
  const bool database_answers = co_await std::move(ping);
  if (!database_answers) {
    co_return c.fail(http::status::service_unavailable, "the database does not answer; calls that need it fail until it does");
  }
  co_return c.ok(json::object{{"status", "ready"}, {"version", DOCKMON_VERSION}});
}

net::awaitable<response> server_status(route_call& c) {
  json::object status;
  status["version"] = DOCKMON_VERSION;
  status["agents_online"] = c.ctx.hub.online_count();
  status["pending_commands"] = c.ctx.hub.pending_count();
  if (c.ctx.replicas.enabled()) {
    // As this replica's last beat saw the others.
    const auto& r = c.ctx.replicas;
    status["replica"] = json::object{{"id", r.id()},
                                     {"address", r.address()},
                                     {"leader", r.leader().replica_id},
                                     {"others", r.peers().size()}};
  }
  co_return c.ok(status);
}

namespace {

// The Prometheus text of a snapshot whose containers were already chosen, with the alert and notification
// counters; formatted off the I/O thread.
net::awaitable<response> metrics_answer(route_call& c, std::shared_ptr<metrics_snapshot> snapshot) {
  response res{http::status::ok, c.req.version()};
  res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
  res.keep_alive(c.req.keep_alive());
  const auto firing = c.ctx.alerts.firing_by_severity();
  auto format = run_blocking(c.ctx.db_pool, [snapshot] { return prometheus_text(*snapshot); });
  res.body() = co_await std::move(format);
  res.body() += "# HELP dockmon_alerts_firing Alerts firing now, by severity.\n# TYPE dockmon_alerts_firing gauge\n";
  for (const char* severity : {"info", "warning", "error", "critical"}) {
    const auto found = firing.find(severity);
    res.body() += std::string("dockmon_alerts_firing{severity=\"") + severity + "\"} " +
                  std::to_string(found == firing.end() ? 0 : found->second) + "\n";
  }
  const auto& sent = c.ctx.notifications;
  res.body() += "# HELP dockmon_notifications_total Notification attempts, by outcome (retried: will be tried again).\n"
                "# TYPE dockmon_notifications_total counter\n";
  for (const auto& [outcome, count] : {std::pair{"sent", sent.sent}, std::pair{"retried", sent.retried}, std::pair{"failed", sent.failed}})
    res.body() += std::string("dockmon_notifications_total{outcome=\"") + outcome + "\"} " + std::to_string(count) + "\n";
  res.prepare_payload();
  co_return res;
}

std::shared_ptr<metrics_snapshot> take_snapshot(route_call& c, bool with_containers,
                                                const live_telemetry::container_choice& choose = {}) {
  // Only the copy on this (the I/O) thread: a fleet's text takes tens of milliseconds to format.
  return std::make_shared<metrics_snapshot>(
      c.ctx.telemetry.metrics(c.ctx.hub.online_count(), c.ctx.hub.pending_count(), with_containers, choose));
}

}  // namespace

// Hosts, the server's own counters, and the containers --metrics-containers chose.
net::awaitable<response> metrics(route_call& c) {
  const auto& chosen = c.ctx.config.metrics_containers;
  const auto& tags = c.ctx.tags;
  auto snapshot = chosen.all ? take_snapshot(c, true)
                             : take_snapshot(c, !chosen.none(), [&](const std::string& host_id, const std::string& host,
                                                                     const std::string& container) {
                                 return chosen.selects(host_id, host, tags.of(host_id, container), tags.of(host_id));
                               });
  co_return co_await metrics_answer(c, std::move(snapshot));
}

// Every container's series (or one host's: ?host=<id>), for a scrape job of their own.
net::awaitable<response> metrics_containers(route_call& c) {
  auto snapshot = take_snapshot(c, true);
  if (auto host = query_param(c.query, "host")) {
    if (!valid_host_id(*host)) co_return c.fail(http::status::bad_request, "host must be a host id");
    const std::string wanted(*host);
    std::erase_if(snapshot->containers, [&](const metrics_snapshot::container_row& row) { return row.host_id != wanted; });
    std::erase_if(snapshot->hosts, [&](const metrics_snapshot::host_row& row) { return row.host_id != wanted; });
  }
  co_return co_await metrics_answer(c, std::move(snapshot));
}

}  // namespace dockmon::server
