// The permanent token on disk, sealed to this host (crypto_secretbox under a key derived from the Docker
// engine id and the machine id), so that a copied data folder alone does not yield a usable token.
#pragma once

#include "dockmon/docker/client.hpp"

#include <array>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace dockmon::agent {

// What the seal is bound to.
struct host_identity {
  std::string engine_id;   // Docker's /info "ID"
  std::string machine_id;  // empty when the host has none readable
};

// BLAKE2b-256 keyed with the context "dockmon-agent-token-v1" over both ids (each length-prefixed, so
// "ab"+"c" and "a"+"bc" give different keys). Wiped when destroyed.
class token_key {
 public:
  explicit token_key(const host_identity& host);
  token_key(const token_key&) = default;
  token_key& operator=(const token_key&) = default;
  ~token_key();
  const unsigned char* data() const { return bytes_.data(); }

 private:
  std::array<unsigned char, 32> bytes_{};
};

// The host's machine id when the agent runs in a container with the host's /etc mounted at /host/etc,
// else the container's or the host's own.
std::vector<std::string> default_machine_id_files();

// The first non-empty file of `candidates`, trimmed; empty when none can be read.
std::string read_machine_id(const std::vector<std::string>& candidates = default_machine_id_files());

// A token file that exists but gives no token: sealed on another host, altered, unreadable, not a token.
class token_file_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct stored_token {
  std::string token;
  bool sealed = true;  // false: plain text, as agents before sealing wrote it
};

// nullopt when the file does not exist or is empty; throws token_file_error otherwise when it holds
// no token this host can open. A plain-text token file is still accepted (sealed == false).
std::optional<stored_token> read_token_file(const std::string& path, const token_key& key);

// Seals `token` with a fresh random nonce into "dockmon-sealed-token v1\n" + base64(nonce || box), written
// to a temporary file in the same folder (0600), synced, renamed over `path`, and the folder synced, so a
// crash leaves either the old token or the new one, never half of one. Throws std::runtime_error.
void write_token_file(const std::string& path, std::string_view token, const token_key& key);

// What the agent does at start: reads the file and reseals a plain-text one at once (plain text should
// not stay on disk until the server happens to issue a new token). A file that cannot be used is logged
// with what to do and gives nullopt, so REGISTRATION_TOKEN, when set, registers the host again and the
// new token replaces the file.
std::optional<std::string> load_token_file(const std::string& path, const token_key& key);

// The key for this host: the engine id from Docker's /info and read_machine_id(), which is logged when
// empty. Call once per process.
net::awaitable<docker::result<token_key>> host_token_key(docker::client& docker);

}  // namespace dockmon::agent
