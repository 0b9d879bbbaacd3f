// One agent's WebSocket on /api/agent/ws: DockMon's registration, then frames in and out until it drops.
#pragma once

#include "server_context.hpp"

namespace dockmon::server {

// Takes over an upgraded HTTP connection (plain_stream or tls_stream). Returns when the agent is gone.
template <class Stream>
net::awaitable<void> run_agent_session(server_context& ctx, Stream stream, http::request<http::string_body> upgrade);

}  // namespace dockmon::server
