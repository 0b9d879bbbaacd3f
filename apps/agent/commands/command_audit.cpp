// Append-only JSON lines, written with O_APPEND so a line is never interleaved or overwritten; each
// value is JSON-escaped, so nothing a server sends can forge a line.
#include "commands/command_audit.hpp"

#include "dockmon/common/net.hpp"
#include "dockmon/common/time.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace dockmon::agent {

command_audit::command_audit(const std::string& folder, std::size_t max_bytes)
    : changes_path_(folder + "/audit.log"), reads_path_(folder + "/audit-reads.log"), max_bytes_(max_bytes) {}

void command_audit::record(kind k, std::string_view command, std::string_view container_id,
                           std::string_view correlation_id, std::string_view result) {
  const std::string& path_ = k == kind::change ? changes_path_ : reads_path_;
  json::object line;
  line["time"] = to_iso8601(sys_clock::now(), true);
  line["command"] = command.substr(0, 64);
  if (!container_id.empty()) line["container"] = container_id.substr(0, 255);
  line["id"] = correlation_id.substr(0, 128);
  line["result"] = result.substr(0, 512);
  std::string text = json::serialize(line) + "\n";

  struct stat st {};
  if (::stat(path_.c_str(), &st) == 0 && static_cast<std::size_t>(st.st_size) + text.size() > max_bytes_) {
    std::string previous = path_ + ".1";
    ::rename(path_.c_str(), previous.c_str());
  }
  int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) {
    spdlog::error("cannot write the command audit log {}: {}", path_, std::strerror(errno));
    return;
  }
  if (::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size()))
    spdlog::error("cannot write the command audit log {}: {}", path_, std::strerror(errno));
  ::close(fd);
}

}  // namespace dockmon::agent
