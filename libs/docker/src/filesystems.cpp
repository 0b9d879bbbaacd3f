// Mount table filtering and statvfs.
#include "dockmon/docker/filesystems.hpp"

#include "proc_text.hpp"

#include <algorithm>
#include <array>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include <sys/statvfs.h>

namespace dockmon::docker {

namespace {

constexpr std::array real_types{"ext2",    "ext3", "ext4", "xfs",  "btrfs", "zfs",   "f2fs", "jfs",  "reiserfs", "bcachefs",
                                "vfat",    "exfat", "ntfs", "ntfs3", "fuseblk", "nfs", "nfs4", "cifs", "smb3"};
constexpr std::array skipped_prefixes{"/proc", "/sys", "/run", "/dev", "/var/lib/docker", "/snap"};

bool under(std::string_view path, std::string_view folder) {
  return path == folder || (path.starts_with(folder) && path.size() > folder.size() && path[folder.size()] == '/');
}

// The kernel writes a space in a mount point as \040, a tab \011, a newline \012, a backslash \134.
std::string unescape(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' && s[i + 2] <= '7' &&
        s[i + 3] >= '0' && s[i + 3] <= '7') {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::optional<filesystem_use> use_of(const std::string& path, std::string mount_point) {
  struct statvfs st {};
  if (::statvfs(path.c_str(), &st) != 0 || st.f_blocks == 0) return std::nullopt;
  filesystem_use u;
  u.mount_point = std::move(mount_point);
  u.total_bytes = static_cast<std::uint64_t>(st.f_blocks) * st.f_frsize;
  u.used_bytes = static_cast<std::uint64_t>(st.f_blocks - st.f_bfree) * st.f_frsize;
  u.available_bytes = static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize;
  return u;
}

}  // namespace

std::vector<mount_entry> reported_mounts(std::string_view mounts_text) {
  std::vector<mount_entry> out;
  std::set<std::string> devices;
  detail::for_each_line(mounts_text, [&](std::string_view line) {
    const auto f = detail::fields(line);
    if (f.size() < 3 || out.size() >= max_filesystems) return;
    mount_entry m{unescape(f[0]), unescape(f[1]), std::string(f[2])};
    if (std::find(real_types.begin(), real_types.end(), m.fs_type) == real_types.end()) return;
    if (!m.mount_point.starts_with('/')) return;
    if (std::any_of(skipped_prefixes.begin(), skipped_prefixes.end(), [&](const char* p) { return under(m.mount_point, p); })) return;
    if (!devices.insert(m.device).second) return;  // a bind mount of a device already counted
    out.push_back(std::move(m));
  });
  return out;
}

std::vector<filesystem_use> sample_filesystems(const std::string& proc_root) {
  const bool own = proc_root == "/proc";
  const std::string table = own ? "/proc/self/mounts" : proc_root + "/1/mounts";
  const std::string prefix = own ? "" : proc_root + "/1/root";
  std::ifstream in(table);
  std::ostringstream text;
  if (in) text << in.rdbuf();
  std::vector<filesystem_use> out;
  for (const auto& m : reported_mounts(text.str())) {
    if (auto u = use_of(prefix + m.mount_point, m.mount_point)) out.push_back(std::move(*u));
  }
  if (std::none_of(out.begin(), out.end(), [](const filesystem_use& u) { return u.mount_point == "/"; })) {
    if (auto root = use_of(prefix.empty() ? "/" : prefix + "/", "/")) out.insert(out.begin(), std::move(*root));
  }
  if (out.size() > max_filesystems) out.resize(max_filesystems);
  return out;
}

}  // namespace dockmon::docker
