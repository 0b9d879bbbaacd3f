// Memory of the server's stats history: fills N container series as an agent would at its default 2 s
// interval (the raw hour full, rollups for the given hours), then prints the process's RSS growth.
// Usage: stats_memory [containers=2000] [hours=1]
#include "telemetry/stats_history.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

namespace {

long rss_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  const long containers = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 2000;
  const long hours = argc > 2 ? std::strtol(argv[2], nullptr, 10) : 1;
  if (containers < 1 || containers > 20000 || hours < 1 || hours > 24 * 30) {
    std::fprintf(stderr, "usage: stats_memory [containers 1-20000] [hours 1-720]\n");
    return 2;
  }
  const long before = rss_kib();
  dockmon::server::stats_history history;
  const std::int64_t start = 1'800'000'000;
  const std::int64_t samples = hours * 1800;
  for (std::int64_t i = 0; i < samples; ++i) {
    for (long c = 0; c < containers; ++c) {
      dockmon::server::stats_point p;
      p.t = start + 2 * i;
      p.cpu_percent = static_cast<double>((i + c) % 100);
      p.memory_usage = 50e6 + static_cast<double>(c * 1000 + i % 4096);
      p.memory_limit = 8e9;
      p.memory_percent = p.memory_usage / p.memory_limit * 100;
      p.network_rx = 1e9 + static_cast<double>(i * 1500 * (c % 7 + 1));
      p.network_tx = 2e9 + static_cast<double>(i * 900);
      p.disk_read = 3e9 + static_cast<double>(i * 4096);
      p.disk_write = 4e9 + static_cast<double>(i * 8192);
      p.pids = static_cast<double>(c % 50 + 1);
      history.add("ctr:host:" + std::to_string(c), p);
    }
    if (i % 900 == 0) history.take_completed_rollups();  // as the server does every minute or so
  }
  history.take_completed_rollups();
  const long after = rss_kib();
  std::printf("containers %ld, hours %ld: stats history %.1f MiB (%.1f KiB per container)\n", containers, hours,
              static_cast<double>(after - before) / 1024.0, static_cast<double>(after - before) / static_cast<double>(containers));
  return 0;
}
