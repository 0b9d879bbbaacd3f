// keygen and sign-agent-build.
#include "tools/signing_tool.hpp"

#include "dockmon/common/crypto.hpp"
#include "dockmon/common/files.hpp"
#include "dockmon/common/signing.hpp"
#include "dockmon/protocol/envelope.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <stdexcept>

namespace dockmon::server {

namespace {

constexpr std::size_t max_key_file = 4096;

int keygen(const std::string& folder) {
  const auto key_path = folder + "/agent-signing.key";
  const auto pub_path = folder + "/agent-signing.pub";
  if (std::filesystem::exists(key_path)) {
    std::fprintf(stderr, "dockmon-server keygen: %s exists; refusing to replace a signing key (agents trust its public half)\n",
                 key_path.c_str());
    return 1;
  }
  auto key = signing::secret_key::generate();
  const auto pub = key.public_part().base64();
  write_file_atomically(key_path, key.file_text(), 0600);
  write_file_atomically(pub_path, pub + "\n", 0644);
  std::printf("signing key: %s (keep it offline; whoever holds it can update every agent)\n"
              "public key:  %s\n"
              "install each agent with:\nDOCKMON_UPDATE_PUBKEY=%s\n",
              key_path.c_str(), pub_path.c_str(), pub.c_str());
  return 0;
}

int sign(const std::string& key_path, const std::string& version, const std::string& arch, const std::string& binary) {
  auto text = read_small_file(key_path, max_key_file);
  if (!text) throw std::runtime_error(key_path + " does not exist; make one with `dockmon-server keygen --out DIR`");
  auto key = signing::secret_key::from_file_text(*text, key_path);
  const auto digest = sha256_file_hex(binary);
  std::fprintf(stderr, "%s: sha256 %s, version %s, arch %s\n", binary.c_str(), digest.c_str(), version.c_str(), arch.c_str());
  std::printf("%s\n", key.sign(signing::build_statement(version, arch, digest)).c_str());
  return 0;
}

// An agent image for container mode, named by its digest (`docker inspect -f '{{index .RepoDigests 0}}'`).
int sign_image(const std::string& key_path, const std::string& version, const std::string& arch, std::string digest) {
  auto text = read_small_file(key_path, max_key_file);
  if (!text) throw std::runtime_error(key_path + " does not exist; make one with `dockmon-server keygen --out DIR`");
  if (auto pinned = protocol::pinned_image_digest(digest)) digest = std::move(*pinned);
  else if (digest.starts_with("sha256:")) digest.erase(0, 7);
  if (!is_sha256_hex(digest)) throw std::runtime_error("--digest must be sha256:<64 lower-case hex digits> or repository@sha256:<...>");
  auto key = signing::secret_key::from_file_text(*text, key_path);
  std::fprintf(stderr, "image sha256:%s, version %s, arch %s\n", digest.c_str(), version.c_str(), arch.c_str());
  std::printf("%s\n", key.sign(signing::image_statement(version, arch, digest)).c_str());
  return 0;
}

}  // namespace

bool is_signing_command(std::string_view name) {
  return name == "keygen" || name == "sign-agent-build" || name == "sign-agent-image";
}

int run_signing_tool(int argc, char** argv) {
  CLI::App app{"dockmon-server's signing tool for agent builds"};
  app.require_subcommand(1);
  std::string folder;
  auto* keygen_cmd = app.add_subcommand("keygen", "make an Ed25519 key pair for signing agent builds");
  keygen_cmd->add_option("--out", folder, "folder for agent-signing.key (0600) and agent-signing.pub")->required();
  std::string key_path, version, arch, binary;
  auto* sign_cmd = app.add_subcommand("sign-agent-build", "print the signature of one agent build (base64)");
  sign_cmd->add_option("--key", key_path, "the signing key made by keygen")->required();
  sign_cmd->add_option("--version", version, "the version the build reports (dockmon-agent --version)")->required();
  sign_cmd->add_option("--arch", arch, "its architecture as Go names it: amd64, arm64, ...")->required();
  sign_cmd->add_option("binary", binary, "the dockmon-agent binary")->required()->check(CLI::ExistingFile);
  std::string digest;
  auto* image_cmd = app.add_subcommand("sign-agent-image", "print the signature of one agent image for container mode (base64)");
  image_cmd->add_option("--key", key_path, "the signing key made by keygen")->required();
  image_cmd->add_option("--version", version, "the version the image's agent reports")->required();
  image_cmd->add_option("--arch", arch, "its architecture as Go names it: amd64, arm64, ...")->required();
  image_cmd->add_option("--digest", digest, "the image's digest: sha256:<hex>, or repository@sha256:<hex>")->required();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  try {
    if (keygen_cmd->parsed()) return keygen(folder);
    if (image_cmd->parsed()) return sign_image(key_path, version, arch, digest);
    return sign(key_path, version, arch, binary);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dockmon-server %s: %s\n", argv[1], e.what());
    return 1;
  }
}

}  // namespace dockmon::server
