// The server's own periodic duties that are not telemetry: removing agents long gone.
#pragma once

#include "server_context.hpp"

namespace dockmon::server {

// Removes agents offline longer than --agent-retention, each with an audit entry, at start and then
// every hour (or every half retention when that is shorter). Returns at once when retention is 0.
net::awaitable<void> run_housekeeping(server_context& ctx);

}  // namespace dockmon::server
