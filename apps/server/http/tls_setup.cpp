// Loads or makes the server's certificate and configures OpenSSL for HTTPS and WSS.
#include "http/tls_setup.hpp"

#include "dockmon/common/tls.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <filesystem>

#include <unistd.h>

namespace dockmon::server {

bool is_loopback(const std::string& host) {
  if (host == "localhost" || host == "::1" || host == "[::1]") return true;
  error_code ec;
  auto address = net::ip::make_address(host, ec);
  return !ec && address.is_loopback();
}

namespace {

// Names the self-signed certificate is valid for: this machine's name, the listen address, loopback.
std::vector<std::string> certificate_names(const server_config& config) {
  std::vector<std::string> names;
  std::array<char, 256> hostname{};
  if (::gethostname(hostname.data(), hostname.size() - 1) == 0 && hostname[0] != '\0') names.emplace_back(hostname.data());
  names.emplace_back("localhost");
  if (!config.listen.host.empty() && config.listen.host != "0.0.0.0" && config.listen.host != "::") {
    names.push_back(config.listen.host);
  }
  names.emplace_back("127.0.0.1");
  names.emplace_back("::1");
  return names;
}

}  // namespace

server_tls make_server_tls(const server_config& config) {
  server_tls out;
  std::string cert = config.tls_cert;
  std::string key = config.tls_key;
  if (cert.empty()) {
    using mode = server_config::tls_mode;
    if (config.tls == mode::off || (config.tls == mode::automatic && is_loopback(config.listen.host))) {
      if (!config.client_ca.empty())
        throw config_error("--client-ca/DOCKMON_CLIENT_CA", "needs TLS: give --tls-cert or --tls on");
      return out;
    }
    // Off loopback, never plain by accident: a pair made once and kept, so pins stay valid across restarts.
    const auto folder = std::filesystem::path(config.data_dir) / "tls";
    cert = (folder / "server.crt").string();
    key = (folder / "server.key").string();
    if (!std::filesystem::exists(cert) || !std::filesystem::exists(key)) {
      tls::write_self_signed(cert, key, certificate_names(config));
      spdlog::info("made a self-signed TLS certificate {}", cert);
    }
    out.generated_cert = cert;
  }
  out.context = std::make_unique<ssl::context>(ssl::context::tls_server);
  auto& c = *out.context;
  c.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  error_code ec;
  c.use_certificate_chain_file(cert, ec);
  if (ec) throw config_error("--tls-cert/DOCKMON_TLS_CERT", "cannot load " + cert + ": " + ec.message());
  c.use_private_key_file(key, ssl::context::pem, ec);
  if (ec) throw config_error("--tls-key/DOCKMON_TLS_KEY", "cannot load " + key + ": " + ec.message());
  if (SSL_CTX_check_private_key(c.native_handle()) != 1)
    throw config_error("--tls-key/DOCKMON_TLS_KEY", key + " is not the key of " + cert);
  out.public_key_pin = tls::public_key_pin(SSL_CTX_get0_certificate(c.native_handle()));

  if (!config.client_ca.empty()) {
    c.load_verify_file(config.client_ca, ec);
    if (ec) throw config_error("--client-ca/DOCKMON_CLIENT_CA", "cannot load " + config.client_ca + ": " + ec.message());
    // Asked of every client, required only on the agent socket (checked there): browsers have none.
    c.set_verify_mode(ssl::verify_peer);
    out.agents_need_client_cert = true;
  }
  return out;
}

bool peer_certificate_verified(SSL* ssl) {
  X509* peer = SSL_get0_peer_certificate(ssl);
  return peer != nullptr && SSL_get_verify_result(ssl) == X509_V_OK;
}

}  // namespace dockmon::server
