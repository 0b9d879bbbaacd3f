// secretbox with a random nonce per seal; the "v1:" prefix leaves room for another scheme or key later.
#include "dockmon/common/sealing.hpp"

#include "dockmon/common/crypto.hpp"
#include "dockmon/common/files.hpp"

#include <sodium.h>

#include <stdexcept>
#include <vector>

namespace dockmon {

namespace {

constexpr std::string_view prefix = "v1:";
static_assert(crypto_secretbox_KEYBYTES == 32);

}  // namespace

secret_box secret_box::load_or_create(const std::string& path) {
  crypto_init();
  secret_box box;
  if (auto existing = read_small_file(path, 1024)) {
    if (existing->size() != box.key_.size())
      throw std::runtime_error(path + " is not a sealing key (32 bytes); restore it from a backup, or move it away to make a new "
                                      "one (the secrets it sealed must then be entered again)");
    std::copy(existing->begin(), existing->end(), box.key_.begin());
    return box;
  }
  crypto_secretbox_keygen(box.key_.data());
  write_file_atomically(path, std::string_view(reinterpret_cast<const char*>(box.key_.data()), box.key_.size()), 0600);
  return box;
}

secret_box secret_box::random() {
  crypto_init();
  secret_box box;
  crypto_secretbox_keygen(box.key_.data());
  return box;
}

std::string secret_box::seal(std::string_view plain) const {
  std::vector<unsigned char> sealed(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + plain.size());
  randombytes_buf(sealed.data(), crypto_secretbox_NONCEBYTES);
  crypto_secretbox_easy(sealed.data() + crypto_secretbox_NONCEBYTES, reinterpret_cast<const unsigned char*>(plain.data()),
                        plain.size(), sealed.data(), key_.data());
  std::string text(sodium_base64_ENCODED_LEN(sealed.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(text.data(), text.size(), sealed.data(), sealed.size(), sodium_base64_VARIANT_ORIGINAL);
  text.pop_back();  // the terminating NUL sodium counts in
  return std::string(prefix) + text;
}

std::optional<std::string> secret_box::open(std::string_view sealed) const {
  if (!sealed.starts_with(prefix)) return std::nullopt;
  sealed.remove_prefix(prefix.size());
  std::vector<unsigned char> bytes(sealed.size());
  std::size_t size = 0;
  if (sodium_base642bin(bytes.data(), bytes.size(), sealed.data(), sealed.size(), nullptr, &size, nullptr,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      size < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES)
    return std::nullopt;
  std::string plain(size - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES, '\0');
  if (crypto_secretbox_open_easy(reinterpret_cast<unsigned char*>(plain.data()), bytes.data() + crypto_secretbox_NONCEBYTES,
                                 size - crypto_secretbox_NONCEBYTES, bytes.data(), key_.data()) != 0)
    return std::nullopt;
  return plain;
}

}  // namespace dockmon
