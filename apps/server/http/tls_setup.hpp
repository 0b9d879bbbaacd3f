// The server's TLS: the operator's certificate, or a self-signed one kept in the data folder when the
// server listens beyond loopback, and optionally client certificates required of agents.
#pragma once

#include "core/config.hpp"
#include "dockmon/common/net.hpp"

#include <memory>
#include <string>

namespace dockmon::server {

struct server_tls {
  std::unique_ptr<ssl::context> context;  // null: plain HTTP
  std::string public_key_pin;             // sha256//... of the served certificate, for DOCKMON_PINNED_PUBKEY
  std::string generated_cert;             // path of a self-signed certificate made or reused, else empty
  bool agents_need_client_cert = false;
};

// True for 127.0.0.0/8, ::1 and "localhost": nobody else can reach such a listener.
bool is_loopback(const std::string& host);

// Throws config_error naming the flag when a file cannot be loaded.
server_tls make_server_tls(const server_config& config);

// True when the peer presented a certificate and it verified against --client-ca.
bool peer_certificate_verified(SSL* ssl);

}  // namespace dockmon::server
