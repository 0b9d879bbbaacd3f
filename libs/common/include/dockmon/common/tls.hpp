// TLS helpers the agent and the server share: a certificate's public-key pin (curl's --pinnedpubkey
// form) and a self-signed certificate for servers whose operator gave none.
#pragma once

#include <openssl/ossl_typ.h>

#include <string>
#include <string_view>
#include <vector>

namespace dockmon::tls {

// "sha256//<base64 of the SHA-256 of the DER SubjectPublicKeyInfo>": stays the same when a certificate
// is renewed with the same key. Empty when the certificate has no readable key.
std::string public_key_pin(X509* cert);

// The pin of the first certificate in a PEM file; throws std::runtime_error when it cannot be read.
std::string public_key_pin_of_file(const std::string& pem_path);

// "sha256//<base64>[;sha256//<base64>...]" as curl takes it; each must decode to 32 bytes.
// Throws config_error naming `setting` otherwise. Returns the pins as given (normalised, no spaces).
std::vector<std::string> parse_pins(std::string_view setting, std::string_view value);

// Writes a new P-256 key (mode 0600) and a self-signed certificate for these names, valid ten years,
// each file replaced atomically. names: DNS names and IP addresses (IPs are recognised as such).
void write_self_signed(const std::string& cert_path, const std::string& key_path, const std::vector<std::string>& names);

}  // namespace dockmon::tls
