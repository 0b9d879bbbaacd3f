// One TCP connection on the public port: HTTP requests with keep-alive, or an upgrade to the agent socket.
#pragma once

#include "server_context.hpp"

namespace dockmon::server {

// The slot holds the connection's place under the front door's caps until the session ends.
net::awaitable<void> run_http_session(server_context& ctx, net::ip::tcp::socket socket, front_door::slot slot);

}  // namespace dockmon::server
