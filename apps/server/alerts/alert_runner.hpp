// The alert engine in the server: its rules, hosts and firing alerts loaded from the store, telemetry's
// events and the agents' comings and goings fed in, and every change stored.
#pragma once

#include "server_context.hpp"

namespace dockmon::server {

// Loads the enabled rules, the known hosts (offline until their agents return) and the firing alerts,
// and hooks the engine to telemetry's events. Blocking; call before serving.
void start_alerts(server_context& ctx);

// Each second: the engine's clock moves on, and the alert rows that changed go to the store in order.
net::awaitable<void> run_alert_engine(server_context& ctx);

// The engine's changes and their notifications, stored now (blocking): at start and at shutdown.
void save_alert_changes(server_context& ctx);

// The stored blackout windows into the engine, replacing the ones it had; a broken one is left out (logged).
void apply_blackouts(server_context& ctx, const std::vector<store::blackout_record>& stored);

// A stored rule into the engine (enabled) or out of it (disabled); false when its definition is broken.
bool apply_stored_rule(server_context& ctx, const store::alert_rule_record& stored);
// Only the stored rule's snooze (its alerts go on, as with a snooze made here).
void snooze_stored_rule(server_context& ctx, const store::alert_rule_record& stored);

}  // namespace dockmon::server
