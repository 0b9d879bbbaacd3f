// Agent builds signed with the operator's key: Ed25519 (libsodium) over a short statement that names the
// build's version, architecture and SHA-256. The statement, not the file, is signed, so that a signature
// made for one build proves nothing about another, and a build cannot be offered under another version
// or for another architecture; the SHA-256 ties it to the bytes.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace dockmon::signing {

// "dockmon-agent-build v1\nversion=<version>\narch=<arch>\nsha256=<lower-case hex>\n"
std::string build_statement(std::string_view version, std::string_view arch, std::string_view sha256_hex);

// "dockmon-agent-image v1\nversion=<version>\narch=<arch>\ndigest=sha256:<lower-case hex>\n": an agent
// image for container mode, named by its content digest (Docker checks the pulled content against it).
// Another first line than a build's, so that neither signature passes for the other.
std::string image_statement(std::string_view version, std::string_view arch, std::string_view digest_hex);

// True when `base64` is standard base64 of 64 bytes: the shape of a signature, checked or not.
bool well_formed_signature(std::string_view base64);

// What an agent is installed with (DOCKMON_UPDATE_PUBKEY): standard base64 of the 32-byte key.
class public_key {
 public:
  // nullopt unless `base64` is standard base64 (with padding) of exactly 32 bytes.
  static std::optional<public_key> parse(std::string_view base64);
  std::string base64() const;
  // True when `signature_base64` is this key's signature of `statement`; false for anything else,
  // malformed base64 included.
  bool verifies(std::string_view statement, std::string_view signature_base64) const;

 private:
  friend class secret_key;
  std::array<unsigned char, 32> bytes_{};
};

// The operator's signing key, kept in a file of its own (mode 0600), ideally away from the server: a
// server that holds it can sign whatever it likes. Wiped from memory when destroyed.
class secret_key {
 public:
  static secret_key generate();
  // Reads the text of a key file; throws std::runtime_error naming `where` when it is not one.
  static secret_key from_file_text(std::string_view text, const std::string& where);
  secret_key(const secret_key&) = default;
  secret_key& operator=(const secret_key&) = default;
  ~secret_key();

  // "dockmon-agent-signing-key v1\n<base64 of libsodium's 64-byte secret key>\n"
  std::string file_text() const;
  public_key public_part() const;
  // The detached signature of `statement`, standard base64 (88 characters).
  std::string sign(std::string_view statement) const;

 private:
  secret_key() = default;
  std::array<unsigned char, 64> bytes_{};
};

}  // namespace dockmon::signing
