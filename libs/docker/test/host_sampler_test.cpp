// The host sampler against a recorded /proc tree (test/data/host; rewritten in a temp copy between
// samples) and against this machine's own /proc.
#include "dockmon/docker/host_sampler.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <stdlib.h>

namespace {

using namespace dockmon::docker;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

const std::string data_dir = DOCKMON_DOCKER_TEST_DATA;

class temp_proc {
 public:
  temp_proc() {
    std::string pattern = (fs::temp_directory_path() / "dockmon-host-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    root_ = pattern;
    fs::copy(data_dir + "/host/proc", root_, fs::copy_options::recursive);
  }
  ~temp_proc() {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  std::string root() const { return root_.string(); }
  void write(const std::string& rel, const std::string& text) const {
    std::ofstream out(root_ / rel, std::ios::trunc);
    out << text;
  }

 private:
  fs::path root_;
};

const std::string net_header =
    "Inter-|   Receive                                                |  Transmit\n"
    " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier "
    "compressed\n";

}  // namespace

TEST(host_sampler, cpu_memory_and_network_rate) {
  temp_proc proc;
  host_sampler h(proc.root());
  const auto t0 = std::chrono::steady_clock::time_point{} + 1000s;
  auto first = h.sample(t0);
  EXPECT_EQ(first.cpu_percent, 0.0);  // nothing to compare with yet
  EXPECT_EQ(first.net_bytes_per_sec, 0.0);
  EXPECT_DOUBLE_EQ(first.mem_percent, 25.0);  // MemTotal 8000000 kB, MemAvailable 6000000 kB
  EXPECT_GT(first.timestamp.time_since_epoch().count(), 0);

  // 300 busy ticks (user 200, system 50, steal 50) and 100 idle/iowait ticks: 75% busy.
  proc.write("stat",
             "cpu  10200 100 2050 50080 320 0 100 100 0 0\n"
             "cpu0 2500 25 500 12500 75 0 25 13 0 0\n");
  // pid 1's namespace (the host's) is read, not <proc>/net/dev; lo's traffic is left out.
  proc.write("1/net/dev", net_header +
                              "    lo: 999999999 1 0 0 0 0 0 0 999999999 1 0 0 0 0 0 0\n"
                              "  eth0: 5500 60 0 0 0 0 0 0 7700 80 0 0 0 0 0 0\n"
                              " wlan0: 100 1 0 0 0 0 0 0 1000 10 0 0 0 0 0 0\n");
  proc.write("meminfo", "MemTotal:       8000000 kB\nMemFree:  100 kB\nMemAvailable:    2000000 kB\n");
  auto second = h.sample(t0 + 2s);
  EXPECT_DOUBLE_EQ(second.cpu_percent, 75.0);
  EXPECT_DOUBLE_EQ(second.net_bytes_per_sec, (500.0 + 700.0 + 800.0) / 2.0);
  EXPECT_DOUBLE_EQ(second.mem_percent, 75.0);

  // Counters that did not move give 0, not a stale rate.
  auto third = h.sample(t0 + 4s);
  EXPECT_EQ(third.cpu_percent, 0.0);
  EXPECT_EQ(third.net_bytes_per_sec, 0.0);
}

TEST(host_sampler, falls_back_to_proc_net_dev_without_pid_1) {
  temp_proc proc;
  fs::remove_all(fs::path(proc.root()) / "1");
  host_sampler h(proc.root());
  const auto t0 = std::chrono::steady_clock::time_point{} + 1000s;
  h.sample(t0);
  proc.write("net/dev", net_header +
                            "    lo: 5000 1 0 0 0 0 0 0 5000 1 0 0 0 0 0 0\n"
                            " veth0: 401 1 0 0 0 0 0 0 1 1 0 0 0 0 0 0\n");
  EXPECT_DOUBLE_EQ(h.sample(t0 + 4s).net_bytes_per_sec, 100.0);
}

TEST(host_sampler, missing_proc_gives_zeros) {
  host_sampler h(data_dir + "/no/such/proc");
  auto s = h.sample();
  EXPECT_EQ(s.cpu_percent, 0.0);
  EXPECT_EQ(s.mem_percent, 0.0);
  EXPECT_EQ(s.net_bytes_per_sec, 0.0);
}

TEST(host_sampler, default_proc_root_prefers_the_hosts_proc) {
  const bool host_proc = fs::exists("/host/proc/stat");
  EXPECT_EQ(host_sampler::default_proc_root(), host_proc ? "/host/proc" : "/proc");
}

TEST(host_sampler, this_machines_proc) {
  host_sampler h(host_sampler::default_proc_root());
  h.sample();
  // Some work so the second sample has ticks to compare; the window is what is measured, not waited on.
  const auto until = std::chrono::steady_clock::now() + 200ms;
  volatile unsigned long spin = 0;
  while (std::chrono::steady_clock::now() < until) spin = spin + 1;
  auto s = h.sample();
  EXPECT_GT(s.cpu_percent, 0.0);
  EXPECT_LE(s.cpu_percent, 100.0);
  EXPECT_GT(s.mem_percent, 0.0);
  EXPECT_LT(s.mem_percent, 100.0);
  EXPECT_GE(s.net_bytes_per_sec, 0.0);
}
