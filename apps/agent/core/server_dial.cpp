// Dialing the server, with TCP and TLS as the settings ask.
#include "core/server_dial.hpp"

#include "dockmon/common/tls.hpp"

#include <algorithm>

namespace dockmon::agent {

namespace {
using namespace std::chrono_literals;
using tcp = net::ip::tcp;
constexpr auto connect_timeout = 15s;
}  // namespace

ssl::context make_client_tls(const agent_config& config) {
  ssl::context tls(ssl::context::tls_client);
  tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                  ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  if (config.ca_file.empty()) {
    tls.set_default_verify_paths();
  } else {
    tls.load_verify_file(config.ca_file);
  }
  // A pinned key replaces the CA chain and the host name (a self-signed server's key is its identity).
  const bool verify = config.pinned_pubkeys.empty() && !config.insecure_skip_verify;
  tls.set_verify_mode(verify ? ssl::verify_peer : ssl::verify_none);
  if (!config.client_cert.empty()) {
    tls.use_certificate_chain_file(config.client_cert);
    tls.use_private_key_file(config.client_key, ssl::context::pem);
  }
  return tls;
}

net::awaitable<dialed> connect_to_server(net::any_io_executor ex, const server_url& server) {
  dialed out;
  tcp::resolver resolver(ex);
  auto [resolve_ec, endpoints] = co_await resolver.async_resolve(server.host, server.port, use_tuple);
  if (resolve_ec) {
    out.error = "cannot resolve " + server.host + ": " + resolve_ec.message();
    co_return out;
  }
  beast::tcp_stream stream(ex);
  stream.expires_after(connect_timeout);
  auto [connect_ec, ep] = co_await stream.async_connect(endpoints, use_tuple);
  if (connect_ec) {
    out.error = "cannot connect to " + server.describe() + ": " + connect_ec.message();
    co_return out;
  }
  error_code ignored;
  stream.socket().set_option(tcp::no_delay(true), ignored);  // replies are small; don't let Nagle hold them
  out.stream.emplace(std::move(stream));
  co_return out;
}

net::awaitable<std::string> secure_handshake(beast::ssl_stream<beast::tcp_stream>& stream, const agent_config& config) {
  // SSL_set_tlsext_host_name spelled out: the macro's C cast trips -Wold-style-cast.
  if (SSL_ctrl(stream.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
               const_cast<char*>(config.server.host.c_str())) != 1) {
    co_return "cannot set TLS server name " + config.server.host;
  }
  const bool pinned = !config.pinned_pubkeys.empty();
  if (!pinned && !config.insecure_skip_verify) stream.set_verify_callback(ssl::host_name_verification(config.server.host));
  auto [tls_ec] = co_await stream.async_handshake(ssl::stream_base::client, use_tuple);
  if (tls_ec) co_return "TLS handshake with " + config.server.describe() + " failed: " + tls_ec.message();
  if (pinned) {
    const auto presented = tls::public_key_pin(SSL_get0_peer_certificate(stream.native_handle()));
    if (std::find(config.pinned_pubkeys.begin(), config.pinned_pubkeys.end(), presented) == config.pinned_pubkeys.end()) {
      co_return config.server.describe() + " presented the public key " + (presented.empty() ? "(none)" : presented) +
          ", which is not in DOCKMON_PINNED_PUBKEY: not this agent's server";
    }
  }
  co_return std::string();
}

std::string host_header(const server_url& server) { return server.host + ":" + server.port; }

}  // namespace dockmon::agent
