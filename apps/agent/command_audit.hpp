// The agent's own record of every command it received: an append-only file of JSON lines in the
// data folder (time, command, container, result), rotated by size so it never fills the disk.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace dockmon::agent {

class command_audit {
 public:
  // max_bytes: past it the file becomes <path>.1 (replacing an older one) and a new file starts.
  explicit command_audit(std::string path, std::size_t max_bytes = 1024 * 1024);
  // Never throws: an audit file that cannot be written is reported in the log, and the command still runs.
  void record(std::string_view command, std::string_view container_id, std::string_view correlation_id,
              std::string_view result);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::size_t max_bytes_;
};

}  // namespace dockmon::agent
