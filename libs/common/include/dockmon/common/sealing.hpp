// Secrets the server must use again later (a channel's webhook URL, bot token, SMTP password): sealed with
// a key kept in the data folder (libsodium's secretbox: XSalsa20-Poly1305), so the database alone, or a
// backup of it, reveals none of them.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace dockmon {

class secret_box {
 public:
  // The key in `path` (32 raw bytes, readable by the owner only), made on first use. Throws
  // std::runtime_error when the file cannot be read or written, or is not a key.
  static secret_box load_or_create(const std::string& path);
  // A random key, for tests.
  static secret_box random();

  // "v1:" and base64 of a fresh nonce followed by the ciphertext: the same text sealed twice differs.
  std::string seal(std::string_view plain) const;
  // The text sealed with this key; nullopt for anything else (another key, a changed byte, not sealed).
  std::optional<std::string> open(std::string_view sealed) const;

 private:
  std::array<unsigned char, 32> key_{};
};

}  // namespace dockmon
