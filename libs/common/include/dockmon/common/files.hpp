// Files that must survive a crash whole (tokens, keys, agent builds, the self-update marker): written
// beside their final place, synced, then renamed over it, so a crash leaves the old file or the new one.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace dockmon {

// Writes `content` to `path` + ".tmp" (created with `mode`), syncs it, renames it over `path` and syncs
// the folder, which is created when missing. Throws std::runtime_error naming the step and the file.
void write_file_atomically(const std::string& path, std::string_view content, mode_t mode);

// The same with the bytes of the file `source`, copied in pieces (an agent binary is never held whole in
// memory). `path` must be on one filesystem with its ".tmp" sibling, which it is: they share a folder.
void copy_file_atomically(const std::string& source, const std::string& path, mode_t mode);

// Syncs a folder so that a rename or an unlink in it survives a crash. Best effort: errors are ignored.
void sync_folder(const std::string& folder);

// The whole file, or nullopt when it does not exist. Throws std::runtime_error when it cannot be read or
// is larger than max_bytes (not the small file it should be).
std::optional<std::string> read_small_file(const std::string& path, std::size_t max_bytes);

}  // namespace dockmon
