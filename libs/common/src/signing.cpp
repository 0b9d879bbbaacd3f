// Ed25519 signatures of agent builds with libsodium.
#include "dockmon/common/signing.hpp"

#include "dockmon/common/crypto.hpp"

#include <sodium.h>

#include <algorithm>
#include <stdexcept>
#include <vector>

namespace dockmon::signing {

namespace {

static_assert(crypto_sign_PUBLICKEYBYTES == 32 && crypto_sign_SECRETKEYBYTES == 64 && crypto_sign_BYTES == 64,
              "the key and signature sizes this file format names");

constexpr std::string_view key_file_header = "dockmon-agent-signing-key v1";

std::string to_base64(const unsigned char* data, std::size_t size) {
  return base64_encode(std::string_view(reinterpret_cast<const char*>(data), size));
}

// Exactly `size` bytes from standard base64, or nothing.
std::optional<std::vector<unsigned char>> from_base64(std::string_view text, std::size_t size) {
  std::vector<unsigned char> out(size + 3);
  std::size_t decoded = 0;
  const char* end = nullptr;
  if (sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr, &decoded, &end,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != text.data() + text.size() || decoded != size) {
    return std::nullopt;
  }
  out.resize(size);
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.remove_suffix(1);
  while (!text.empty() && (text.front() == '\n' || text.front() == '\r' || text.front() == ' ')) text.remove_prefix(1);
  return text;
}

}  // namespace

std::string build_statement(std::string_view version, std::string_view arch, std::string_view sha256_hex) {
  return "dockmon-agent-build v1\nversion=" + std::string(version) + "\narch=" + std::string(arch) +
         "\nsha256=" + std::string(sha256_hex) + "\n";
}

std::string image_statement(std::string_view version, std::string_view arch, std::string_view digest_hex) {
  return "dockmon-agent-image v1\nversion=" + std::string(version) + "\narch=" + std::string(arch) +
         "\ndigest=sha256:" + std::string(digest_hex) + "\n";
}

bool well_formed_signature(std::string_view base64) { return from_base64(trim(base64), crypto_sign_BYTES).has_value(); }

std::optional<public_key> public_key::parse(std::string_view base64) {
  auto bytes = from_base64(trim(base64), crypto_sign_PUBLICKEYBYTES);
  if (!bytes) return std::nullopt;
  public_key key;
  std::copy(bytes->begin(), bytes->end(), key.bytes_.begin());
  return key;
}

std::string public_key::base64() const { return to_base64(bytes_.data(), bytes_.size()); }

bool public_key::verifies(std::string_view statement, std::string_view signature_base64) const {
  crypto_init();
  auto signature = from_base64(trim(signature_base64), crypto_sign_BYTES);
  if (!signature) return false;
  return crypto_sign_verify_detached(signature->data(), reinterpret_cast<const unsigned char*>(statement.data()),
                                     statement.size(), bytes_.data()) == 0;
}

secret_key secret_key::generate() {
  crypto_init();
  secret_key key;
  std::array<unsigned char, crypto_sign_PUBLICKEYBYTES> ignored{};
  crypto_sign_keypair(ignored.data(), key.bytes_.data());
  return key;
}

secret_key secret_key::from_file_text(std::string_view text, const std::string& where) {
  text = trim(text);
  const auto newline = text.find('\n');
  if (trim(text.substr(0, newline)) != key_file_header || newline == std::string_view::npos) {
    throw std::runtime_error(where + " is not a DockMon agent signing key (made by `dockmon-server keygen`)");
  }
  auto bytes = from_base64(trim(text.substr(newline + 1)), crypto_sign_SECRETKEYBYTES);
  if (!bytes) throw std::runtime_error(where + " is damaged: its key is not 64 bytes of base64");
  secret_key key;
  std::copy(bytes->begin(), bytes->end(), key.bytes_.begin());
  sodium_memzero(bytes->data(), bytes->size());
  return key;
}

secret_key::~secret_key() { sodium_memzero(bytes_.data(), bytes_.size()); }

std::string secret_key::file_text() const {
  return std::string(key_file_header) + "\n" + to_base64(bytes_.data(), bytes_.size()) + "\n";
}

public_key secret_key::public_part() const {
  public_key key;
  crypto_sign_ed25519_sk_to_pk(key.bytes_.data(), bytes_.data());
  return key;
}

std::string secret_key::sign(std::string_view statement) const {
  crypto_init();
  std::array<unsigned char, crypto_sign_BYTES> signature{};
  crypto_sign_detached(signature.data(), nullptr, reinterpret_cast<const unsigned char*>(statement.data()),
                       statement.size(), bytes_.data());
  return to_base64(signature.data(), signature.size());
}

}  // namespace dockmon::signing
