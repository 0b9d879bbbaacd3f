// One TCP connection on the public port: HTTP requests with keep-alive, or an upgrade to the agent socket.
#pragma once

#include "server_context.hpp"

namespace dockmon::server {

net::awaitable<void> run_http_session(server_context& ctx, net::ip::tcp::socket socket);

}  // namespace dockmon::server
