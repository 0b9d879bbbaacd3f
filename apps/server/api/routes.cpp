// Every REST route, the role it needs, its handler, and where it is served among replicas (here, by the
// replica holding the host's agent, by the one keeping the alert, or by the leader: api/router.hpp): the API's contents page. `dockmon-server routes`
// prints it; tests/integration/routes_test.cpp proves each one refuses strangers (401) and lower roles
// (403). Served outside this table by http_session: the web UI's files, the WebSockets /ws (browsers)
// and /api/agent/ws (agents), and GET /api/agent-builds/download/{ticket} (the ticket is the credential).
#include "api/handlers.hpp"

namespace dockmon::server {

namespace {

using enum http::verb;
constexpr auto open = access::open;
constexpr auto viewer = access::viewer;
constexpr auto operator_ = access::operator_;
constexpr auto admin = access::admin;
constexpr auto here = reach::here;
constexpr auto holder = reach::holder;
constexpr auto keeper = reach::keeper;
constexpr auto leader = reach::leader;

constexpr route table[] = {
    // The server itself
    {get, "/healthz", open, healthz, here},
    {get, "/healthz/ready", open, healthz_ready, here},
    {get, "/metrics", viewer, metrics, here},
    {get, "/metrics/containers", viewer, metrics_containers, here},
    {get, "/api/status", admin, server_status, here},

    // Signing in and one's own account
    {post, "/api/auth/login", open, sign_in, leader},
    {post, "/api/auth/logout", viewer, sign_out, here},
    {get, "/api/auth/me", viewer, who_am_i, here},
    {post, "/api/auth/password", viewer, change_password, here},
    {post, "/api/auth/logout-all", viewer, sign_out_everywhere, here},
    {post, "/api/api-keys", viewer, create_api_key, here},
    {get, "/api/api-keys", viewer, list_api_keys, here},
    {delete_, "/api/api-keys/{key_id}", viewer, revoke_api_key, here},

    // Users and the audit log
    {get, "/api/users", admin, list_users, here},
    {post, "/api/users", admin, create_user, here},
    {patch, "/api/users/{user_id}", admin, update_user, here},
    {delete_, "/api/users/{user_id}", admin, delete_user, here},
    {delete_, "/api/users/{user_id}/sessions", admin, end_user_sessions, here},
    {get, "/api/audit", admin, audit_log, here},

    // Hosts and their agents
    {get, "/api/hosts", viewer, list_hosts, here},
    {get, "/api/hosts/{host_id}", viewer, get_host, here},
    {get, "/api/hosts/{host_id}/stats", viewer, host_stats, holder},
    {post, "/api/agent/generate-token", admin, new_registration_token, here},
    {post, "/api/hosts/{host_id}/reattach-token", admin, new_reattach_token, here},
    {post, "/api/hosts/{host_id}/revoke", admin, revoke_agent, holder},

    // Containers, through the host's agent
    {get, "/api/hosts/{host_id}/containers", viewer, list_containers, holder},
    {put, "/api/hosts/{host_id}/tags", operator_, set_host_tags, holder},
    {put, "/api/hosts/{host_id}/containers/{container_id}/tags", operator_, set_container_tags, holder},
    {get, "/api/hosts/{host_id}/containers/{container_id}", viewer, inspect_container, holder},
    {get, "/api/hosts/{host_id}/containers/{container_id}/stats", viewer, container_stats, holder},
    {get, "/api/hosts/{host_id}/containers/{container_id}/logs", viewer, container_logs, holder},
    {delete_, "/api/hosts/{host_id}/containers/{container_id}", operator_, remove_container, holder},
    {post, "/api/hosts/{host_id}/containers/{container_id}/start", operator_, power_container, holder},
    {post, "/api/hosts/{host_id}/containers/{container_id}/stop", operator_, power_container, holder},
    {post, "/api/hosts/{host_id}/containers/{container_id}/restart", operator_, power_container, holder},
    {post, "/api/hosts/{host_id}/containers/{container_id}/kill", operator_, power_container, holder},
    {post, "/api/hosts/{host_id}/containers/{container_id}/rename", operator_, rename_container, holder},
    {post, "/api/hosts/{host_id}/containers/{container_id}/update", operator_, update_container, holder},

    // Health checks (by container name: they follow a container through updates)
    {get, "/api/hosts/{host_id}/health-checks", viewer, list_health_checks, holder},
    {get, "/api/hosts/{host_id}/containers/{container_id}/health-check", viewer, get_health_check, holder},
    {put, "/api/hosts/{host_id}/containers/{container_id}/health-check", operator_, set_health_check, holder},
    {delete_, "/api/hosts/{host_id}/containers/{container_id}/health-check", operator_, delete_health_check, holder},

    // Events
    {get, "/api/events", viewer, list_events, here},

    // Alerts
    {get, "/api/alert-rules", viewer, list_alert_rules, here},
    {post, "/api/alert-rules", admin, create_alert_rule, here},
    {post, "/api/alert-rules/preview", admin, preview_alert_rule, here},
    {patch, "/api/alert-rules/{rule_id}", admin, update_alert_rule, here},
    {delete_, "/api/alert-rules/{rule_id}", admin, delete_alert_rule, here},
    {post, "/api/alert-rules/{rule_id}/snooze", operator_, snooze_alert_rule, here},
    {get, "/api/alerts", viewer, list_alerts, here},
    {post, "/api/alerts/{alert_id}/acknowledge", operator_, acknowledge_alert, keeper},
    {post, "/api/alerts/{alert_id}/snooze", operator_, snooze_alert, keeper},
    {post, "/api/alerts/{alert_id}/resolve", operator_, resolve_alert, keeper},
    {get, "/api/alerts/{alert_id}/ack-link", open, alert_ack_link_page, here},
    {post, "/api/alerts/{alert_id}/ack-link", open, acknowledge_alert_by_link, keeper},
    {get, "/api/blackouts", viewer, list_blackouts, here},
    {post, "/api/blackouts", admin, create_blackout, here},
    {delete_, "/api/blackouts/{blackout_id}", admin, delete_blackout, here},
    {get, "/api/notification-channels", viewer, list_channels, here},
    {post, "/api/notification-channels", admin, create_channel, here},
    {get, "/api/notification-channels/{channel_id}", viewer, get_channel, here},
    {patch, "/api/notification-channels/{channel_id}", admin, update_channel, here},
    {delete_, "/api/notification-channels/{channel_id}", admin, delete_channel, here},
    {post, "/api/notification-channels/{channel_id}/test", admin, test_channel, here},
    {get, "/api/notifications", viewer, list_notifications, here},

    // Agent builds and agents' self-updates
    {post, "/api/agent-builds", admin, upload_agent_build, here},
    {get, "/api/agent-builds", admin, list_agent_builds, here},
    {delete_, "/api/agent-builds/{version}/{arch}", admin, delete_agent_build, here},
    {post, "/api/hosts/{host_id}/agent/update", admin, update_agent, holder},
};

}  // namespace

std::span<const route> api_routes() { return table; }

}  // namespace dockmon::server
