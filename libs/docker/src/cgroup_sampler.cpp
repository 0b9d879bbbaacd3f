// Reads container counters from cgroup v1/v2 files and /proc with descriptors kept open between sweeps,
// and turns Docker's stats JSON into the same numbers, both with the formulas of `docker stats` (CLI 20.10).
#include "dockmon/docker/cgroup_sampler.hpp"

#include "proc_text.hpp"

#include "dockmon/common/json_fields.hpp"
#include "dockmon/common/time.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <string_view>
#include <utility>

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

namespace dockmon::docker {

namespace detail {

file_handle& file_handle::operator=(file_handle&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.release();
  }
  return *this;
}

file_handle::~file_handle() {
  if (fd_ >= 0) ::close(fd_);
}

file_handle file_handle::open_read(const std::string& path) {
  return file_handle(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
}

bool file_handle::read_all(std::string& out) const {
  out.clear();
  if (fd_ < 0) return false;
  // Kernel seq files produce their text from offset 0 on every pread, so no seek or reopen is needed.
  // A read that leaves room in the buffer is the end: asking again would make the kernel format the
  // whole file a second time just to answer 0.
  std::size_t used = 0;
  for (;;) {
    out.resize(std::max<std::size_t>(out.capacity(), used + 16384));
    const auto room = out.size() - used;
    const auto n = ::pread(fd_, out.data() + used, room, static_cast<off_t>(used));
    if (n < 0) {
      if (errno == EINTR) continue;
      out.clear();
      return false;
    }
    used += static_cast<std::size_t>(n);
    if (static_cast<std::size_t>(n) < room) break;
  }
  out.resize(used);
  return true;
}

bool file_handle::unlinked() const {
  struct stat st {};
  return fd_ >= 0 && ::fstat(fd_, &st) == 0 && st.st_nlink == 0;
}

}  // namespace detail

namespace {

using detail::file_handle;
using detail::fields;
using detail::for_each_line;
using detail::keyed_value;
using detail::parse_mem_total;
using detail::parse_net_dev;
using detail::parse_u64;
using detail::trim;

struct proc_stat_totals {
  std::uint64_t system_ns = 0;
  unsigned online_cpus = 0;
};

// The daemon's getSystemCPUUsage: user..softirq (the 7 fields after "cpu") in ticks, as nanoseconds.
proc_stat_totals parse_proc_stat(std::string_view text) {
  static const auto ticks_per_second = static_cast<std::uint64_t>(std::max(1L, ::sysconf(_SC_CLK_TCK)));
  proc_stat_totals out;
  for_each_line(text, [&](std::string_view line) {
    if (line.size() < 4 || line.substr(0, 3) != "cpu") return;
    if (line[3] == ' ') {
      const auto f = fields(line);
      std::uint64_t ticks = 0;
      for (std::size_t i = 1; i < f.size() && i <= 7; ++i) ticks += parse_u64(f[i]).value_or(0);
      out.system_ns = ticks * (1'000'000'000ULL / ticks_per_second);
    } else if (line[3] >= '0' && line[3] <= '9') {
      ++out.online_cpus;
    }
  });
  return out;
}

// v1 blkio "MAJ:MIN Read N" lines; found is false when the file has no per-device lines at all.
struct io_bytes {
  std::uint64_t read = 0, write = 0;
  bool found = false;
};

io_bytes parse_blkio_v1(std::string_view text) {
  io_bytes out;
  for_each_line(text, [&](std::string_view line) {
    const auto f = fields(line);
    if (f.size() != 3) return;
    out.found = true;
    if (f[1] == "Read") out.read += parse_u64(f[2]).value_or(0);
    if (f[1] == "Write") out.write += parse_u64(f[2]).value_or(0);
  });
  return out;
}

// v2 io.stat: "MAJ:MIN rbytes=N wbytes=N rios=N ..." per device.
io_bytes parse_io_stat(std::string_view text) {
  io_bytes out;
  for_each_line(text, [&](std::string_view line) {
    for (auto f : fields(line)) {
      if (f.substr(0, 7) == "rbytes=") out.read += parse_u64(f.substr(7)).value_or(0);
      if (f.substr(0, 7) == "wbytes=") out.write += parse_u64(f.substr(7)).value_or(0);
    }
    out.found = true;
  });
  return out;
}

bool on_cgroup_fs(const std::string& path) {
  struct statfs fs {};
  return ::statfs(path.c_str(), &fs) == 0 &&
         (fs.f_type == CGROUP_SUPER_MAGIC || fs.f_type == CGROUP2_SUPER_MAGIC);
}

bool is_dir(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::optional<std::string> read_small_file(const std::string& path) {
  auto f = file_handle::open_read(path);
  std::string text;
  if (!f.read_all(text)) return std::nullopt;
  return text;
}

// The CLI's calculateMemUsageUnixNoCache: usage less inactive file pages (total_ for v1, plain for v2).
std::uint64_t usage_without_cache(std::uint64_t usage, std::optional<std::uint64_t> total_inactive_file,
                                  std::optional<std::uint64_t> inactive_file) {
  if (total_inactive_file && *total_inactive_file < usage) return usage - *total_inactive_file;
  if (inactive_file && *inactive_file < usage) return usage - *inactive_file;
  return usage;
}

double percent_of(std::uint64_t part, std::uint64_t whole) {
  return whole == 0 ? 0.0 : static_cast<double>(part) / static_cast<double>(whole) * 100.0;
}

double cpu_percent(std::uint64_t cpu_now, std::uint64_t cpu_before, std::uint64_t system_now,
                   std::uint64_t system_before, unsigned online_cpus) {
  if (cpu_now <= cpu_before || system_now <= system_before) return 0.0;
  return static_cast<double>(cpu_now - cpu_before) / static_cast<double>(system_now - system_before) *
         static_cast<double>(online_cpus) * 100.0;
}

}  // namespace

cgroup_sampler::cgroup_sampler(cgroup_version version, std::string sys_fs_cgroup, std::string proc)
    : version_(version), root_(std::move(sys_fs_cgroup)), proc_(std::move(proc)) {
  proc_stat_ = file_handle::open_read(proc_ + "/stat");
  meminfo_ = file_handle::open_read(proc_ + "/meminfo");
  check_unlinked_ = !(on_cgroup_fs(root_) || on_cgroup_fs(root_ + "/memory") || on_cgroup_fs(root_ + "/cpuacct"));
}

std::optional<cgroup_sampler> cgroup_sampler::open(std::string sys_fs_cgroup, std::string proc) {
  while (sys_fs_cgroup.size() > 1 && sys_fs_cgroup.back() == '/') sys_fs_cgroup.pop_back();
  struct stat st {};
  if (::stat((sys_fs_cgroup + "/cgroup.controllers").c_str(), &st) == 0) {
    return cgroup_sampler(cgroup_version::v2, std::move(sys_fs_cgroup), std::move(proc));
  }
  if (is_dir(sys_fs_cgroup + "/memory") || is_dir(sys_fs_cgroup + "/cpuacct") ||
      is_dir(sys_fs_cgroup + "/cpu,cpuacct")) {
    return cgroup_sampler(cgroup_version::v1, std::move(sys_fs_cgroup), std::move(proc));
  }
  return std::nullopt;
}

bool cgroup_sampler::open_v1(tracked_container& c, const std::string& cgroup_file) {
  // "4:memory:/docker/<id>" or "2:cpu,cpuacct:/docker/<id>": a controller's dir is under the mount named
  // after it (/sys/fs/cgroup/cpuacct is a link to cpu,cpuacct on most systems) or the joined list.
  std::map<std::string, std::string, std::less<>> dir_of;
  for_each_line(cgroup_file, [&](std::string_view line) {
    const auto first = line.find(':');
    const auto second = first == std::string_view::npos ? first : line.find(':', first + 1);
    if (second == std::string_view::npos) return;
    const auto list = line.substr(first + 1, second - first - 1);
    const auto path = std::string(line.substr(second + 1));
    std::string_view rest = list;
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      const auto name = std::string(rest.substr(0, comma));
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
      if (name.empty() || dir_of.count(name) != 0) continue;
      for (const auto& mount : {name, std::string(list)}) {
        auto dir = root_ + "/" + mount + path;
        if (is_dir(dir)) {
          dir_of.emplace(name, std::move(dir));
          break;
        }
      }
    }
  });
  auto file_in = [&](std::string_view controller, const char* name) {
    auto it = dir_of.find(controller);
    return it == dir_of.end() ? file_handle{} : file_handle::open_read(it->second + "/" + name);
  };
  c.cpu_usage = file_in("cpuacct", "cpuacct.usage");
  c.memory_usage = file_in("memory", "memory.usage_in_bytes");
  c.memory_stat = file_in("memory", "memory.stat");
  c.memory_limit = file_in("memory", "memory.limit_in_bytes");
  c.blkio = file_in("blkio", "blkio.throttle.io_service_bytes_recursive");
  c.blkio_fallback = file_in("blkio", "blkio.io_service_bytes_recursive");
  if (!c.blkio_fallback.valid()) c.blkio_fallback = file_in("blkio", "blkio.bfq.io_service_bytes_recursive");
  c.pids = file_in("pids", "pids.current");
  return c.cpu_usage.valid() && c.memory_usage.valid();
}

bool cgroup_sampler::open_v2(tracked_container& c, const std::string& cgroup_file) {
  std::optional<std::string> dir;
  for_each_line(cgroup_file, [&](std::string_view line) {
    if (line.substr(0, 3) == "0::") dir = root_ + std::string(line.substr(3));
  });
  if (!dir || !is_dir(*dir)) return false;
  // Controllers not enabled for the group leave their files absent; those numbers then read 0.
  c.cpu_usage = file_handle::open_read(*dir + "/cpu.stat");
  c.memory_usage = file_handle::open_read(*dir + "/memory.current");
  c.memory_stat = file_handle::open_read(*dir + "/memory.stat");
  c.memory_limit = file_handle::open_read(*dir + "/memory.max");
  c.blkio = file_handle::open_read(*dir + "/io.stat");
  c.pids = file_handle::open_read(*dir + "/pids.current");
  return c.cpu_usage.valid();
}

bool cgroup_sampler::track(const std::string& container_id, int pid) {
  if (pid <= 0) return false;
  const auto pid_dir = proc_ + "/" + std::to_string(pid);
  auto cgroup_file = read_small_file(pid_dir + "/cgroup");
  if (!cgroup_file) return false;
  tracked_container c;
  const bool ok = version_ == cgroup_version::v1 ? open_v1(c, *cgroup_file) : open_v2(c, *cgroup_file);
  if (!ok) return false;
  c.net_dev = file_handle::open_read(pid_dir + "/net/dev");
  tracked_.insert_or_assign(container_id, std::move(c));
  return true;
}

void cgroup_sampler::untrack(const std::string& container_id) { tracked_.erase(container_id); }

bool cgroup_sampler::tracking(const std::string& container_id) const { return tracked_.count(container_id) != 0; }

bool cgroup_sampler::read_container(tracked_container& c, container_sample& out) {
  // CPU: the one file every tracked container has; its failure means the cgroup is gone.
  if (!c.cpu_usage.read_all(buffer_) || (check_unlinked_ && c.cpu_usage.unlinked())) return false;
  std::uint64_t cpu_ns = 0;
  if (version_ == cgroup_version::v1) {
    cpu_ns = parse_u64(buffer_).value_or(0);
  } else {
    cpu_ns = keyed_value(buffer_, "usage_usec").value_or(0) * 1000;
  }
  if (c.previous_cpu_ns) {
    out.cpu_percent = cpu_percent(cpu_ns, *c.previous_cpu_ns, system_ns_, c.previous_system_ns, online_cpus_);
  }
  c.previous_cpu_ns = cpu_ns;
  c.previous_system_ns = system_ns_;

  std::uint64_t usage = 0;
  if (c.memory_usage.valid()) {
    if (!c.memory_usage.read_all(buffer_)) return false;
    usage = parse_u64(buffer_).value_or(0);
  }
  if (++c.sweeps_since_slow_read >= slow_refresh_sweeps || cpu_ns != c.cpu_ns_at_slow_read ||
      usage != c.usage_at_slow_read) {
    read_slow_files(c, usage);
    c.sweeps_since_slow_read = 0;
    c.cpu_ns_at_slow_read = cpu_ns;
    c.usage_at_slow_read = usage;
  }
  out.memory_usage = c.page_cache < usage ? usage - c.page_cache : usage;
  // Unlimited reads as a huge number in v1 and "max" in v2; docker stats shows the host's memory then.
  out.memory_limit = c.limit != 0 && (mem_total_ == 0 || c.limit < mem_total_) ? c.limit : mem_total_;
  out.memory_percent = percent_of(out.memory_usage, out.memory_limit);
  out.block_read = c.block_read;
  out.block_write = c.block_write;
  out.pids = c.pid_count;
  if (c.net_dev.read_all(buffer_)) std::tie(out.network_rx, out.network_tx) = parse_net_dev(buffer_);
  return true;
}

void cgroup_sampler::read_slow_files(tracked_container& c, std::uint64_t usage) {
  c.page_cache = 0;
  if (c.memory_stat.read_all(buffer_)) {
    const auto corrected = version_ == cgroup_version::v1
                               ? usage_without_cache(usage, keyed_value(buffer_, "total_inactive_file"),
                                                     keyed_value(buffer_, "inactive_file"))
                               : usage_without_cache(usage, std::nullopt, keyed_value(buffer_, "inactive_file"));
    c.page_cache = usage - corrected;
  }
  c.limit = 0;
  if (c.memory_limit.read_all(buffer_)) c.limit = parse_u64(buffer_).value_or(0);
  if (c.blkio.read_all(buffer_)) {
    auto io = version_ == cgroup_version::v1 ? parse_blkio_v1(buffer_) : parse_io_stat(buffer_);
    if (!io.found && c.blkio_fallback.read_all(buffer_)) io = parse_blkio_v1(buffer_);
    c.block_read = io.read;
    c.block_write = io.write;
  }
  if (c.pids.read_all(buffer_)) c.pid_count = parse_u64(buffer_).value_or(0);
}

cgroup_sampler::sweep_result cgroup_sampler::sweep() {
  sweep_result result;
  // Reopened lazily so a sampler built before /proc was reachable recovers.
  if (!proc_stat_.valid()) proc_stat_ = file_handle::open_read(proc_ + "/stat");
  if (!meminfo_.valid()) meminfo_ = file_handle::open_read(proc_ + "/meminfo");
  system_ns_ = 0;
  online_cpus_ = 0;
  if (proc_stat_.read_all(buffer_)) {
    const auto totals = parse_proc_stat(buffer_);
    system_ns_ = totals.system_ns;
    online_cpus_ = totals.online_cpus;
  }
  mem_total_ = meminfo_.read_all(buffer_) ? parse_mem_total(buffer_) : 0;

  const auto now = std::chrono::system_clock::now();
  result.samples.reserve(tracked_.size());
  for (auto it = tracked_.begin(); it != tracked_.end();) {
    container_sample s;
    s.container_id = it->first;
    s.timestamp = now;
    if (read_container(it->second, s)) {
      result.samples.push_back(std::move(s));
      ++it;
    } else {
      result.gone.push_back(it->first);
      it = tracked_.erase(it);
    }
  }
  return result;
}

// ---- Docker's stats API ----

namespace {

std::uint64_t u64_at(const json::object* o, std::string_view key) {
  if (o == nullptr) return 0;
  const auto* v = o->if_contains(key);
  if (v == nullptr) return 0;
  if (v->is_uint64()) return v->get_uint64();
  if (v->is_int64()) return v->get_int64() > 0 ? static_cast<std::uint64_t>(v->get_int64()) : 0;
  if (v->is_double()) return v->get_double() > 0 ? static_cast<std::uint64_t>(v->get_double()) : 0;
  return 0;
}

std::optional<std::uint64_t> optional_u64_at(const json::object* o, std::string_view key) {
  if (o == nullptr || o->if_contains(key) == nullptr) return std::nullopt;
  return u64_at(o, key);
}

struct cpu_reading {
  std::uint64_t total = 0;
  std::uint64_t system = 0;
  unsigned online_cpus = 0;
};

cpu_reading cpu_reading_of(const json::object* cpu_stats) {
  cpu_reading r;
  if (cpu_stats == nullptr) return r;
  const auto* usage = object_field(*cpu_stats, "cpu_usage");
  r.total = u64_at(usage, "total_usage");
  r.system = u64_at(cpu_stats, "system_cpu_usage");
  r.online_cpus = static_cast<unsigned>(u64_at(cpu_stats, "online_cpus"));
  if (r.online_cpus == 0 && usage != nullptr) {
    // The CLI's fallback for daemons that do not send online_cpus.
    if (const auto* percpu = usage->if_contains("percpu_usage"); percpu != nullptr && percpu->is_array()) {
      r.online_cpus = static_cast<unsigned>(percpu->get_array().size());
    }
  }
  return r;
}

}  // namespace

container_sample sample_from_docker_stats(const std::string& container_id, const json::object& stats,
                                          const json::object* previous) {
  container_sample s;
  s.container_id = container_id;
  s.timestamp = std::chrono::system_clock::now();
  if (const auto* read = stats.if_contains("read"); read != nullptr && read->is_string()) {
    // A container that is not running has the zero time "0001-01-01T00:00:00Z"; keep now for it.
    if (auto t = parse_iso8601(read->get_string()); t && unix_seconds(*t) > 0) s.timestamp = *t;
  }

  const auto now = cpu_reading_of(object_field(stats, "cpu_stats"));
  auto before = cpu_reading_of(object_field(stats, "precpu_stats"));
  if (before.system == 0 && previous != nullptr) before = cpu_reading_of(object_field(*previous, "cpu_stats"));
  // No earlier reading (a one-shot answer): the CLI would divide lifetime usage by uptime; 0 says "not yet".
  if (before.system != 0) s.cpu_percent = cpu_percent(now.total, before.total, now.system, before.system, now.online_cpus);

  const auto* memory = object_field(stats, "memory_stats");
  const auto* memory_detail = memory == nullptr ? nullptr : object_field(*memory, "stats");
  s.memory_usage = usage_without_cache(u64_at(memory, "usage"), optional_u64_at(memory_detail, "total_inactive_file"),
                                       optional_u64_at(memory_detail, "inactive_file"));
  s.memory_limit = u64_at(memory, "limit");
  s.memory_percent = percent_of(s.memory_usage, s.memory_limit);

  if (const auto* networks = object_field(stats, "networks")) {
    for (const auto& [name, value] : *networks) {
      if (!value.is_object()) continue;
      s.network_rx += u64_at(&value.get_object(), "rx_bytes");
      s.network_tx += u64_at(&value.get_object(), "tx_bytes");
    }
  }
  if (const auto* blkio = object_field(stats, "blkio_stats")) {
    if (const auto* entries = blkio->if_contains("io_service_bytes_recursive"); entries != nullptr && entries->is_array()) {
      for (const auto& entry : entries->get_array()) {
        if (!entry.is_object()) continue;
        const auto* op = entry.get_object().if_contains("op");
        if (op == nullptr || !op->is_string()) continue;
        // v1 daemons write "Read", v2 daemons "read".
        std::string name(op->get_string());
        std::transform(name.begin(), name.end(), name.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
        if (name == "read") s.block_read += u64_at(&entry.get_object(), "value");
        if (name == "write") s.block_write += u64_at(&entry.get_object(), "value");
      }
    }
  }
  s.pids = u64_at(object_field(stats, "pids_stats"), "current");
  return s;
}

}  // namespace dockmon::docker
