// Health checks between the book and the agents: loaded at start, given to each agent after it registers
// (DockMon's health_check_configs_sync), pushed at once when one changes or its container is re-made
// under its name, and the agents' results, summaries and restarts read into the book, with each change
// kept as an event of type "health" (the timeline, the alert engine, the live feed).
#pragma once

#include "server_context.hpp"

namespace dockmon::server {

// The stored checks into the book (a row that cannot be read is left out, and said).
void load_health_checks(server_context& ctx);
// One check as stored now (nullopt: removed) into the book, and to the host's agent when it is here: a
// change another replica made.
void apply_stored_health_check(server_context& ctx, const std::string& host_id, const std::string& container_name,
                               const std::optional<store::health_check_record>& stored);
// After registration: the host's checks, for its containers by their current ids.
net::awaitable<void> give_health_checks(server_context& ctx, std::string host_id, std::shared_ptr<agent_connection> connection);
// A check was set or removed: the agent hears of it at once (when it is online and the container known).
void push_health_check(server_context& ctx, const std::string& host_id, const std::string& container_name,
                       const std::string& removed_container_id = {});
// A container of that name has this id now: its check follows it.
void health_follows_container(server_context& ctx, const std::string& host_id, const std::string& container_id,
                              const std::string& name);
// health_check_result, health_check_summary and auto_restart from the agent; false for other events.
bool on_health_event(server_context& ctx, const std::string& host_id, std::string_view event, const json::object& payload);

// The checks users asked the server to run itself (check_from: server), for hosts whose agent cannot
// reach the service: probed here on their timers (at most 16 at once), the same thresholds, restarts
// asked of the host's agent (its allow-list still decides); the results read like an agent's.
net::awaitable<void> run_server_checks(server_context& ctx);

}  // namespace dockmon::server
