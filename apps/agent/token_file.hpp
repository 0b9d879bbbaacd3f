// The permanent token on disk: read at start, replaced atomically (mode 0600) when the server issues one.
#pragma once

#include <optional>
#include <string>

namespace dockmon::agent {

// nullopt when the file does not exist; throws std::runtime_error when it exists but cannot be read
// or holds something that is not a token.
std::optional<std::string> read_token_file(const std::string& path);

// Writes to a temporary file in the same folder (0600), syncs it, renames it over `path` and syncs the
// folder, so a crash leaves either the old token or the new one, never half of one.
void write_token_file(const std::string& path, const std::string& token);

}  // namespace dockmon::agent
