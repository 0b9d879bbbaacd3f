// One agent's WebSocket on /api/agent/ws: DockMon's registration, then frames in and out until it drops.
#pragma once

#include "server_context.hpp"

namespace dockmon::server {

using agent_websocket = websocket::stream<beast::tcp_stream>;

// Takes over an upgraded HTTP connection. Returns when the agent is gone.
net::awaitable<void> run_agent_session(server_context& ctx, beast::tcp_stream stream,
                                       http::request<http::string_body> upgrade);

}  // namespace dockmon::server
