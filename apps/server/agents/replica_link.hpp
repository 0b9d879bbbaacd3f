// This server's life among replicas (--replica-address): it says it is alive every beat, records which
// hosts' agents it holds, and lets go of those another replica has taken since (closing their stale
// connections here). Nothing runs for a single server.
#pragma once

#include "server_context.hpp"

namespace dockmon::server {

// Says the replica is alive before it listens, so that the others may send it requests at once.
void announce_replica(server_context& ctx);
// Every beat: alive for another lease; agents another replica took meanwhile are closed here.
net::awaitable<void> run_replica_link(server_context& ctx);
// An agent connected here (this replica holds its host and takes on its firing alerts) / its connection
// here ended.
net::awaitable<void> hold_host(server_context& ctx, std::string host_id);
net::awaitable<void> release_host(server_context& ctx, std::string host_id);
// Whether another live replica holds the host now (its agent moved there).
net::awaitable<bool> held_elsewhere(server_context& ctx, std::string host_id);
// A clean stop: the replica's row and its holds go at once, so its agents are free for the others.
void retire_replica(server_context& ctx) noexcept;

}  // namespace dockmon::server
