// Every REST route, the role it needs and its handler: the API's contents page. `dockmon-server routes`
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

constexpr route table[] = {
    // The server itself
    {get, "/healthz", open, healthz},
    {get, "/healthz/ready", open, healthz_ready},
    {get, "/metrics", viewer, metrics},
    {get, "/metrics/containers", viewer, metrics_containers},
    {get, "/api/status", admin, server_status},

    // Signing in and one's own account
    {post, "/api/auth/login", open, sign_in},
    {post, "/api/auth/logout", viewer, sign_out},
    {get, "/api/auth/me", viewer, who_am_i},
    {post, "/api/auth/password", viewer, change_password},
    {post, "/api/auth/logout-all", viewer, sign_out_everywhere},
    {post, "/api/api-keys", viewer, create_api_key},
    {get, "/api/api-keys", viewer, list_api_keys},
    {delete_, "/api/api-keys/{key_id}", viewer, revoke_api_key},

    // Users and the audit log
    {get, "/api/users", admin, list_users},
    {post, "/api/users", admin, create_user},
    {patch, "/api/users/{user_id}", admin, update_user},
    {delete_, "/api/users/{user_id}", admin, delete_user},
    {delete_, "/api/users/{user_id}/sessions", admin, end_user_sessions},
    {get, "/api/audit", admin, audit_log},

    // Hosts and their agents
    {get, "/api/hosts", viewer, list_hosts},
    {get, "/api/hosts/{host_id}", viewer, get_host},
    {get, "/api/hosts/{host_id}/stats", viewer, host_stats},
    {post, "/api/agent/generate-token", admin, new_registration_token},
    {post, "/api/hosts/{host_id}/reattach-token", admin, new_reattach_token},
    {post, "/api/hosts/{host_id}/revoke", admin, revoke_agent},

    // Containers, through the host's agent
    {get, "/api/hosts/{host_id}/containers", viewer, list_containers},
    {put, "/api/hosts/{host_id}/tags", operator_, set_host_tags},
    {put, "/api/hosts/{host_id}/containers/{container_id}/tags", operator_, set_container_tags},
    {get, "/api/hosts/{host_id}/containers/{container_id}", viewer, inspect_container},
    {get, "/api/hosts/{host_id}/containers/{container_id}/stats", viewer, container_stats},
    {get, "/api/hosts/{host_id}/containers/{container_id}/logs", viewer, container_logs},
    {delete_, "/api/hosts/{host_id}/containers/{container_id}", operator_, remove_container},
    {post, "/api/hosts/{host_id}/containers/{container_id}/start", operator_, power_container},
    {post, "/api/hosts/{host_id}/containers/{container_id}/stop", operator_, power_container},
    {post, "/api/hosts/{host_id}/containers/{container_id}/restart", operator_, power_container},
    {post, "/api/hosts/{host_id}/containers/{container_id}/kill", operator_, power_container},
    {post, "/api/hosts/{host_id}/containers/{container_id}/rename", operator_, rename_container},
    {post, "/api/hosts/{host_id}/containers/{container_id}/update", operator_, update_container},

    // Health checks (by container name: they follow a container through updates)
    {get, "/api/hosts/{host_id}/health-checks", viewer, list_health_checks},
    {get, "/api/hosts/{host_id}/containers/{container_id}/health-check", viewer, get_health_check},
    {put, "/api/hosts/{host_id}/containers/{container_id}/health-check", operator_, set_health_check},
    {delete_, "/api/hosts/{host_id}/containers/{container_id}/health-check", operator_, delete_health_check},

    // Events
    {get, "/api/events", viewer, list_events},

    // Alerts
    {get, "/api/alert-rules", viewer, list_alert_rules},
    {post, "/api/alert-rules", admin, create_alert_rule},
    {post, "/api/alert-rules/preview", admin, preview_alert_rule},
    {patch, "/api/alert-rules/{rule_id}", admin, update_alert_rule},
    {delete_, "/api/alert-rules/{rule_id}", admin, delete_alert_rule},
    {post, "/api/alert-rules/{rule_id}/snooze", operator_, snooze_alert_rule},
    {get, "/api/alerts", viewer, list_alerts},
    {post, "/api/alerts/{alert_id}/acknowledge", operator_, acknowledge_alert},
    {post, "/api/alerts/{alert_id}/snooze", operator_, snooze_alert},
    {post, "/api/alerts/{alert_id}/resolve", operator_, resolve_alert},
    {get, "/api/alerts/{alert_id}/ack-link", open, alert_ack_link_page},
    {post, "/api/alerts/{alert_id}/ack-link", open, acknowledge_alert_by_link},
    {get, "/api/blackouts", viewer, list_blackouts},
    {post, "/api/blackouts", admin, create_blackout},
    {delete_, "/api/blackouts/{blackout_id}", admin, delete_blackout},
    {get, "/api/notification-channels", viewer, list_channels},
    {post, "/api/notification-channels", admin, create_channel},
    {get, "/api/notification-channels/{channel_id}", viewer, get_channel},
    {patch, "/api/notification-channels/{channel_id}", admin, update_channel},
    {delete_, "/api/notification-channels/{channel_id}", admin, delete_channel},
    {post, "/api/notification-channels/{channel_id}/test", admin, test_channel},
    {get, "/api/notifications", viewer, list_notifications},

    // Agent builds and agents' self-updates
    {post, "/api/agent-builds", admin, upload_agent_build},
    {get, "/api/agent-builds", admin, list_agent_builds},
    {delete_, "/api/agent-builds/{version}/{arch}", admin, delete_agent_build},
    {post, "/api/hosts/{host_id}/agent/update", admin, update_agent},
};

}  // namespace

std::span<const route> api_routes() { return table; }

}  // namespace dockmon::server
