// The REST API of DESIGN.md section 6: auth, tokens, hosts and container operations through agents.
#pragma once

#include "server_context.hpp"

namespace dockmon::server {

using request = http::request<http::string_body>;
using response = http::response<http::string_body>;

// peer: the client's address, for per-address limits.
net::awaitable<response> handle_request(server_context& ctx, request req, std::string peer);

// {"error": message} with the status; used wherever the server answers an error.
response error_response(const request& req, http::status status, std::string_view message);

}  // namespace dockmon::server
