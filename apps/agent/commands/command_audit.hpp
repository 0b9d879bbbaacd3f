// The agent's own record of every command it received: append-only files of JSON lines in the data
// folder (time, command, container, result), rotated by size so they never fill the disk. Commands that
// change something go to audit.log, reads to audit-reads.log, each rotated on its own: a flood of
// harmless commands cannot push the record of a stop or a removal out. Pings are not recorded.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace dockmon::agent {

class command_audit {
 public:
  enum class kind { change, read };
  // Files under `folder`; past max_bytes a file becomes <file>.1 (replacing an older one) and a new one starts.
  explicit command_audit(const std::string& folder, std::size_t max_bytes = 1024 * 1024);
  // Never throws: a file that cannot be written is reported in the log, and the command still runs.
  void record(kind k, std::string_view command, std::string_view container_id, std::string_view correlation_id,
              std::string_view result);
  const std::string& changes_path() const { return changes_path_; }
  const std::string& reads_path() const { return reads_path_; }

 private:
  std::string changes_path_;
  std::string reads_path_;
  std::size_t max_bytes_;
};

}  // namespace dockmon::agent
