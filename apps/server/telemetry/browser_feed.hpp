// WS /ws: the live feed for browsers. Signed-in users subscribe to hosts or containers and receive
// their stats and events as they arrive; with replicas, also those of hosts the others hold
// (replicas/feed_relay).
#pragma once

#include "server_context.hpp"

namespace dockmon::server {

// Stream: plain_stream or tls_stream (server_context.hpp).
template <class Stream>
// client: the browser's address (behind a trusted proxy, the one it names).
net::awaitable<void> run_browser_feed(server_context& ctx, Stream stream, http::request<http::string_body> upgrade,
                                      std::string client);

}  // namespace dockmon::server
