// Host CPU, memory and network numbers from <proc>/stat, <proc>/meminfo and the host's net/dev.
#include "dockmon/docker/host_sampler.hpp"

#include "proc_text.hpp"

#include <charconv>
#include <fstream>
#include <sstream>
#include <string_view>
#include <utility>
#include <vector>

#include <sys/stat.h>

namespace dockmon::docker {

namespace {

using detail::fields;
using detail::for_each_line;
using detail::meminfo_bytes;
using detail::parse_net_dev;
using detail::parse_u64;

std::optional<std::string> slurp(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return std::move(text).str();
}

}  // namespace

host_sampler::host_sampler(std::string proc_root) : proc_(std::move(proc_root)) {}

std::string host_sampler::default_proc_root() {
  struct stat st {};
  if (::stat("/host/proc/stat", &st) == 0) return "/host/proc";
  return "/proc";
}

host_sample host_sampler::sample() { return sample(std::chrono::steady_clock::now()); }

host_sample host_sampler::sample(std::chrono::steady_clock::time_point now) {
  host_sample out;
  out.timestamp = std::chrono::system_clock::now();

  if (auto stat = slurp(proc_ + "/stat")) {
    std::optional<cpu_ticks> ticks;
    for_each_line(*stat, [&](std::string_view line) {
      if (ticks || line.substr(0, 4) != "cpu ") return;
      // user nice system idle iowait irq softirq steal; guest time is already inside user and nice.
      const auto f = fields(line);
      cpu_ticks t;
      for (std::size_t i = 1; i < f.size() && i <= 8; ++i) {
        const auto v = parse_u64(f[i]).value_or(0);
        t.total += v;
        if (i != 4 && i != 5) t.busy += v;
      }
      ticks = t;
    });
    if (ticks && previous_cpu_ && ticks->total > previous_cpu_->total && ticks->busy >= previous_cpu_->busy) {
      out.cpu_percent = static_cast<double>(ticks->busy - previous_cpu_->busy) /
                        static_cast<double>(ticks->total - previous_cpu_->total) * 100.0;
    }
    if (ticks) previous_cpu_ = ticks;
  }

  if (auto meminfo = slurp(proc_ + "/meminfo")) {
    const auto total = meminfo_bytes(*meminfo, "MemTotal:");
    const auto available = meminfo_bytes(*meminfo, "MemAvailable:");
    if (total > 0 && available <= total) {
      out.mem_percent = static_cast<double>(total - available) / static_cast<double>(total) * 100.0;
    }
  }

  // <proc>/net/dev is the reader's own network namespace: in a container with the host's /proc mounted
  // that is the container's, so the host's init process (pid 1) is asked first.
  auto net_dev = slurp(proc_ + "/1/net/dev");
  if (!net_dev) net_dev = slurp(proc_ + "/net/dev");
  if (net_dev) {
    const auto [rx, tx] = parse_net_dev(*net_dev);
    const std::uint64_t bytes = rx + tx;
    const auto when = now;
    if (previous_net_bytes_ && bytes >= *previous_net_bytes_) {
      const std::chrono::duration<double> elapsed = when - previous_net_time_;
      if (elapsed.count() > 0) out.net_bytes_per_sec = static_cast<double>(bytes - *previous_net_bytes_) / elapsed.count();
    }
    previous_net_bytes_ = bytes;
    previous_net_time_ = when;
  }
  return out;
}

}  // namespace dockmon::docker
