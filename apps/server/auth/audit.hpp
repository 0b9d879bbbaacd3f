// The server's audit log of what users, API keys and the server itself did.
#pragma once

#include "server_context.hpp"

namespace dockmon::server {

// Logs the entry and writes it on the database pool without delaying the caller.
void record_audit(server_context& ctx, const store::principal& who, std::string action, std::string target,
                  std::string result);

// The principal the server's own housekeeping acts as.
store::principal system_principal();

}  // namespace dockmon::server
