// The REST handlers, one file per resource; routes.cpp names the route and role of each.
#pragma once

#include "agents/agent_hub.hpp"
#include "api/router.hpp"

namespace dockmon::server {

// accounts.cpp: signing in and out, passwords, API keys, users, the audit log.
net::awaitable<response> sign_in(route_call& c);
net::awaitable<response> sign_out(route_call& c);
net::awaitable<response> who_am_i(route_call& c);
net::awaitable<response> change_password(route_call& c);
net::awaitable<response> sign_out_everywhere(route_call& c);
net::awaitable<response> create_api_key(route_call& c);
net::awaitable<response> list_api_keys(route_call& c);
net::awaitable<response> revoke_api_key(route_call& c);
net::awaitable<response> list_users(route_call& c);
net::awaitable<response> create_user(route_call& c);
net::awaitable<response> update_user(route_call& c);
net::awaitable<response> delete_user(route_call& c);
net::awaitable<response> end_user_sessions(route_call& c);
net::awaitable<response> audit_log(route_call& c);

// hosts.cpp: hosts, their stats, registration tokens, revoking an agent.
// The host by its id; nullopt when unknown or when the id is not one the server makes.
net::awaitable<std::optional<store::host_record>> find_host(server_context& ctx, std::string host_id);
net::awaitable<response> list_hosts(route_call& c);
net::awaitable<response> get_host(route_call& c);
net::awaitable<response> host_stats(route_call& c);
net::awaitable<response> new_registration_token(route_call& c);
net::awaitable<response> new_reattach_token(route_call& c);
net::awaitable<response> revoke_agent(route_call& c);
net::awaitable<response> set_host_tags(route_call& c);
// Replaces the tags of the host's container of that name (containers.cpp resolves an id to it).
net::awaitable<response> set_container_tags_by_name(route_call& c, std::string host_id, std::string container_name);

// containers.cpp: containers through the host's agent, and their stats history.
net::awaitable<response> list_containers(route_call& c);
net::awaitable<response> container_stats(route_call& c);
net::awaitable<response> inspect_container(route_call& c);
net::awaitable<response> container_logs(route_call& c);
net::awaitable<response> remove_container(route_call& c);
net::awaitable<response> power_container(route_call& c);  // start, stop, restart, kill: the path's last part
net::awaitable<response> rename_container(route_call& c);
net::awaitable<response> update_container(route_call& c);
net::awaitable<response> set_container_tags(route_call& c);
net::awaitable<response> set_health_check(route_call& c);  // resolves the container, then health_checks.cpp

// health_checks.cpp: health checks per host and container (by name).
net::awaitable<response> list_health_checks(route_call& c);
net::awaitable<response> get_health_check(route_call& c);
// `body` is the request's, already found to be a check (masked secrets are filled in from the stored one here).
net::awaitable<response> put_health_check_by_name(route_call& c, std::string host_id, std::string container_name,
                                                  std::string container_id, json::object body);
net::awaitable<response> delete_health_check(route_call& c);

// alerts.cpp: alert rules and alerts.
net::awaitable<response> list_alert_rules(route_call& c);
net::awaitable<response> create_alert_rule(route_call& c);
net::awaitable<response> update_alert_rule(route_call& c);
net::awaitable<response> delete_alert_rule(route_call& c);
net::awaitable<response> list_alerts(route_call& c);
net::awaitable<response> acknowledge_alert(route_call& c);
net::awaitable<response> snooze_alert(route_call& c);
net::awaitable<response> resolve_alert(route_call& c);
net::awaitable<response> preview_alert_rule(route_call& c);
net::awaitable<response> snooze_alert_rule(route_call& c);
net::awaitable<response> alert_ack_link_page(route_call& c);        // open: the link's token is the credential
net::awaitable<response> acknowledge_alert_by_link(route_call& c);
net::awaitable<response> list_blackouts(route_call& c);
net::awaitable<response> create_blackout(route_call& c);
net::awaitable<response> delete_blackout(route_call& c);

// channels.cpp: notification channels and the delivery record.
net::awaitable<response> list_channels(route_call& c);
net::awaitable<response> get_channel(route_call& c);
net::awaitable<response> create_channel(route_call& c);
net::awaitable<response> update_channel(route_call& c);
net::awaitable<response> delete_channel(route_call& c);
net::awaitable<response> test_channel(route_call& c);
net::awaitable<response> list_notifications(route_call& c);

// events.cpp
net::awaitable<response> list_events(route_call& c);

// server_info.cpp: liveness, status, Prometheus metrics.
net::awaitable<response> healthz(route_call& c);
net::awaitable<response> healthz_ready(route_call& c);
net::awaitable<response> metrics_containers(route_call& c);
net::awaitable<response> server_status(route_call& c);
net::awaitable<response> metrics(route_call& c);

// agent_builds.cpp: builds for agents' self-updates, and asking an agent to update itself.
net::awaitable<response> upload_agent_build(route_call& c);
net::awaitable<response> list_agent_builds(route_call& c);
net::awaitable<response> delete_agent_build(route_call& c);
net::awaitable<response> update_agent(route_call& c);

// command_answers.cpp: the answer to a command the agent did not carry out: offline 409, timeout 504,
// the agent's error 502 (or the Docker status it passed on: 404, 409, 403, 429).
response command_failure(const request& req, const command_outcome& o);

}  // namespace dockmon::server
