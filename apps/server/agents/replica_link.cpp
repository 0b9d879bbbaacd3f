// The replica's heartbeat and its holds in the database.
#include "agents/replica_link.hpp"

#include "agents/replica_settings.hpp"

#include <spdlog/spdlog.h>

#include <unordered_set>

namespace dockmon::server {

namespace {

sys_clock::time_point lease_end() { return sys_clock::now() + replica_registry::lease; }

// What one beat reads: the hosts the database says this replica holds, the hosts any live replica
// holds, the live replicas, and the settings the others changed.
struct replica_view {
  std::vector<std::string> mine;
  std::vector<std::string> held;
  std::vector<store::replica_place> live;  // by id
  settings_news news;
};

replica_view beat_once(store::store& s, const std::string& id, const std::string& address, std::int64_t settings_seen) {
  s.replica_alive(id, address, lease_end());
  const auto now = sys_clock::now();
  return {s.hosts_held_by(id), s.hosts_held(now), s.live_replicas(now), read_settings_news(s, settings_seen, id)};
}

// The alert engine counts a host online while any live replica holds its agent; one held by none is
// counted away by the leader only, and online by the others, so that it is one alert.
void follow_other_replicas(server_context& ctx, const replica_view& view) {
  ctx.replicas.set_leader(view.live.empty() ? store::replica_place{} : view.live.front());
  auto peers = view.live;
  std::erase_if(peers, [&](const auto& p) { return p.replica_id == ctx.replicas.id(); });
  ctx.replicas.set_peers(std::move(peers));
  ctx.replicas.set_held(view.held);
  const auto now = sys_clock::now();
  for (const auto& [host_id, online] : ctx.alerts.host_states()) {
    if (ctx.hub.is_online(host_id)) continue;  // its agent is here: its session says
    const bool counts_online = ctx.replicas.held_anywhere(host_id) || !ctx.replicas.leads();
    if (counts_online != online) ctx.alerts.host_elsewhere(host_id, counts_online, now);
  }
  if (ctx.alerts.has_changes()) ctx.alerts_wake.wake();
}

}  // namespace

void announce_replica(server_context& ctx) {
  if (!ctx.replicas.enabled()) return;
  auto view = beat_once(*ctx.db, ctx.replicas.id(), ctx.replicas.address(), ctx.replicas.settings_seen());
  apply_settings_news(ctx, std::move(view.news));
  follow_other_replicas(ctx, view);
  spdlog::info("replica {} at {}: agents and requests are shared with the other servers on this database{}",
               ctx.replicas.id(), ctx.replicas.address(), ctx.replicas.leads() ? " (it counts hosts no replica holds)" : "");
}

net::awaitable<void> run_replica_link(server_context& ctx) {
  if (!ctx.replicas.enabled()) co_return;
  net::steady_timer timer(ctx.executor);
  for (;;) {
    timer.expires_after(replica_registry::beat);
    auto [ec] = co_await timer.async_wait(use_tuple);
    if (ec) co_return;
    const auto asked = replica_registry::clock::now();
    auto beat = ctx.with_store([id = ctx.replicas.id(), address = ctx.replicas.address(),
                                seen = ctx.replicas.settings_seen()](store::store& s) { return beat_once(s, id, address, seen); });
    replica_view view;
    try {
      view = co_await std::move(beat);
    } catch (const std::exception& e) {
      // Without the database no replica can renew; the agents stay with this one meanwhile.
      spdlog::warn("replica heartbeat failed: {}", e.what());
      continue;
    }
    apply_settings_news(ctx, std::move(view.news));
    follow_other_replicas(ctx, view);
    const std::unordered_set<std::string> still_held(view.mine.begin(), view.mine.end());
    for (const auto& host_id : ctx.hub.host_ids()) {
      if (still_held.contains(host_id) || !ctx.replicas.taken_before(host_id, asked)) continue;
      if (auto c = ctx.hub.find_by_host(host_id)) {
        spdlog::info("host {} is held by another replica now; closing its old connection here", host_id);
        c->close("the agent is connected to another server");
      }
    }
  }
}

net::awaitable<void> hold_host(server_context& ctx, std::string host_id) {
  if (!ctx.replicas.enabled()) co_return;
  ctx.replicas.took(host_id);
  auto hold = ctx.with_store([host_id, id = ctx.replicas.id()](store::store& s) {
    s.hold_host(host_id, id, sys_clock::now());
    return s.list_alerts({"firing", host_id, store::max_alert_limit});
  });
  // The host's alerts follow its agent: what another replica raised, this one now ends or goes on with.
  ctx.alerts.adopt(co_await std::move(hold), sys_clock::now());
}

net::awaitable<void> release_host(server_context& ctx, std::string host_id) {
  if (!ctx.replicas.enabled()) co_return;
  ctx.replicas.let_go(host_id);
  auto release = ctx.with_store([host_id, id = ctx.replicas.id()](store::store& s) { s.release_host(host_id, id); });
  co_await std::move(release);
}

net::awaitable<bool> held_elsewhere(server_context& ctx, std::string host_id) {
  if (!ctx.replicas.enabled()) co_return false;
  auto holder = ctx.with_store([host_id](store::store& s) { return s.host_holder(host_id, sys_clock::now()); });
  const auto found = co_await std::move(holder);
  co_return found && found->replica_id != ctx.replicas.id();
}

void retire_replica(server_context& ctx) noexcept {
  if (!ctx.replicas.enabled()) return;
  try {
    ctx.db->replica_gone(ctx.replicas.id());
  } catch (const std::exception& e) {
    spdlog::warn("could not retire replica {}: {} (its holds end with its lease)", ctx.replicas.id(), e.what());
  }
}

}  // namespace dockmon::server
