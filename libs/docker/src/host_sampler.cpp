// Host CPU, memory and network numbers from <proc>/stat, <proc>/meminfo and the host's net/dev.
#include "dockmon/docker/host_sampler.hpp"

#include <charconv>
#include <fstream>
#include <sstream>
#include <string_view>
#include <utility>
#include <vector>

#include <sys/stat.h>

namespace dockmon::docker {

namespace {

std::optional<std::string> slurp(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return std::move(text).str();
}

std::uint64_t to_u64(std::string_view s) {
  std::uint64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

std::vector<std::string_view> fields(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    const auto start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

template <class F>
void for_each_line(std::string_view text, F f) {
  while (!text.empty()) {
    const auto nl = text.find('\n');
    f(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
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
        const auto v = to_u64(f[i]);
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
    std::uint64_t total = 0, available = 0;
    for_each_line(*meminfo, [&](std::string_view line) {
      const auto f = fields(line);
      if (f.size() < 2) return;
      if (f[0] == "MemTotal:") total = to_u64(f[1]);
      if (f[0] == "MemAvailable:") available = to_u64(f[1]);
    });
    if (total > 0 && available <= total) {
      out.mem_percent = static_cast<double>(total - available) / static_cast<double>(total) * 100.0;
    }
  }

  // <proc>/net/dev is the reader's own network namespace: in a container with the host's /proc mounted
  // that is the container's, so the host's init process (pid 1) is asked first.
  auto net_dev = slurp(proc_ + "/1/net/dev");
  if (!net_dev) net_dev = slurp(proc_ + "/net/dev");
  if (net_dev) {
    std::uint64_t bytes = 0;
    for_each_line(*net_dev, [&](std::string_view line) {
      const auto colon = line.find(':');
      if (colon == std::string_view::npos) return;
      const auto name = fields(line.substr(0, colon));
      if (name.empty() || name[0] == "lo") return;
      const auto f = fields(line.substr(colon + 1));
      if (f.size() < 9) return;
      bytes += to_u64(f[0]) + to_u64(f[8]);
    });
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
