// Whole-host CPU, memory and network rate from /proc, for the agent's flat `stats` frame.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace dockmon::docker {

struct host_sample {
  double cpu_percent = 0;        // busy share of all CPUs since the previous sample, 0..100
  double mem_percent = 0;        // (MemTotal - MemAvailable) / MemTotal x 100
  double net_bytes_per_sec = 0;  // rx + tx of every interface but lo, since the previous sample
  std::chrono::system_clock::time_point timestamp;
};

class host_sampler {
 public:
  // proc_root is "/proc", or "/host/proc" when the agent runs in a container with the host's /proc
  // mounted there: default_proc_root() picks.
  explicit host_sampler(std::string proc_root = "/proc");
  static std::string default_proc_root();

  // CPU% and network rate over the time since the previous call (0 the first time); memory as it is now.
  host_sample sample();
  // The same with the caller's clock reading, which the network rate divides by (tests pass their own).
  host_sample sample(std::chrono::steady_clock::time_point now);

 private:
  struct cpu_ticks {
    std::uint64_t busy = 0;
    std::uint64_t total = 0;
  };
  std::string proc_;
  std::optional<cpu_ticks> previous_cpu_;
  std::optional<std::uint64_t> previous_net_bytes_;
  std::chrono::steady_clock::time_point previous_net_time_;
};

}  // namespace dockmon::docker
