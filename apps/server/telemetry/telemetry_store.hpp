// Moves telemetry between memory and the store: history restored at start, events and completed
// rollups written in batches, old rows pruned.
#pragma once

#include "server_context.hpp"

namespace dockmon::server {

// Loads the persisted rollups (last 30 days) into ctx.telemetry. Blocking; call before serving.
void restore_telemetry(server_context& ctx);

// Every few seconds: pending events and completed rollups to the store; hourly: prune.
net::awaitable<void> run_telemetry_flusher(server_context& ctx);

// What is still in memory, written synchronously (shutdown).
void flush_telemetry_now(server_context& ctx);

}  // namespace dockmon::server
