// Use of the host's mounted filesystems, for the disk part of the agent's host sample: the real ones
// (block devices and network shares), each device once, never the pseudo filesystems or Docker's own
// layers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dockmon::docker {

struct mount_entry {
  std::string device, mount_point, fs_type;
};

struct filesystem_use {
  std::string mount_point;
  std::uint64_t total_bytes = 0;
  std::uint64_t used_bytes = 0;       // total less free, as df counts it
  std::uint64_t available_bytes = 0;  // what an ordinary user may still write (blocks reserved for root left out)
};

// At most this many filesystems go into one sample.
inline constexpr std::size_t max_filesystems = 32;

// The filesystems worth reporting from a mounts table (/proc/<pid>/mounts): real filesystem types only,
// nothing under /proc, /sys, /run or Docker's data folder, each device at its first mount point.
std::vector<mount_entry> reported_mounts(std::string_view mounts_text);

// The use of each reported filesystem. proc_root "/proc": this agent's own view; another root (the
// host's /proc mounted into the agent's container): the host's mounts, reached through <root>/1/root.
// "/" is always there, even when its type is not one the table recognises (an overlay root).
std::vector<filesystem_use> sample_filesystems(const std::string& proc_root);

}  // namespace dockmon::docker
