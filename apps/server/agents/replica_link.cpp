// The replica's heartbeat and its holds in the database.
#include "agents/replica_link.hpp"

#include <spdlog/spdlog.h>

#include <unordered_set>

namespace dockmon::server {

namespace {

sys_clock::time_point lease_end() { return sys_clock::now() + replica_registry::lease; }

}  // namespace

void announce_replica(server_context& ctx) {
  if (!ctx.replicas.enabled()) return;
  ctx.db->replica_alive(ctx.replicas.id(), ctx.replicas.address(), lease_end());
  spdlog::info("replica {} at {}: agents and requests are shared with the other servers on this database",
               ctx.replicas.id(), ctx.replicas.address());
}

net::awaitable<void> run_replica_link(server_context& ctx) {
  if (!ctx.replicas.enabled()) co_return;
  net::steady_timer timer(ctx.executor);
  for (;;) {
    timer.expires_after(replica_registry::beat);
    auto [ec] = co_await timer.async_wait(use_tuple);
    if (ec) co_return;
    const auto asked = replica_registry::clock::now();
    auto beat = ctx.with_store([id = ctx.replicas.id(), address = ctx.replicas.address()](store::store& s) {
      s.replica_alive(id, address, lease_end());
      return s.hosts_held_by(id);
    });
    std::vector<std::string> held;
    try {
      held = co_await std::move(beat);
    } catch (const std::exception& e) {
      // Without the database no replica can renew; the agents stay with this one meanwhile.
      spdlog::warn("replica heartbeat failed: {}", e.what());
      continue;
    }
    const std::unordered_set<std::string> still_held(held.begin(), held.end());
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
  auto hold = ctx.with_store([host_id, id = ctx.replicas.id()](store::store& s) { s.hold_host(host_id, id, sys_clock::now()); });
  co_await std::move(hold);
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
