// What the agent tells the server about its host, read from the Docker engine (as DockMon's agent sends it).
#pragma once

#include "dockmon/docker/client.hpp"
#include "dockmon/protocol/registration.hpp"

namespace dockmon::agent {

struct host_facts {
  std::string engine_id;
  std::string hostname;
  std::string os_type;
  std::string os_version;
  std::string kernel_version;
  std::string docker_version;
  std::string daemon_started_at;
  std::int64_t total_memory = 0;
  std::int64_t num_cpus = 0;
};

// From GET /info; daemon_started_at from the engine socket's creation time when the socket is local.
net::awaitable<docker::result<host_facts>> read_host_facts(docker::client& docker);

// Pure: the facts out of Docker's /info answer (tested with recorded answers).
host_facts facts_from_info(const json::object& info);

json::object to_json(const host_facts& f);

// "amd64", "arm64", ... as Go names them, for DockMon's agent_arch.
std::string go_arch();

}  // namespace dockmon::agent
