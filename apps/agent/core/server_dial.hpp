// How the agent reaches its server: name lookup, TCP with a deadline, and for https the TLS handshake
// with the trust its settings ask for (the system CAs, DOCKMON_CA_FILE, or a pinned key). The WebSocket
// and the download of an agent build both go this way, so a build comes from the server the agent trusts.
#pragma once

#include "core/config.hpp"

#include <optional>
#include <string>

namespace dockmon::agent {

// The client side of wss:// and https://: whom to trust and the certificate to show a server that asks.
ssl::context make_client_tls(const agent_config& config);

struct dialed {
  std::optional<beast::tcp_stream> stream;  // connected, when error is empty
  std::string error;                        // why not, for the log or a progress event
};
// Resolves the server's name and connects (15 s).
net::awaitable<dialed> connect_to_server(net::any_io_executor ex, const server_url& server);

// Server name (SNI), the checks the settings ask for, the handshake and the pin. Empty on success, else why.
net::awaitable<std::string> secure_handshake(beast::ssl_stream<beast::tcp_stream>& stream, const agent_config& config);

// "Host" for requests: host:port as dialed.
std::string host_header(const server_url& server);

}  // namespace dockmon::agent
