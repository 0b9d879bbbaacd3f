// Container stats read straight from the kernel (cgroup v1 or v2 files, /proc/<pid>/net/dev) for every
// container on one timer, plus the same numbers computed from Docker's stats API where no cgroup is reachable.
#pragma once

#include "dockmon/common/net.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace dockmon::docker {

// One container's numbers as `docker stats` (CLI 20.10) shows them.
struct container_sample {
  std::string container_id;
  double cpu_percent = 0;          // docker stats formula, 0 on the first sample of a container
  std::uint64_t memory_usage = 0;  // bytes, page cache (inactive_file) excluded as the CLI does
  std::uint64_t memory_limit = 0;  // bytes; an unlimited cgroup reports the host's MemTotal, as docker stats does
  double memory_percent = 0;
  std::uint64_t network_rx = 0, network_tx = 0;   // cumulative bytes, all interfaces of the netns but lo
  std::uint64_t block_read = 0, block_write = 0;  // cumulative bytes
  std::uint64_t pids = 0;
  std::chrono::system_clock::time_point timestamp;
};

enum class cgroup_version { v1, v2 };

namespace detail {
// A file descriptor that closes itself; the sampler keeps one per counter file and re-reads it with pread.
class file_handle {
 public:
  file_handle() = default;
  explicit file_handle(int fd) : fd_(fd) {}
  file_handle(file_handle&& other) noexcept : fd_(other.release()) {}
  file_handle& operator=(file_handle&& other) noexcept;
  file_handle(const file_handle&) = delete;
  file_handle& operator=(const file_handle&) = delete;
  ~file_handle();

  static file_handle open_read(const std::string& path);
  bool valid() const { return fd_ >= 0; }
  int get() const { return fd_; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  // The whole file from offset 0 into out (reused between calls); false when it can no longer be read.
  bool read_all(std::string& out) const;
  // True once the file was deleted; kernfs files of a removed cgroup fail read_all instead.
  bool unlinked() const;

 private:
  int fd_ = -1;
};
}  // namespace detail

class cgroup_sampler {
 public:
  // Detects the cgroup version from the mounts under sys_fs_cgroup: v2 when cgroup.controllers exists at
  // its root, v1 when per-controller dirs (memory/, cpuacct/) exist. nullopt when neither is readable.
  static std::optional<cgroup_sampler> open(std::string sys_fs_cgroup = "/sys/fs/cgroup", std::string proc = "/proc");

  cgroup_version version() const { return version_; }

  // Starts following a running container whose init process is `pid`: finds its cgroup dirs from
  // <proc>/<pid>/cgroup and opens the files each sweep re-reads. False when the cgroup dir is not
  // reachable (the caller then falls back to Docker's one-shot stats API). Tracking an id again
  // replaces the old entry (a restarted container has a new pid and new cgroup files).
  bool track(const std::string& container_id, int pid);
  void untrack(const std::string& container_id);
  bool tracking(const std::string& container_id) const;
  std::size_t size() const { return tracked_.size(); }

  // One sweep: reads /proc/stat and /proc/meminfo once and every tracked container. A container whose
  // files can no longer be read (its cgroup was removed) is returned in `gone` and untracked.
  // CPU, memory usage and network are read every sweep. The costly or slowly changing files (memory.stat
  // for the page-cache correction, the memory limit, block I/O, pids) are read again only when the
  // container's CPU or memory usage moved since they were read, and at least every
  // `slow_refresh_sweeps` sweeps: an idle container cannot change them by itself, and memory.stat alone
  // costs the kernel more than all the other files together.
  static constexpr unsigned slow_refresh_sweeps = 10;
  struct sweep_result {
    std::vector<container_sample> samples;
    std::vector<std::string> gone;
  };
  sweep_result sweep();

 private:
  struct tracked_container {
    detail::file_handle cpu_usage;     // v1 cpuacct.usage (ns), v2 cpu.stat (usage_usec)
    detail::file_handle memory_usage;  // v1 memory.usage_in_bytes, v2 memory.current
    detail::file_handle memory_stat;
    detail::file_handle memory_limit;  // v1 memory.limit_in_bytes, v2 memory.max
    detail::file_handle blkio;         // v1 blkio.throttle.io_service_bytes_recursive, v2 io.stat
    detail::file_handle blkio_fallback;  // v1 blkio.io_service_bytes_recursive (CFQ/BFQ accounting)
    detail::file_handle pids;
    detail::file_handle net_dev;
    std::optional<std::uint64_t> previous_cpu_ns;
    std::uint64_t previous_system_ns = 0;
    // The slow files' last values, and what CPU and memory usage read when they were taken.
    unsigned sweeps_since_slow_read = slow_refresh_sweeps;
    std::uint64_t cpu_ns_at_slow_read = 0, usage_at_slow_read = 0;
    std::uint64_t page_cache = 0;  // inactive file pages, subtracted from usage as the CLI does
    std::uint64_t limit = 0;       // 0: unlimited (reported as the host's MemTotal)
    std::uint64_t block_read = 0, block_write = 0, pid_count = 0;
  };

  cgroup_sampler(cgroup_version version, std::string sys_fs_cgroup, std::string proc);
  bool open_v1(tracked_container& c, const std::string& cgroup_file);
  bool open_v2(tracked_container& c, const std::string& cgroup_file);
  // False when a file the sample needs could not be read: the container is gone.
  bool read_container(tracked_container& c, container_sample& out);
  void read_slow_files(tracked_container& c, std::uint64_t usage);

  cgroup_version version_;
  std::string root_;
  std::string proc_;
  detail::file_handle proc_stat_;
  detail::file_handle meminfo_;
  std::map<std::string, tracked_container> tracked_;
  // Kernel cgroup files fail their reads once the cgroup is removed; a recorded tree of regular files
  // (tests) only shows removal in the link count, which costs an fstat per container per sweep.
  bool check_unlinked_ = true;
  std::string buffer_;  // reused by every read of a sweep
  // From the current sweep's /proc/stat and /proc/meminfo.
  std::uint64_t system_ns_ = 0;
  unsigned online_cpus_ = 0;
  std::uint64_t mem_total_ = 0;
};

// Docker's stats JSON (GET /containers/{id}/stats?stream=false) as a sample, with the CLI's formulas.
// CPU% uses precpu_stats of the same answer; a one-shot answer has none (system_cpu_usage 0), so pass
// the previous answer for the same container as `previous` to get CPU% over the time between the two.
container_sample sample_from_docker_stats(const std::string& container_id, const json::object& stats,
                                          const json::object* previous = nullptr);

}  // namespace dockmon::docker
