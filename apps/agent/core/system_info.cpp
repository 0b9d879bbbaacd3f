// Host facts from the Docker engine.
#include "core/system_info.hpp"

#include "dockmon/common/json_fields.hpp"
#include "dockmon/common/time.hpp"

#include <sys/stat.h>
#include <sys/utsname.h>

namespace dockmon::agent {

host_facts facts_from_info(const json::object& info) {
  host_facts f;
  f.engine_id = string_field(info, "ID");
  f.hostname = string_field(info, "Name");
  f.os_type = string_field(info, "OSType");
  f.os_version = string_field(info, "OperatingSystem");
  f.kernel_version = string_field(info, "KernelVersion");
  f.docker_version = string_field(info, "ServerVersion");
  f.total_memory = int_field(info, "MemTotal");
  f.num_cpus = int_field(info, "NCPU");
  return f;
}

net::awaitable<docker::result<host_facts>> read_host_facts(docker::client& docker) {
  auto info = co_await docker.info();
  if (!info) co_return info.error();
  host_facts f = facts_from_info(*info);
  if (f.engine_id.empty())
    co_return docker::error{docker::errc::protocol, 0, "the Docker engine reported no ID in /info"};
  // The engine creates its socket when it starts: the socket's change time is the daemon's start time.
  if (docker.where().type == docker::endpoint::kind::unix_socket) {
    struct stat st {};
    if (::stat(docker.where().path.c_str(), &st) == 0)
      f.daemon_started_at = to_iso8601(sys_clock::time_point(std::chrono::seconds(st.st_ctime)));
  }
  co_return f;
}

json::object to_json(const host_facts& f) {
  json::object o;
  o["engine_id"] = f.engine_id;
  o["hostname"] = f.hostname;
  o["os_type"] = f.os_type;
  o["os_version"] = f.os_version;
  o["kernel_version"] = f.kernel_version;
  o["docker_version"] = f.docker_version;
  o["daemon_started_at"] = f.daemon_started_at;
  o["total_memory"] = f.total_memory;
  o["num_cpus"] = f.num_cpus;
  return o;
}

std::string go_arch() {
  struct utsname u {};
  if (::uname(&u) != 0) return "unknown";
  std::string m = u.machine;
  if (m == "x86_64") return "amd64";
  if (m == "aarch64") return "arm64";
  if (m.rfind("armv7", 0) == 0) return "arm";
  if (m == "i686" || m == "i386") return "386";
  return m;
}

}  // namespace dockmon::agent
