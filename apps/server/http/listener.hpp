// Accepts connections on the public port and starts one session coroutine for each.
#pragma once

#include "server_context.hpp"

namespace dockmon::server {

// Binds now (so a busy port fails the start) and returns the acceptor; accept_loop serves it.
net::ip::tcp::acceptor bind_listener(net::any_io_executor ex, const host_port& where);
net::awaitable<void> accept_loop(server_context& ctx, net::ip::tcp::acceptor acceptor);

}  // namespace dockmon::server
