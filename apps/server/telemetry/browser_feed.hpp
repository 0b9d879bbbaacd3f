// WS /ws: the live feed for browsers. Signed-in users subscribe to hosts or containers and receive
// their stats and events as they arrive.
#pragma once

#include "server_context.hpp"

namespace dockmon::server {

// Stream: plain_stream or tls_stream (server_context.hpp).
template <class Stream>
net::awaitable<void> run_browser_feed(server_context& ctx, Stream stream, http::request<http::string_body> upgrade);

}  // namespace dockmon::server
