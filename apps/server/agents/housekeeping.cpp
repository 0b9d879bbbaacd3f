// Retention of offline agents.
#include "agents/housekeeping.hpp"

#include "auth/audit.hpp"

#include <spdlog/spdlog.h>

namespace dockmon::server {

net::awaitable<void> run_housekeeping(server_context& ctx) {
  const auto retention = ctx.config.agent_retention;
  if (retention.count() == 0) co_return;
  const auto period = std::min<std::chrono::milliseconds>(std::chrono::hours(1), std::max(retention / 2, std::chrono::milliseconds(500)));
  net::steady_timer timer(ctx.executor);
  for (;;) {
    const auto cutoff = sys_clock::now() - std::chrono::duration_cast<sys_clock::duration>(retention);
    auto sweep = ctx.with_store([cutoff](store::store& s) { return s.remove_agents_offline_since(cutoff); });
    std::vector<store::removed_agent> removed;
    try {
      removed = co_await std::move(sweep);
    } catch (const std::exception& e) {
      spdlog::error("removing old offline agents failed: {}", e.what());
    }
    for (const auto& r : removed) {
      // An agent that came back in the meantime is connected: its next registration makes a new host.
      if (auto c = ctx.hub.find_by_host(r.host_id)) c->close("removed after the retention period");
      record_audit(ctx, system_principal(), "remove_offline_agent", r.host_name + " (" + r.host_id + ")",
                   "offline since " + r.last_seen_at);
    }
    timer.expires_after(period);
    auto [ec] = co_await timer.async_wait(use_tuple);
    if (ec) co_return;
  }
}

}  // namespace dockmon::server
