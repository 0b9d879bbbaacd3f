// Sealed, atomic, private storage of the permanent token.
#include "link/token_file.hpp"

#include "dockmon/common/crypto.hpp"
#include "dockmon/common/files.hpp"
#include "dockmon/protocol/registration.hpp"
#include "core/system_info.hpp"

#include <sodium.h>

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>

namespace dockmon::agent {

namespace {

constexpr std::string_view key_context = "dockmon-agent-token-v1";
// With the space: a plain token cannot hold one, so no legacy token is taken for a sealed file.
constexpr std::string_view sealed_format = "dockmon-sealed-token ";
constexpr std::string_view sealed_header = "dockmon-sealed-token v1";
// A token is at most 255 characters; its sealed file is far below this. Anything larger is not ours.
constexpr std::size_t max_file_bytes = 4096;

static_assert(crypto_secretbox_KEYBYTES == 32, "token_key holds 32 bytes");

std::string_view trim(std::string_view text) {
  const auto blank = [](char c) { return c == '\n' || c == '\r' || c == ' ' || c == '\t'; };
  while (!text.empty() && blank(text.back())) text.remove_suffix(1);
  while (!text.empty() && blank(text.front())) text.remove_prefix(1);
  return text;
}

bool looks_like_token(std::string_view token) {
  return !token.empty() && token.size() <= protocol::max_token_length && protocol::valid_identifier(token);
}

void hash_length_prefixed(crypto_generichash_state& state, std::string_view part) {
  // Little-endian 64-bit length first: the key depends on where one id ends and the next begins.
  unsigned char length[8];
  std::uint64_t n = part.size();
  for (auto& byte : length) {
    byte = static_cast<unsigned char>(n & 0xff);
    n >>= 8;
  }
  crypto_generichash_update(&state, length, sizeof length);
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(part.data()), part.size());
}

std::string seal(std::string_view token, const token_key& key) {
  std::vector<unsigned char> box(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + token.size());
  randombytes_buf(box.data(), crypto_secretbox_NONCEBYTES);
  crypto_secretbox_easy(box.data() + crypto_secretbox_NONCEBYTES, reinterpret_cast<const unsigned char*>(token.data()),
                        token.size(), box.data(), key.data());
  std::string encoded(sodium_base64_ENCODED_LEN(box.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(encoded.data(), encoded.size(), box.data(), box.size(), sodium_base64_VARIANT_ORIGINAL);
  encoded.resize(std::char_traits<char>::length(encoded.c_str()));
  return std::string(sealed_header) + "\n" + encoded + "\n";
}

std::string open_sealed(const std::string& path, std::string_view content, const token_key& key) {
  const auto newline = content.find('\n');
  const auto header = trim(content.substr(0, newline));
  if (header != sealed_header) {
    throw token_file_error("the token file " + path + " is in a format this agent does not know ('" +
                           std::string(header.substr(0, 64)) +
                           "'; written by a newer agent?); remove it to register again");
  }
  const auto encoded = newline == std::string_view::npos ? std::string_view() : trim(content.substr(newline + 1));
  std::vector<unsigned char> box(encoded.size());
  std::size_t box_size = 0;
  const bool decoded = sodium_base642bin(box.data(), box.size(), encoded.data(), encoded.size(), nullptr, &box_size,
                                         nullptr, sodium_base64_VARIANT_ORIGINAL) == 0;
  if (!decoded || box_size <= crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES) {
    throw token_file_error("the token file " + path +
                           " is damaged (its sealed part is not readable); remove it, or set REGISTRATION_TOKEN, to "
                           "register this host again");
  }
  const std::size_t sealed_size = box_size - crypto_secretbox_NONCEBYTES;
  std::string token(sealed_size - crypto_secretbox_MACBYTES, '\0');
  if (crypto_secretbox_open_easy(reinterpret_cast<unsigned char*>(token.data()), box.data() + crypto_secretbox_NONCEBYTES,
                                 sealed_size, box.data(), key.data()) != 0) {
    throw token_file_error(
        "the token file " + path +
        " was sealed on another host or for another Docker engine (its data folder was copied here, or Docker "
        "was reinstalled), or it was altered, so this agent cannot open it; remove it, or set REGISTRATION_TOKEN "
        "to a new registration token, to register this host again");
  }
  if (!looks_like_token(token)) {
    throw token_file_error("the token file " + path + " does not hold a valid token; remove it to register again");
  }
  return token;
}

}  // namespace

token_key::token_key(const host_identity& host) {
  crypto_init();
  crypto_generichash_state state;
  crypto_generichash_init(&state, reinterpret_cast<const unsigned char*>(key_context.data()), key_context.size(),
                          bytes_.size());
  hash_length_prefixed(state, host.engine_id);
  hash_length_prefixed(state, host.machine_id);
  crypto_generichash_final(&state, bytes_.data(), bytes_.size());
}

token_key::~token_key() { sodium_memzero(bytes_.data(), bytes_.size()); }

std::vector<std::string> default_machine_id_files() {
  // Never sent anywhere: the machine id, or, on a machine (or a container) without one, the hardware's
  // UUID, which root can read in a container too.
  return {"/host/etc/machine-id", "/etc/machine-id", "/var/lib/dbus/machine-id", "/sys/class/dmi/id/product_uuid"};
}

std::string read_machine_id(const std::vector<std::string>& candidates) {
  for (const auto& path : candidates) {
    std::ifstream in(path);
    std::string line;
    if (in && std::getline(in, line)) {
      auto id = trim(line);
      if (!id.empty()) return std::string(id);
    }
  }
  return {};
}

std::optional<stored_token> read_token_file(const std::string& path, const token_key& key) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return std::nullopt;
    throw token_file_error("cannot read the token file " + path + ": " + std::strerror(errno));
  }
  std::string content(max_file_bytes + 1, '\0');
  in.read(content.data(), static_cast<std::streamsize>(content.size()));
  content.resize(static_cast<std::size_t>(in.gcount()));
  if (content.size() > max_file_bytes) {
    throw token_file_error("the token file " + path + " is far larger than a token; remove it to register again");
  }
  const auto text = trim(content);
  if (text.empty()) return std::nullopt;
  if (text.starts_with(sealed_format)) return stored_token{open_sealed(path, text, key), true};
  if (!looks_like_token(text)) {
    throw token_file_error("the token file " + path + " does not hold a valid token; remove it to register again");
  }
  return stored_token{std::string(text), false};
}

