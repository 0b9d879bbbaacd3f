// Accounts and administration over REST: API keys (scoped, expiring, revocable), signing out
// everywhere, the audit log, and revoking an agent.
#pragma once

#include "http_util.hpp"
#include "server_context.hpp"

namespace dockmon::server {

// Answers the request when its path is one of these routes; nullopt otherwise. `who` is authenticated.
net::awaitable<std::optional<response>> handle_admin_request(server_context& ctx, const request& req,
                                                             const store::principal& who, std::string_view path,
                                                             std::string_view query);

}  // namespace dockmon::server
