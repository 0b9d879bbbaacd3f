// What a Prometheus scrape costs the server: fills the live telemetry with H hosts x C containers (one
// stats batch each), then times building the text of /metrics/containers (every container) and of the
// default /metrics (hosts only), and separately the part the I/O thread pays (taking the snapshot), over R
// rounds. Usage: metrics_text [hosts=80] [containers=100] [rounds=20]
#include "telemetry/live_telemetry.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

using namespace dockmon;
using namespace dockmon::server;

int main(int argc, char** argv) {
  const long hosts = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 80;
  const long per_host = argc > 2 ? std::strtol(argv[2], nullptr, 10) : 100;
  const long rounds = argc > 3 ? std::strtol(argv[3], nullptr, 10) : 20;
  if (hosts < 1 || hosts > 20000 || per_host < 1 || per_host > 1000 || rounds < 1 || rounds > 1000) {
    std::fprintf(stderr, "usage: metrics_text [hosts 1-20000] [containers per host 1-1000] [rounds 1-1000]\n");
    return 2;
  }
  live_telemetry telemetry;
  for (long h = 0; h < hosts; ++h) {
    const std::string host_id = "host-" + std::to_string(h);
    telemetry.host_named(host_id, "node-" + std::to_string(h) + ".example.com");
    json::array containers;
    for (long c = 0; c < per_host; ++c) {
      char id[65];
      std::snprintf(id, sizeof id, "%016lx%016lx%016lx%016lx", h, c, h * 7919 + c, c * 104729);
      containers.push_back(json::object{{"container_id", id},
                                        {"container_name", "app-" + std::to_string(c)},
                                        {"cpu_percent", 1.25 + static_cast<double>(c % 50)},
                                        {"memory_usage", 52428800 + c * 4096},
                                        {"memory_limit", 8589934592},
                                        {"memory_percent", 0.61},
                                        {"network_rx", 123456789 + c},
                                        {"network_tx", 98765432 + c},
                                        {"disk_read", 4096 * c},
                                        {"disk_write", 8192 * c},
                                        {"pids", 4}});
    }
    telemetry.on_container_stats_batch(host_id, json::object{{"timestamp", "2026-11-27T12:00:00Z"}, {"containers", containers}});
    telemetry.on_host_stats(host_id, json::object{{"cpu_percent", 12.5}, {"mem_percent", 40.0}, {"net_bytes_per_sec", 1000.0}});
  }
  using clock = std::chrono::steady_clock;
  for (const bool with_containers : {true, false}) {
    std::size_t bytes = 0;
    double whole = 0, snapshot = 0;
    for (long r = 0; r < rounds; ++r) {
      auto t0 = clock::now();
      // /metrics by default (--metrics-containers none) copies no container.
      auto snap = telemetry.metrics(static_cast<std::size_t>(hosts), 0, with_containers);
      auto t1 = clock::now();
      auto text = prometheus_text(snap);
      auto t2 = clock::now();
      bytes = text.size();
      snapshot += std::chrono::duration<double, std::milli>(t1 - t0).count();
      whole += std::chrono::duration<double, std::milli>(t2 - t0).count();
    }
    std::printf("%ld hosts x %ld containers: %-19s %7.1f MB, built in %7.1f ms, of which the I/O thread's snapshot %.2f ms\n",
                hosts, per_host, with_containers ? "/metrics/containers" : "/metrics", static_cast<double>(bytes) / 1e6,
                whole / static_cast<double>(rounds), snapshot / static_cast<double>(rounds));
  }
  return 0;
}
