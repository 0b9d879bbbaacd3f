// Public-key pins and self-signed certificates with OpenSSL 3's EVP and X509 calls.
#include "dockmon/common/tls.hpp"

#include "dockmon/common/env.hpp"
#include "dockmon/common/files.hpp"

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>

#include <array>
#include <cstdio>
#include <memory>
#include <stdexcept>

namespace dockmon::tls {

namespace {

template <class T, void (*Free)(T*)>
struct openssl_deleter {
  void operator()(T* p) const { Free(p); }
};
using x509_ptr = std::unique_ptr<X509, openssl_deleter<X509, X509_free>>;
using pkey_ptr = std::unique_ptr<EVP_PKEY, openssl_deleter<EVP_PKEY, EVP_PKEY_free>>;
using bio_ptr = std::unique_ptr<BIO, openssl_deleter<BIO, BIO_free_all>>;

std::string base64(const unsigned char* data, std::size_t size) {
  std::string out(4 * ((size + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(size));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

// Bytes decoded from standard base64 with padding; empty on anything else.
std::vector<unsigned char> unbase64(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0) return {};
  std::vector<unsigned char> out(text.size() / 4 * 3);
  const int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return {};
  // EVP_DecodeBlock counts the padding as zero bytes.
  std::size_t size = static_cast<std::size_t>(n);
  for (auto it = text.rbegin(); it != text.rend() && *it == '='; ++it) --size;
  out.resize(size);
  return out;
}

bool is_ip(const std::string& name) {
  std::array<unsigned char, 16> addr{};
  return ::inet_pton(AF_INET, name.c_str(), addr.data()) == 1 || ::inet_pton(AF_INET6, name.c_str(), addr.data()) == 1;
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(size));
}

}  // namespace

std::string public_key_pin(X509* cert) {
  if (cert == nullptr) return {};
  unsigned char* der = nullptr;
  const int size = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
  if (size <= 0) return {};
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(der, static_cast<std::size_t>(size), digest.data());
  OPENSSL_free(der);
  return "sha256//" + base64(digest.data(), digest.size());
}

std::string public_key_pin_of_file(const std::string& pem_path) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(pem_path.c_str(), "r"), &std::fclose);
  if (!f) throw std::runtime_error("cannot read certificate " + pem_path);
  x509_ptr cert(PEM_read_X509(f.get(), nullptr, nullptr, nullptr));
  auto pin = public_key_pin(cert.get());
  if (pin.empty()) throw std::runtime_error(pem_path + " holds no PEM certificate");
  return pin;
}

std::vector<std::string> parse_pins(std::string_view setting, std::string_view value) {
  std::vector<std::string> pins;
  while (!value.empty()) {
    const auto semi = value.find(';');
    auto one = value.substr(0, semi);
    value = semi == std::string_view::npos ? std::string_view{} : value.substr(semi + 1);
    while (!one.empty() && one.front() == ' ') one.remove_prefix(1);
    while (!one.empty() && one.back() == ' ') one.remove_suffix(1);
    if (one.empty()) continue;
    constexpr std::string_view prefix = "sha256//";
    if (!one.starts_with(prefix) || unbase64(one.substr(prefix.size())).size() != SHA256_DIGEST_LENGTH) {
      throw config_error(setting, "expects sha256//<base64 of 32 bytes> (the form of curl --pinnedpubkey), got '" +
                                      std::string(one.substr(0, 80)) + "'");
    }
    pins.emplace_back(one);
  }
  if (pins.empty()) throw config_error(setting, "holds no pin");
  return pins;
}

void write_self_signed(const std::string& cert_path, const std::string& key_path, const std::vector<std::string>& names) {
  pkey_ptr key(EVP_EC_gen("P-256"));
  if (!key) throw std::runtime_error("cannot generate a TLS key");
  x509_ptr cert(X509_new());
  X509_set_version(cert.get(), 2);
  // A random 128-bit serial: browsers refuse two certificates with one issuer and serial.
  std::array<unsigned char, 16> serial_bytes{};
  RAND_bytes(serial_bytes.data(), static_cast<int>(serial_bytes.size()));
  serial_bytes[0] &= 0x7f;
  BIGNUM* serial = BN_bin2bn(serial_bytes.data(), static_cast<int>(serial_bytes.size()), nullptr);
  BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(cert.get()));
  BN_free(serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60 * 60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 10L * 365 * 24 * 60 * 60);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* subject = X509_get_subject_name(cert.get());
  const std::string cn = names.empty() ? std::string("dockmon-server") : names.front();
  X509_NAME_add_entry_by_txt(subject, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("DockMon"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), subject);

  std::string san;
  for (const auto& name : names) san += (san.empty() ? "" : ",") + std::string(is_ip(name) ? "IP:" : "DNS:") + name;
  X509V3_CTX v3{};
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, cert.get(), cert.get(), nullptr, nullptr, 0);
  const std::pair<int, std::string> extensions[] = {
      // Not a CA: were its key to leak, it could not sign certificates for other names that a machine
      // trusting this file would accept. A trust store may still hold it as itself (DOCKMON_CA_FILE).
      {NID_basic_constraints, "critical,CA:FALSE"},
      {NID_key_usage, "critical,digitalSignature"},
      {NID_ext_key_usage, "serverAuth"},
      {NID_subject_alt_name, san},
  };
  for (const auto& [nid, value] : extensions) {
    if (value.empty()) continue;
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value.c_str());
    if (ext == nullptr) throw std::runtime_error("cannot build the certificate extension " + value);
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) throw std::runtime_error("cannot sign the certificate");

  bio_ptr key_pem(BIO_new(BIO_s_mem()));
  bio_ptr cert_pem(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PrivateKey(key_pem.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1 ||
      PEM_write_bio_X509(cert_pem.get(), cert.get()) != 1)
    throw std::runtime_error("cannot encode the certificate");
  write_file_atomically(key_path, bio_text(key_pem.get()), 0600);
  write_file_atomically(cert_path, bio_text(cert_pem.get()), 0644);
}

}  // namespace dockmon::tls