void write_token_file(const std::string& path, std::string_view token, const token_key& key) {
  write_file_atomically(path, seal(token, key), 0600);
}

std::optional<std::string> load_token_file(const std::string& path, const token_key& key) {
  std::optional<stored_token> stored;
  try {
    stored = read_token_file(path, key);
  } catch (const token_file_error& e) {
    spdlog::error("{}", e.what());
    return std::nullopt;
  }
  if (!stored) return std::nullopt;
  if (!stored->sealed) {
    try {
      write_token_file(path, stored->token, key);
      spdlog::info("the token file {} was plain text; it is now sealed to this host", path);
    } catch (const std::exception& e) {
      spdlog::warn("the token file {} is plain text and could not be sealed ({}); it is used as it is", path,
                   e.what());
    }
  }
  return std::move(stored->token);
}

net::awaitable<docker::result<token_key>> host_token_key(docker::client& docker) {
  auto facts = co_await read_host_facts(docker);
  if (!facts) co_return facts.error();
  host_identity host{facts->engine_id, read_machine_id()};
  if (host.machine_id.empty()) {
    spdlog::warn("no machine id in /host/etc/machine-id, /etc/machine-id or /var/lib/dbus/machine-id and no "
                 "/sys/class/dmi/id/product_uuid: the token file is sealed to the Docker engine id alone, which the "
                 "server's admins can see; mount the host's /etc/machine-id at /host/etc/machine-id (read-only)");
  }
  co_return token_key(host);
}

}  // namespace dockmon::agent
