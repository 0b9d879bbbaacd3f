// TLS to a tcp:// engine as the Docker CLI speaks it: the context from DOCKER_CERT_PATH's files, the
// handshake with the engine's name checked by OpenSSL itself, and errors that say which side refused.
#include "dockmon/common/env.hpp"
#include "http_io.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace dockmon::docker::detail {

namespace {

void load_or_throw(const std::string& file, std::string_view what, const error_code& ec) {
  if (ec) {
    throw config_error("DOCKER_CERT_PATH", "cannot load the " + std::string(what) + " " + file + ": " + ec.message());
  }
}

}  // namespace

bool refused_client_certificate(const error_code& ec) {
  if (ec.category() != net::error::get_ssl_category()) return false;
  switch (ERR_GET_REASON(static_cast<unsigned long>(ec.value()))) {
    case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
    case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
    case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
      return true;
    default:
      return false;
  }
}

std::shared_ptr<ssl::context> make_tls_context(const tls_options& tls) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  // The engine speaks TLS 1.2 or newer; nothing older is offered.
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                   ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  error_code ec;
  if (tls.verify) {
    ctx->load_verify_file(tls.ca_file, ec);
    load_or_throw(tls.ca_file, "CA certificate", ec);
    ctx->set_verify_mode(ssl::verify_peer);
  } else {
    // DOCKER_TLS without DOCKER_TLS_VERIFY: encrypted, but anyone in the path can be the engine.
    ctx->set_verify_mode(ssl::verify_none);
  }
  if (!tls.cert_file.empty()) {
    ctx->use_certificate_chain_file(tls.cert_file, ec);
    load_or_throw(tls.cert_file, "client certificate", ec);
    // OpenSSL checks here that the key belongs to the certificate.
    ctx->use_private_key_file(tls.key_file, ssl::context::pem, ec);
    load_or_throw(tls.key_file, "client key", ec);
  }
  return ctx;
}

net::awaitable<result<void>> connect(tls_stream& stream, const endpoint& ep, std::chrono::milliseconds timeout,
                                     const tls_options& tls) {
  if (auto c = co_await connect(beast::get_lowest_layer(stream), ep, timeout); !c) co_return c.error();
  SSL* ssl_handle = stream.native_handle();
  error_code not_ip;
  net::ip::make_address(ep.host, not_ip);
  if (tls.verify) {
    // OpenSSL compares the name during the handshake and reports a mismatch as a verify error of its own.
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl_handle);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    const int named = not_ip ? X509_VERIFY_PARAM_set1_host(param, ep.host.c_str(), 0)
                             : X509_VERIFY_PARAM_set1_ip_asc(param, ep.host.c_str());
    if (named != 1) co_return make_error(errc::transport, "cannot check the engine's TLS name against " + ep.host);
  }
  // Server name indication for host names only (RFC 6066 leaves addresses out). SSL_set_tlsext_host_name
  // spelled out: the macro's C cast trips -Wold-style-cast.
  if (not_ip && SSL_ctrl(ssl_handle, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                         const_cast<char*>(ep.host.c_str())) != 1) {
    co_return make_error(errc::transport, "cannot set the TLS server name " + ep.host);
  }
  auto [ec] = co_await stream.async_handshake(ssl::stream_base::client, use_tuple);
  if (!ec) co_return result<void>{};
  const long verdict = SSL_get_verify_result(ssl_handle);
  if (tls.verify && verdict != X509_V_OK) {
    const std::string why = X509_verify_cert_error_string(verdict);
    co_return make_error(errc::transport, "TLS with Docker at " + ep.describe() + ": the engine's certificate is refused (" +
                                              why + "); it must be signed by the CA in " + tls.ca_file + " and name " +
                                              ep.host);
  }
  co_return io_error(ec, "TLS handshake with Docker at " + ep.describe());
}

}  // namespace dockmon::docker::detail
