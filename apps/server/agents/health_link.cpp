// The book's frames out to agents, their results in.
#include "agents/health_link.hpp"

#include "agents/listed_containers.hpp"

#include "dockmon/common/time.hpp"
#include "dockmon/health/probe.hpp"

#include <spdlog/spdlog.h>

#include <memory>
#include <set>

namespace dockmon::server {

namespace {

void keep(server_context& ctx, const health_change& c) {
  ctx.telemetry.on_health(c.host_id, c.container_id, c.container_name, c.action, c.attributes);
}

}  // namespace

void load_health_checks(server_context& ctx) {
  std::size_t loaded = 0;
  for (const auto& row : ctx.db->list_health_checks()) {
    auto settings = from_record(row, ctx.secrets);
    if (!settings) {
      spdlog::error("the health check of {} on host {} cannot be read (sealed under another key?); it is left out",
                    row.container_name, row.host_id);
      continue;
    }
    ctx.health.put(row.host_id, row.container_name, std::move(*settings), row.updated_at);
    ++loaded;
  }
  if (loaded > 0) spdlog::info("{} health checks loaded", loaded);
}

void apply_stored_health_check(server_context& ctx, const std::string& host_id, const std::string& container_name,
                               const std::optional<store::health_check_record>& stored) {
  const auto* previous = ctx.health.find(host_id, container_name);
  const std::string old_id = previous != nullptr ? previous->container_id : std::string();
  if (!stored) {
    if (!ctx.health.remove(host_id, container_name)) return;
    if (!old_id.empty()) push_health_check(ctx, host_id, container_name, old_id);
    return;
  }
  if (previous != nullptr && previous->updated_at == stored->updated_at) return;  // this one already
  auto settings = from_record(*stored, ctx.secrets);
  if (!settings) {
    spdlog::error("the health check of {} on host {} cannot be read (sealed under another key?); it is left out",
                  container_name, host_id);
    return;
  }
  ctx.health.put(host_id, container_name, std::move(*settings), stored->updated_at);  // keeps its container
  push_health_check(ctx, host_id, container_name);
}

net::awaitable<void> give_health_checks(server_context& ctx, std::string host_id, std::shared_ptr<agent_connection> connection) {
  std::map<std::string, std::string> id_by_name;
  if (ctx.health.count_on(host_id) > 0) {
    protocol::command cmd;
    cmd.name = "list_containers";
    auto listed = co_await ctx.hub.execute(host_id, std::move(cmd), ctx.config.command_timeout);
    if (ctx.hub.find_by_host(host_id) != connection) co_return;
    if (listed.result != command_outcome::status::ok) {
      spdlog::warn("host {}: cannot list its containers to give it its health checks: {}", host_id, listed.error);
      co_return;
    }
    for (auto& c : listed_containers(listed.payload))
      if (!c.name.empty()) id_by_name[c.name] = std::move(c.id);
  }
  // Always, even empty: checks removed while the agent was away end on it too.
  connection->send(json::serialize(ctx.health.sync_frame(host_id, id_by_name)));
}

void push_health_check(server_context& ctx, const std::string& host_id, const std::string& container_name,
                       const std::string& removed_container_id) {
  auto connection = ctx.hub.find_by_host(host_id);
  if (!connection) return;  // it gets the whole set when it is back
  if (!removed_container_id.empty()) {
    connection->send(json::serialize(protocol::health_check_config_remove_frame(removed_container_id)));
    return;
  }
  if (auto frame = ctx.health.push_frame(host_id, container_name)) connection->send(json::serialize(*frame));
}

void health_follows_container(server_context& ctx, const std::string& host_id, const std::string& container_id,
                              const std::string& name) {
  auto frames = ctx.health.container_seen(host_id, container_id, name);
  if (frames.empty()) return;
  auto connection = ctx.hub.find_by_host(host_id);
  if (!connection) return;
  for (const auto& f : frames) connection->send(json::serialize(f));
}

bool on_health_event(server_context& ctx, const std::string& host_id, std::string_view event, const json::object& payload) {
  if (event == "health_check_result") {
    auto r = protocol::parse_health_check_result(payload);
    if (!r) {
      spdlog::debug("host {}: a health check result is refused: {}", host_id, r.error().message);
      return true;
    }
    if (auto c = ctx.health.on_result(host_id, *r)) keep(ctx, *c);
    return true;
  }
  if (event == "health_check_summary") {
    auto checks = protocol::parse_health_check_summary(payload);
    if (!checks) {
      spdlog::debug("host {}: a health check summary is refused: {}", host_id, checks.error().message);
      return true;
    }
    for (const auto& c : ctx.health.on_summary(host_id, *checks)) keep(ctx, c);
    return true;
  }
  if (event == "auto_restart") {
    auto r = protocol::parse_auto_restart(payload);
    if (!r) {
      spdlog::debug("host {}: an auto_restart report is refused: {}", host_id, r.error().message);
      return true;
    }
    if (auto c = ctx.health.on_restart(host_id, *r)) keep(ctx, *c);
    return true;
  }
  return false;
}

namespace {

// One check the server runs: its settings as last seen, its state, when it is next due.
struct server_check {
  std::string key;  // settings as JSON: a changed check starts over
  health::check_state state{health::restart_policy{}};
  std::chrono::steady_clock::time_point next{};
  bool busy = false;
  int restarts = 0;
};

net::awaitable<void> probe_from_server(server_context& ctx, health::prober& prober, std::shared_ptr<server_check> check,
                                       std::string host_id, std::string name, std::shared_ptr<std::size_t> in_flight) {
  const auto* e = ctx.health.find(host_id, name);
  if (e == nullptr) {
    check->busy = false;
    --*in_flight;
    co_return;
  }
  const auto request = health::request_of(e->settings.config);
  const auto container_id = e->container_id;
  auto outcome = co_await prober.run(request);
  --*in_flight;
  check->busy = false;
  if (ctx.health.find(host_id, name) == nullptr) co_return;  // removed meanwhile
  // A failure of a container that is not running says nothing of its service: it was stopped (on
  // purpose, as far as the server can tell), and is never restarted from here.
  bool stopped = false;
  if (!outcome.healthy && !container_id.empty()) {
    protocol::container_operation inspect;
    inspect.action = "inspect";
    inspect.container_id = container_id;
    auto seen = co_await ctx.hub.execute(host_id, std::move(inspect), ctx.config.command_timeout);
    const auto* c = seen.result == command_outcome::status::ok && seen.payload.is_object() ? seen.payload.as_object().if_contains("container") : nullptr;
    const auto* state = c != nullptr && c->is_object() ? c->as_object().if_contains("State") : nullptr;
    const auto* running = state != nullptr && state->is_object() ? state->as_object().if_contains("Running") : nullptr;
    stopped = running != nullptr && running->is_bool() && !running->as_bool();
    if (ctx.health.find(host_id, name) == nullptr) co_return;
  }
  if (stopped) check->state = health::check_state(check->state.policy());
  const auto step = stopped ? health::check_state::step{} : check->state.observe(outcome.healthy);
  protocol::health_check_result r;
  r.container_id = container_id;
  r.container_name = name;
  r.host_id = host_id;
  r.healthy = outcome.healthy;
  r.status_code = outcome.status_code;
  r.response_time_ms = outcome.response_time_ms;
  r.error_message = outcome.error;
  r.timestamp = now_iso8601();
  r.state = stopped ? "stopped" : std::string(check->state.state_name());
  r.consecutive_failures = check->state.consecutive_failures();
  r.restarts = check->state.restarts();
  r.gave_up = check->state.gave_up();
  if (!stopped) r.recent_ms = {outcome.healthy ? outcome.response_time_ms : -1};
  for (const auto& c : ctx.health.on_summary(host_id, {r})) keep(ctx, c);
  if (!step.restart && !step.gave_up) co_return;
  protocol::auto_restart_report report;
  report.container_id = r.container_id;
  report.container_name = name;
  report.host_id = host_id;
  report.reason = "health_check";
  report.max_restarts = check->state.policy().max_restarts;
  report.timestamp = now_iso8601();
  if (step.gave_up) {
    report.attempt = check->state.restarts();
    report.gave_up = true;
  } else {
    // Through the host's agent, as a user's restart would go: its allow-list has the last word.
    check->state.restarted();
    report.attempt = check->state.restarts();
    protocol::container_operation op;
    op.action = "restart";
    op.container_id = container_id;
    ctx.alerts.expect_stop(host_id, container_id, sys_clock::now() + std::chrono::minutes(2));
    auto done = co_await ctx.hub.execute(host_id, std::move(op), ctx.config.command_timeout);
    report.ok = done.result == command_outcome::status::ok;
    if (!report.ok) report.error = done.error.empty() ? "the host's agent did not restart it" : done.error;
  }
  if (auto c = ctx.health.on_restart(host_id, report)) keep(ctx, *c);
}

}  // namespace

net::awaitable<void> run_server_checks(server_context& ctx) {
  constexpr std::size_t max_in_flight = 16;
  health::prober prober(ctx.executor);
  std::map<std::pair<std::string, std::string>, std::shared_ptr<server_check>> checks;
  auto in_flight = std::make_shared<std::size_t>(0);
  net::steady_timer tick(ctx.executor);
  for (;;) {
    tick.expires_after(std::chrono::seconds(1));
    co_await tick.async_wait(use_tuple);
    const auto now = std::chrono::steady_clock::now();
    std::set<std::pair<std::string, std::string>> seen;
    for (const auto* e : ctx.health.server_checks()) {
      const std::pair<std::string, std::string> id{e->host_id, e->container_name};
      seen.insert(id);
      auto key = json::serialize(settings_json(e->settings));
      auto& check = checks[id];
      if (!check || check->key != key) {
        check = std::make_shared<server_check>();
        check->key = std::move(key);
        check->state = health::check_state(health::policy_of(e->settings.config));
        check->next = now;
      }
      if (!e->settings.config.enabled || check->busy || now < check->next || *in_flight >= max_in_flight) continue;
      // Among replicas, the one holding the host's agent probes it (the leader when none does).
      if (!ctx.replicas.works_for(e->host_id, ctx.hub.is_online(e->host_id))) continue;
      check->busy = true;
      check->next = now + std::chrono::seconds(e->settings.config.check_interval_seconds);
      ++*in_flight;
      net::co_spawn(ctx.executor, probe_from_server(ctx, prober, check, e->host_id, e->container_name, in_flight), net::detached);
    }
    std::erase_if(checks, [&seen](const auto& item) { return !seen.contains(item.first); });
  }
}

}  // namespace dockmon::server
