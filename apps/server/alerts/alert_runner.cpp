// Loading, feeding and storing the alert engine. The engine changes only on the I/O thread; the store
// writes go through the database pool one batch at a time, so rows land in the order they changed.
#include "alerts/alert_runner.hpp"

#include <spdlog/spdlog.h>

namespace dockmon::server {

namespace {
using namespace std::chrono_literals;
}  // namespace

bool apply_stored_rule(server_context& ctx, const store::alert_rule_record& stored) {
  const auto now = sys_clock::now();
  if (!stored.enabled) {
    ctx.alerts.remove_rule(stored.id, now);
    return true;
  }
  error_code ec;
  const auto definition = json::parse(stored.definition, ec);
  auto parsed = ec ? std::variant<alerts::rule, std::string>(std::string("not JSON"))
                   : alerts::parse_rule(stored.id, stored.name, definition);
  if (auto* error = std::get_if<std::string>(&parsed)) {
    spdlog::error("alert rule {} ({}) is left out: {}", stored.id, stored.name, *error);
    return false;
  }
  ctx.alerts.set_rule(std::move(std::get<alerts::rule>(parsed)), now);
  return true;
}

void start_alerts(server_context& ctx) {
  const auto now = sys_clock::now();
  for (const auto& stored : ctx.db->list_alert_rules()) apply_stored_rule(ctx, stored);
  for (const auto& h : ctx.db->list_hosts()) ctx.alerts.host_known(h.id, h.name, now);
  ctx.alerts.restore(ctx.db->list_alerts({"firing", "", store::max_alert_limit}), now);
  ctx.db->save_alerts(ctx.alerts.take_changes());
  ctx.alerts.changes_stored();
  ctx.telemetry.on_event_kept([&ctx](const store::event_record& e) { ctx.alerts.on_container_event(e, sys_clock::now()); });
  ctx.telemetry.on_sample_kept([&ctx](const std::string& host_id, const std::string& container_id, const std::string& name,
                                      double cpu, double memory) {
    ctx.alerts.on_sample(host_id, container_id, name, cpu, memory, sys_clock::now());
  });
}

net::awaitable<void> run_alert_engine(server_context& ctx) {
  net::steady_timer timer(co_await net::this_coro::executor);
  for (;;) {
    timer.expires_after(1s);
    co_await timer.async_wait(use_tuple);
    ctx.alerts.tick(sys_clock::now());
    auto changed = ctx.alerts.take_changes();
    if (changed.empty()) continue;
    try {
      auto save = ctx.with_store([changed = std::move(changed)](store::store& s) { s.save_alerts(changed); });
      co_await std::move(save);
    } catch (const std::exception& e) {
      spdlog::error("cannot store alerts: {}", e.what());
    }
    ctx.alerts.changes_stored();
  }
}

}  // namespace dockmon::server
