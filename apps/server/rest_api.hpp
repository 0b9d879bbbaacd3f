// The REST API of DESIGN.md section 6: auth, tokens, hosts and container operations through agents.
#pragma once

#include "http_util.hpp"
#include "server_context.hpp"

namespace dockmon::server {

// peer: the client's address, for per-address limits.
net::awaitable<response> handle_request(server_context& ctx, request req, std::string peer);

}  // namespace dockmon::server
