// The /metrics text (Prometheus exposition format 0.0.4), built from a snapshot of the live telemetry:
// the I/O thread only copies the numbers (a few milliseconds for thousands of containers), and the text,
// tens of megabytes for a fleet, is formatted on another thread.
#pragma once

#include "telemetry/stats_history.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace dockmon::server {

struct metrics_snapshot {
  struct container_row {
    std::string host_id, host, container_id, container;
    stats_point point;
  };
  struct host_row {
    std::string host_id, host;
    stats_point point;  // cpu_percent, memory_percent, and net bytes/s in network_rx
    std::size_t containers = 0;  // containers the agent reports stats of (running ones)
  };
  std::vector<container_row> containers;
  std::vector<host_row> hosts;
  std::size_t agents_online = 0;
  std::size_t pending_commands = 0;
  std::uint64_t samples_ingested = 0;
  std::uint64_t events_ingested = 0;
  std::uint64_t events_overflowed = 0;
  std::size_t stats_series = 0;
  std::uint64_t agent_input_refused = 0;  // samples and events over a host's limits (agent_limits)
};

std::string prometheus_text(const metrics_snapshot& snapshot);

}  // namespace dockmon::server
