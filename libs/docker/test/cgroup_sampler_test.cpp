// The cgroup sampler against recorded cgroup v1/v2 and /proc trees (test/data; a fake only because this
// machine cannot switch cgroup versions), Docker's stats JSON, and containers of the test-env dockerd.
#include "dockmon/docker/cgroup_sampler.hpp"

#include "dockmon/common/env.hpp"
#include "dockmon/common/time.hpp"
#include "dockmon/docker/client.hpp"

#include <gtest/gtest.h>

#include "dockmon/test/engine.hpp"
#include "dockmon/test/shell.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

namespace {

using namespace dockmon;
using namespace dockmon::docker;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

const std::string data_dir = DOCKMON_DOCKER_TEST_DATA;
const std::string v1_a = "7c9e2b4a1f0d3e5c6b8a9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c";  // pid 4242, unlimited
const std::string v1_b = "e4d3c2b1a09f8e7d6c5b4a3928170615f4e3d2c1b0a99887766554433221100f";  // pid 4343, 256 MiB
const std::string v2_c = "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9";  // pid 6161, systemd driver
const std::string v2_d = "9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0";  // pid 6262, cgroupfs

// A private copy of one recorded tree, for tests that change counters between sweeps.
class temp_tree {
 public:
  explicit temp_tree(const std::string& which) {
    std::string pattern = (fs::temp_directory_path() / "dockmon-cgroup-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    root_ = pattern;
    fs::copy(data_dir + "/" + which, root_, fs::copy_options::recursive);
  }
  ~temp_tree() {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  std::string path(const std::string& rel) const { return (root_ / rel).string(); }

  // In place (same inode): the sampler holds the file open and re-reads it, as it does a kernel file.
  void write(const std::string& rel, const std::string& text) const {
    std::ofstream out(path(rel), std::ios::trunc);
    out << text;
  }

 private:
  fs::path root_;
};

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

const container_sample* find(const cgroup_sampler::sweep_result& r, const std::string& id) {
  for (const auto& s : r.samples) {
    if (s.container_id == id) return &s;
  }
  return nullptr;
}

// /proc/stat's aggregate line with `extra` ticks added to user time and `steal` ticks to steal time.
std::string proc_stat_plus(const std::string& original, std::uint64_t extra, std::uint64_t steal) {
  std::istringstream in(original);
  std::string first;
  std::getline(in, first);
  std::istringstream f(first);
  std::string label;
  std::vector<std::uint64_t> v;
  f >> label;
  for (std::uint64_t x; f >> x;) v.push_back(x);
  v[0] += extra;
  v[7] += steal;
  std::string line = "cpu ";
  for (auto x : v) line += " " + std::to_string(x);
  std::ostringstream rest;
  rest << in.rdbuf();
  return line + "\n" + rest.str();
}

std::uint64_t clock_ticks() { return static_cast<std::uint64_t>(::sysconf(_SC_CLK_TCK)); }

}  // namespace

// ---- Recorded trees ----

TEST(cgroup_sampler, detects_v1_with_co_mounted_cpu_and_cpuacct) {
  auto s = cgroup_sampler::open(data_dir + "/v1/sys/fs/cgroup", data_dir + "/v1/proc");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->version(), cgroup_version::v1);
}

TEST(cgroup_sampler, detects_v2) {
  auto s = cgroup_sampler::open(data_dir + "/v2/sys/fs/cgroup/", data_dir + "/v2/proc");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->version(), cgroup_version::v2);
}

TEST(cgroup_sampler, refuses_a_tree_without_cgroup_mounts) {
  EXPECT_FALSE(cgroup_sampler::open(data_dir + "/none/sys/fs/cgroup", data_dir + "/v1/proc").has_value());
  EXPECT_FALSE(cgroup_sampler::open(data_dir + "/no/such/dir", data_dir + "/v1/proc").has_value());
}

TEST(cgroup_sampler, v1_reads_every_field) {
  auto s = cgroup_sampler::open(data_dir + "/v1/sys/fs/cgroup", data_dir + "/v1/proc");
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->track(v1_a, 4242));
  ASSERT_TRUE(s->track(v1_b, 4343));
  EXPECT_EQ(s->size(), 2U);
  const auto before = std::chrono::system_clock::now();
  auto r = s->sweep();
  EXPECT_TRUE(r.gone.empty());
  ASSERT_EQ(r.samples.size(), 2U);

  const auto* a = find(r, v1_a);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->cpu_percent, 0.0);  // first sample
  // 100 MiB used less total_inactive_file (20 MiB), not inactive_file (1 MiB) nor cache.
  EXPECT_EQ(a->memory_usage, 104857600U - 20971520U);
  // Unlimited: MemTotal of <proc>/meminfo (2048000 kB).
  EXPECT_EQ(a->memory_limit, 2048000ULL * 1024);
  EXPECT_DOUBLE_EQ(a->memory_percent, 4.0);
  // Read and Write lines of both devices; Sync, Total and the final Total are not added.
  EXPECT_EQ(a->block_read, 4096100U);
  EXPECT_EQ(a->block_write, 1024200U);
  EXPECT_EQ(a->pids, 7U);
  EXPECT_EQ(a->network_rx, 1510U);  // eth0 + eth1, lo left out
  EXPECT_EQ(a->network_tx, 2520U);
  EXPECT_GE(a->timestamp, before);

  const auto* b = find(r, v1_b);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->memory_usage, 52428800U - 4194304U);
  EXPECT_EQ(b->memory_limit, 268435456U);
  EXPECT_DOUBLE_EQ(b->memory_percent, 48234496.0 / 268435456.0 * 100.0);
  // The throttle file has only "Total 0": the CFQ/BFQ file is read instead.
  EXPECT_EQ(b->block_read, 8192U);
  EXPECT_EQ(b->block_write, 16384U);
  EXPECT_EQ(b->pids, 3U);
  EXPECT_EQ(b->network_rx, 0U);
  EXPECT_EQ(b->network_tx, 0U);
}

TEST(cgroup_sampler, v1_track_fails_when_the_cgroup_is_not_reachable) {
  auto s = cgroup_sampler::open(data_dir + "/v1/sys/fs/cgroup", data_dir + "/v1/proc");
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->track("gone-dirs", 4444));  // /proc/4444/cgroup names dirs that do not exist
  EXPECT_FALSE(s->track("no-process", 99999));
  EXPECT_FALSE(s->track("bad-pid", 0));
  EXPECT_FALSE(s->tracking("gone-dirs"));
  EXPECT_EQ(s->size(), 0U);
  EXPECT_TRUE(s->sweep().samples.empty());
}

TEST(cgroup_sampler, v1_cpu_percent_over_two_sweeps) {
  temp_tree t("v1");
  auto s = cgroup_sampler::open(t.path("sys/fs/cgroup"), t.path("proc"));
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->track(v1_a, 4242));
  ASSERT_TRUE(s->track(v1_b, 4343));
  auto first = s->sweep();
  ASSERT_EQ(first.samples.size(), 2U);
  for (const auto& sample : first.samples) EXPECT_EQ(sample.cpu_percent, 0.0);

  // 8 s of system time (4 CPUs for 2 s) in which A used 2 s and B 1 s of CPU. Steal time is not part of
  // the daemon's system usage, so the 50 ticks of it added here must not change the result.
  const auto stat = read_text(t.path("proc/stat"));
  t.write("proc/stat", proc_stat_plus(stat, 8 * clock_ticks(), 50));
  t.write("sys/fs/cgroup/cpu,cpuacct/docker/" + v1_a + "/cpuacct.usage", "7000000000\n");
  t.write("sys/fs/cgroup/cpu,cpuacct/docker/" + v1_b + "/cpuacct.usage", "2000000000\n");
  // docker update --memory: the limit is read again because the container's CPU moved.
  t.write("sys/fs/cgroup/memory/docker/" + v1_b + "/memory.limit_in_bytes", "134217728\n");
  auto second = s->sweep();
  const auto* a = find(second, v1_a);
  const auto* b = find(second, v1_b);
  ASSERT_TRUE(a && b);
  EXPECT_DOUBLE_EQ(a->cpu_percent, 2.0 / 8.0 * 4 * 100);  // 100%: one full CPU
  EXPECT_DOUBLE_EQ(b->cpu_percent, 1.0 / 8.0 * 4 * 100);
  EXPECT_EQ(b->memory_limit, 134217728U);

  // Nothing moved: no delta, 0 rather than a division by zero.
  auto third = s->sweep();
  ASSERT_NE(find(third, v1_a), nullptr);
  EXPECT_EQ(find(third, v1_a)->cpu_percent, 0.0);

  // Re-tracking (a restart) starts the container's CPU history over.
  t.write("proc/stat", proc_stat_plus(stat, 16 * clock_ticks(), 0));
  ASSERT_TRUE(s->track(v1_a, 4242));
  auto fourth = s->sweep();
  EXPECT_EQ(find(fourth, v1_a)->cpu_percent, 0.0);
}

TEST(cgroup_sampler, slow_files_are_read_again_when_the_container_moves_or_every_few_sweeps) {
  temp_tree t("v1");
  auto s = cgroup_sampler::open(t.path("sys/fs/cgroup"), t.path("proc"));
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->track(v1_b, 4343));
  ASSERT_EQ(find(s->sweep(), v1_b)->pids, 3U);
  const auto dir = std::string("sys/fs/cgroup/");
  // An idle container (CPU and memory usage unchanged): the slow files keep their last values...
  t.write(dir + "pids/docker/" + v1_b + "/pids.current", "4\n");
  t.write(dir + "memory/docker/" + v1_b + "/memory.limit_in_bytes", "134217728\n");
  for (unsigned i = 1; i < cgroup_sampler::slow_refresh_sweeps; ++i) {
    const auto r = s->sweep();
    ASSERT_NE(find(r, v1_b), nullptr);
    EXPECT_EQ(find(r, v1_b)->pids, 3U) << "sweep " << i;
    EXPECT_EQ(find(r, v1_b)->memory_limit, 268435456U);
  }
  // ...for at most slow_refresh_sweeps sweeps.
  auto r = s->sweep();
  EXPECT_EQ(find(r, v1_b)->pids, 4U);
  EXPECT_EQ(find(r, v1_b)->memory_limit, 134217728U);

  // Memory usage moving brings them in at once, with the page-cache correction of the new memory.stat.
  t.write(dir + "pids/docker/" + v1_b + "/pids.current", "5\n");
  t.write(dir + "memory/docker/" + v1_b + "/memory.usage_in_bytes", "62914560\n");
  t.write(dir + "memory/docker/" + v1_b + "/memory.stat", "total_inactive_file 2097152\n");
  r = s->sweep();
  EXPECT_EQ(find(r, v1_b)->pids, 5U);
  EXPECT_EQ(find(r, v1_b)->memory_usage, 62914560U - 2097152U);

  // So does CPU moving, even with memory usage unchanged.
  t.write(dir + "pids/docker/" + v1_b + "/pids.current", "6\n");
  t.write(dir + "cpu,cpuacct/docker/" + v1_b + "/cpuacct.usage", "9000000000\n");
  EXPECT_EQ(find(s->sweep(), v1_b)->pids, 6U);
}

TEST(cgroup_sampler, v1_removed_cgroup_is_gone_and_untracked) {
  temp_tree t("v1");
  auto s = cgroup_sampler::open(t.path("sys/fs/cgroup"), t.path("proc"));
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->track(v1_a, 4242));
  ASSERT_TRUE(s->track(v1_b, 4343));
  ASSERT_EQ(s->sweep().samples.size(), 2U);

  for (const auto* controller : {"cpu,cpuacct", "memory", "blkio", "pids"}) {
    fs::remove_all(t.path(std::string("sys/fs/cgroup/") + controller + "/docker/" + v1_a));
  }
  auto r = s->sweep();
  ASSERT_EQ(r.gone, std::vector<std::string>{v1_a});
  ASSERT_EQ(r.samples.size(), 1U);
  EXPECT_EQ(r.samples[0].container_id, v1_b);
  EXPECT_FALSE(s->tracking(v1_a));
  EXPECT_TRUE(s->tracking(v1_b));
  // Reported once only.
  EXPECT_TRUE(s->sweep().gone.empty());
}

TEST(cgroup_sampler, untrack_stops_sampling_without_reporting_gone) {
  auto s = cgroup_sampler::open(data_dir + "/v1/sys/fs/cgroup", data_dir + "/v1/proc");
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->track(v1_a, 4242));
  ASSERT_TRUE(s->track(v1_b, 4343));
  s->untrack(v1_a);
  s->untrack("never-tracked");
  EXPECT_FALSE(s->tracking(v1_a));
  EXPECT_EQ(s->size(), 1U);
  auto r = s->sweep();
  EXPECT_TRUE(r.gone.empty());
  ASSERT_EQ(r.samples.size(), 1U);
  EXPECT_EQ(r.samples[0].container_id, v1_b);
}

TEST(cgroup_sampler, v2_reads_every_field) {
  auto s = cgroup_sampler::open(data_dir + "/v2/sys/fs/cgroup", data_dir + "/v2/proc");
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->track(v2_c, 6161));
  ASSERT_TRUE(s->track(v2_d, 6262));
  EXPECT_FALSE(s->track("missing", 6363));
  auto r = s->sweep();
  ASSERT_EQ(r.samples.size(), 2U);

  const auto* c = find(r, v2_c);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->memory_usage, 73400320U - 10485760U);  // memory.current less inactive_file
  EXPECT_EQ(c->memory_limit, 4096000ULL * 1024);      // "max": MemTotal
  EXPECT_DOUBLE_EQ(c->memory_percent, 62914560.0 / (4096000.0 * 1024) * 100);
  EXPECT_EQ(c->block_read, 1048576U + 4096U);
  EXPECT_EQ(c->block_write, 2097152U);
  EXPECT_EQ(c->pids, 12U);
  EXPECT_EQ(c->network_rx, 300000U);
  EXPECT_EQ(c->network_tx, 400000U);

  const auto* d = find(r, v2_d);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->memory_usage, 1048576U);
  EXPECT_EQ(d->memory_limit, 536870912U);
  EXPECT_DOUBLE_EQ(d->memory_percent, 1048576.0 / 536870912.0 * 100);
  EXPECT_EQ(d->block_read, 0U);  // io controller not enabled for the group: no io.stat
  EXPECT_EQ(d->block_write, 0U);
  EXPECT_EQ(d->pids, 1U);
}

TEST(cgroup_sampler, v2_cpu_percent_over_two_sweeps_and_gone) {
  temp_tree t("v2");
  auto s = cgroup_sampler::open(t.path("sys/fs/cgroup"), t.path("proc"));
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->track(v2_c, 6161));
  ASSERT_TRUE(s->track(v2_d, 6262));
  s->sweep();
  const auto dir_c = "sys/fs/cgroup/system.slice/docker-" + v2_c + ".scope";
  t.write("proc/stat", proc_stat_plus(read_text(t.path("proc/stat")), 8 * clock_ticks(), 0));
  t.write(dir_c + "/cpu.stat", "usage_usec 5000000\nuser_usec 4000000\nsystem_usec 1000000\nnr_periods 0\n");
  t.write("sys/fs/cgroup/docker/" + v2_d + "/cpu.stat", "usage_usec 900000\nuser_usec 900000\nsystem_usec 0\n");
  auto r = s->sweep();
  ASSERT_NE(find(r, v2_c), nullptr);
  EXPECT_DOUBLE_EQ(find(r, v2_c)->cpu_percent, 2.0 / 8.0 * 4 * 100);
  EXPECT_DOUBLE_EQ(find(r, v2_d)->cpu_percent, 0.4 / 8.0 * 4 * 100);

  fs::remove_all(t.path("sys/fs/cgroup/docker/" + v2_d));
  auto after = s->sweep();
  EXPECT_EQ(after.gone, std::vector<std::string>{v2_d});
  EXPECT_EQ(after.samples.size(), 1U);
  EXPECT_EQ(s->size(), 1U);
}

// ---- Docker's stats JSON ----

TEST(sample_from_docker_stats, recorded_v1_answer_uses_the_cli_formulas) {
  // GET /containers/{id}/stats?stream=false of a --cpus 0.5 busy loop on this machine's dockerd 20.10;
  // docker stats showed 50.83% and 3.438MiB / 23.54GiB for it.
  auto stats = json::parse(read_text(data_dir + "/docker_stats_v1.json")).as_object();
  auto s = sample_from_docker_stats("8463ebac68c3", stats);
  EXPECT_EQ(s.container_id, "8463ebac68c3");
  EXPECT_NEAR(s.cpu_percent, (2075400854.0 - 1562192779.0) / (6682970000000.0 - 6680960000000.0) * 2 * 100, 1e-9);
  EXPECT_EQ(s.memory_usage, 3604480U);
  EXPECT_EQ(s.memory_limit, 25276502016U);
  EXPECT_DOUBLE_EQ(s.memory_percent, 3604480.0 / 25276502016.0 * 100);
  EXPECT_EQ(s.pids, 1U);
  EXPECT_EQ(s.block_read, 0U);
  EXPECT_EQ(s.network_rx, 0U);
  EXPECT_EQ(to_iso8601(s.timestamp), "2026-11-27T07:25:53Z");
}

TEST(sample_from_docker_stats, one_shot_v2_answer_and_a_previous_answer_for_cpu) {
  // The shape a cgroup v2 daemon sends with one-shot=true: precpu_stats empty, blkio ops in lower case.
  auto answer = [](std::uint64_t total, std::uint64_t system) {
    json::object o;
    o["read"] = "2024-03-01T10:00:00.5Z";
    o["cpu_stats"] = {{"cpu_usage", {{"total_usage", total}}}, {"system_cpu_usage", system}, {"online_cpus", 4}};
    o["precpu_stats"] = {{"cpu_usage", {{"total_usage", 0}}}, {"throttling_data", json::object{}}};
    o["memory_stats"] = {{"usage", 10485760}, {"limit", 104857600},
                         {"stats", {{"inactive_file", 2097152}, {"anon", 8388608}}}};
    o["networks"] = {{"eth0", {{"rx_bytes", 100}, {"tx_bytes", 200}}}, {"eth1", {{"rx_bytes", 1}, {"tx_bytes", 2}}}};
    o["blkio_stats"] = {{"io_service_bytes_recursive",
                         json::array{json::object{{"major", 8}, {"minor", 0}, {"op", "read"}, {"value", 4096}},
                                     json::object{{"major", 8}, {"minor", 0}, {"op", "write"}, {"value", 8192}},
                                     json::object{{"major", 8}, {"minor", 16}, {"op", "read"}, {"value", 1}}}}};
    o["pids_stats"] = {{"current", 5}, {"limit", 1000}};
    return o;
  };
  const auto earlier = answer(1'000'000'000, 100'000'000'000);
  const auto later = answer(1'500'000'000, 102'000'000'000);

  auto alone = sample_from_docker_stats("c", later);
  EXPECT_EQ(alone.cpu_percent, 0.0);  // nothing to compare with
  EXPECT_EQ(alone.memory_usage, 10485760U - 2097152U);
  EXPECT_EQ(alone.memory_limit, 104857600U);
  EXPECT_DOUBLE_EQ(alone.memory_percent, 8.0);
  EXPECT_EQ(alone.network_rx, 101U);
  EXPECT_EQ(alone.network_tx, 202U);
  EXPECT_EQ(alone.block_read, 4097U);
  EXPECT_EQ(alone.block_write, 8192U);
  EXPECT_EQ(alone.pids, 5U);

  auto paired = sample_from_docker_stats("c", later, &earlier);
  EXPECT_DOUBLE_EQ(paired.cpu_percent, 0.5 / 2.0 * 4 * 100);
}

TEST(sample_from_docker_stats, tolerates_missing_sections) {
  auto s = sample_from_docker_stats("x", json::object{{"read", "0001-01-01T00:00:00Z"}, {"memory_stats", json::object{}}});
  EXPECT_EQ(s.cpu_percent, 0.0);
  EXPECT_EQ(s.memory_usage, 0U);
  EXPECT_EQ(s.memory_percent, 0.0);
  EXPECT_GT(s.timestamp, std::chrono::system_clock::now() - 1h);
}

// ---- Against the real engine (scripts/test-env start) ----

namespace {

template <class T>
T run(net::io_context& ctx, net::awaitable<T> work) {
  auto done = net::co_spawn(ctx, std::move(work), net::use_future);
  ctx.restart();
  ctx.run();
  return done.get();
}

using dockmon::test::sh;

// "20.5MiB", "23.54GiB", "512B", "1.2kB" as docker stats prints them.
double parse_size(std::string text) {
  while (!text.empty() && text.front() == ' ') text.erase(0, 1);
  while (!text.empty() && text.back() == ' ') text.pop_back();
  std::size_t used = 0;
  const double number = std::stod(text, &used);
  const auto unit = text.substr(used);
  if (unit == "KiB") return number * 1024;
  if (unit == "MiB") return number * 1024 * 1024;
  if (unit == "GiB") return number * 1024 * 1024 * 1024;
  if (unit == "kB") return number * 1e3;
  if (unit == "MB") return number * 1e6;
  if (unit == "GB") return number * 1e9;
  return number;
}

struct cli_stats {
  double cpu_percent = 0;
  double memory_usage = 0;
  double memory_limit = 0;
  std::uint64_t pids = 0;
};

class real_engine : public ::testing::Test {
 protected:
  void SetUp() override {
    DOCKMON_TEST_ENGINE_OR_SKIP(host_);
    client_.emplace(ctx_.get_executor(), parse_docker_host(host_));
    sampler_ = cgroup_sampler::open();
    ASSERT_TRUE(sampler_.has_value()) << "no cgroup mount under /sys/fs/cgroup";
  }

  void TearDown() override {
    for (const auto& name : created_) sh(docker() + " rm -f " + name);
  }

  std::string docker() const { return "docker -H " + host_; }

  // Starts a container and returns its full id.
  std::string start(const std::string& what, const std::string& options, const std::string& script) {
    auto name = "dockmon-cgroup-test-" + what + "-" + std::to_string(::getpid());
    created_.push_back(name);
    auto r = sh(docker() + " run -d --network none --name " + name + " " + options +
                " dockmon-test/busybox:latest sh -c '" + script + "'");
    EXPECT_EQ(r.status, 0) << r.out;
    return r.out;
  }

  int pid_of(const std::string& id) {
    auto r = sh(docker() + " inspect -f '{{.State.Pid}}' " + id);
    return r.status == 0 ? std::stoi(r.out) : 0;
  }

  cli_stats docker_stats(const std::string& id) {
    auto r = sh(docker() + " stats --no-stream --format '{{json .}}' " + id);
    EXPECT_EQ(r.status, 0) << r.out;
    auto o = json::parse(r.out).as_object();
    cli_stats out;
    out.cpu_percent = std::stod(std::string(o.at("CPUPerc").as_string()));
    const std::string mem(o.at("MemUsage").as_string());
    const auto slash = mem.find('/');
    out.memory_usage = parse_size(mem.substr(0, slash));
    out.memory_limit = parse_size(mem.substr(slash + 1));
    out.pids = std::stoull(std::string(o.at("PIDs").as_string()));
    return out;
  }

  std::optional<container_sample> sample_of(const std::string& id) {
    auto r = sampler_->sweep();
    for (auto& s : r.samples) {
      if (s.container_id == id) return s;
    }
    return std::nullopt;
  }

  // Sweeps until the container's sample satisfies the condition or the deadline passes.
  template <class F>
  std::optional<container_sample> sample_when(const std::string& id, F condition, std::chrono::seconds deadline = 30s) {
    const auto until = std::chrono::steady_clock::now() + deadline;
    for (;;) {
      auto s = sample_of(id);
      if (s && condition(*s)) return s;
      if (std::chrono::steady_clock::now() > until) return std::nullopt;
      std::this_thread::sleep_for(100ms);
    }
  }

  net::io_context ctx_;
  std::optional<client> client_;
  std::optional<cgroup_sampler> sampler_;
  std::string host_;
  std::vector<std::string> created_;
};

// The kernel's own CPU counters, read by the test itself at the instants it chooses: the container's
// cgroup usage (cpuacct.usage on v1, usage_usec of cpu.stat on v2) and the machine's total as the daemon
// counts it (the first 7 fields of /proc/stat's cpu line). Figures timed apart drift on a loaded machine;
// these are compared with what the sampler saw over the same window.
struct cpu_counters {
  std::uint64_t container_ns = 0;
  std::uint64_t system_ns = 0;
  unsigned online_cpus = 0;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::optional<std::uint64_t> container_cpu_ns(int pid) {
  std::istringstream lines(slurp("/proc/" + std::to_string(pid) + "/cgroup"));
  for (std::string line; std::getline(lines, line);) {
    const auto first = line.find(':');
    const auto second = line.find(':', first + 1);
    const auto controllers = line.substr(first + 1, second - first - 1);
    const auto path = line.substr(second + 1);
    if (controllers.empty()) {  // v2: "0::/path"
      std::istringstream stat(slurp("/sys/fs/cgroup" + path + "/cpu.stat"));
      for (std::string key, value; stat >> key >> value;)
        if (key == "usage_usec") return std::stoull(value) * 1000;
      continue;
    }
    if (("," + controllers + ",").find(",cpuacct,") == std::string::npos) continue;
    for (const auto& mount : {std::string("cpuacct"), controllers}) {
      auto text = slurp("/sys/fs/cgroup/" + mount + path + "/cpuacct.usage");
      if (!text.empty()) return std::stoull(text);
    }
  }
  return std::nullopt;
}

cpu_counters read_cpu_counters(int pid) {
  cpu_counters c;
  c.container_ns = container_cpu_ns(pid).value_or(0);
  std::istringstream lines(slurp("/proc/stat"));
  const auto ns_per_tick = 1'000'000'000ULL / static_cast<std::uint64_t>(::sysconf(_SC_CLK_TCK));
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("cpu ", 0) == 0) {
      std::istringstream f(line.substr(4));
      std::uint64_t ticks = 0, v = 0;
      for (int i = 0; i < 7 && (f >> v); ++i) ticks += v;
      c.system_ns = ticks * ns_per_tick;
    } else if (line.rfind("cpu", 0) == 0) {
      ++c.online_cpus;
    }
  }
  return c;
}

// docker stats' formula over the window between two readings.
double cpu_percent_between(const cpu_counters& a, const cpu_counters& b) {
  return static_cast<double>(b.container_ns - a.container_ns) / static_cast<double>(b.system_ns - a.system_ns) *
         b.online_cpus * 100.0;
}

// A shell holding a 20 MB string: anonymous memory that stays put (a file would be page cache). The
// echo after sleep keeps busybox sh from exec'ing sleep and dropping the string.
const std::string build_20mb = R"(x=$(head -c 20000000 /dev/zero | tr "\0" a))";
const std::string hold_20mb = build_20mb + "; sleep 1000; echo ${#x}";
const std::string busy_loop = "while :; do :; done";

}  // namespace

TEST_F(real_engine, memory_matches_docker_stats) {
  const auto id = start("mem", "", hold_20mb);
  ASSERT_TRUE(sampler_->track(id, pid_of(id)));
  EXPECT_EQ(sampler_->version(), cgroup_version::v1) << "this machine is cgroup v1 (hybrid)";
  // Until the string is built and the pipeline's processes have exited.
  auto s = sample_when(id, [](const container_sample& x) { return x.memory_usage > 20'000'000 && x.pids == 2; });
  ASSERT_TRUE(s) << "memory never reached 20 MB";
  const auto cli = docker_stats(id);
  const auto now = sample_of(id);
  ASSERT_TRUE(now);
  EXPECT_NEAR(static_cast<double>(now->memory_usage), cli.memory_usage, cli.memory_usage * 0.05);
  EXPECT_NEAR(static_cast<double>(now->memory_limit), cli.memory_limit, cli.memory_limit * 0.01);
  EXPECT_NEAR(now->memory_percent, static_cast<double>(now->memory_usage) / static_cast<double>(now->memory_limit) * 100, 1e-9);
  EXPECT_EQ(now->pids, cli.pids);
  EXPECT_EQ(now->network_rx, 0U);  // --network none: lo only
}

TEST_F(real_engine, cpu_of_a_half_cpu_busy_loop_matches_docker_stats) {
  const auto id = start("cpu", "--cpus 0.5", busy_loop);
  const int pid = pid_of(id);
  ASSERT_TRUE(sampler_->track(id, pid));
  ASSERT_TRUE(sample_when(id, [](const container_sample& x) { return x.cpu_percent > 10; })) << "the loop never ran";
  ASSERT_TRUE(container_cpu_ns(pid)) << "the container's CPU counter is not readable";
  // The sampler's window runs from one sweep to the next, with the kernel's counters read right after
  // each: the same window to within microseconds, so only a wrong counter or formula can differ.
  sample_of(id);
  const auto before = read_cpu_counters(pid);
  const auto cli = docker_stats(id);  // the docker CLI, run inside the window
  const auto ours = sample_of(id);
  const auto after = read_cpu_counters(pid);
  ASSERT_TRUE(ours);
  EXPECT_NEAR(ours->cpu_percent, cpu_percent_between(before, after), 2.0);
  // The CLI measured a shorter window inside ours, so on a busy machine it may see a different share;
  // it must still be the same quantity: percent of one CPU, capped by the half-CPU quota.
  EXPECT_GT(cli.cpu_percent, 5.0);
  EXPECT_LT(cli.cpu_percent, 60.0);
  EXPECT_GT(ours->cpu_percent, 5.0);
  EXPECT_LT(ours->cpu_percent, 56.0);  // CFS quota of half a CPU, plus at most one period's burst
}

TEST_F(real_engine, removed_container_is_gone) {
  const auto id = start("gone", "", "sleep 1000");
  ASSERT_TRUE(sampler_->track(id, pid_of(id)));
  ASSERT_TRUE(sample_of(id));
  ASSERT_EQ(sh(docker() + " rm -f " + id).status, 0);
  const auto until = std::chrono::steady_clock::now() + 20s;
  bool gone = false;
  while (!gone && std::chrono::steady_clock::now() < until) {
    auto r = sampler_->sweep();
    gone = std::find(r.gone.begin(), r.gone.end(), id) != r.gone.end();
    if (!gone) std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(gone);
  EXPECT_FALSE(sampler_->tracking(id));
}

TEST_F(real_engine, one_shot_api_agrees_with_the_cgroup_reader) {
  const auto id = start("oneshot", "--cpus 0.5", build_20mb + "; " + busy_loop + "; echo ${#x}");
  const int pid = pid_of(id);
  ASSERT_TRUE(sampler_->track(id, pid));
  ASSERT_TRUE(sample_when(id, [](const container_sample& x) { return x.memory_usage > 20'000'000 && x.cpu_percent > 10; }));

  // Each answer is read between two readings of the kernel's counters, so its counters must lie between
  // them: the API and the sampler read the same counters. Their CPU figures are then the same formula
  // over windows that differ by the calls' latency, which a loaded machine stretches; so the formula is
  // checked on the answers' own counters instead of comparing the two percentages.
  const auto k1 = read_cpu_counters(pid);
  auto first_answer = run(ctx_, client_->container_stats_once(id));
  const auto k2 = read_cpu_counters(pid);
  sample_of(id);
  const auto until = std::chrono::steady_clock::now() + 2s;
  while (std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(until - std::chrono::steady_clock::now());
  const auto k3 = read_cpu_counters(pid);
  auto second_answer = run(ctx_, client_->container_stats_once(id));
  const auto k4 = read_cpu_counters(pid);
  const auto ours = sample_of(id);
  ASSERT_TRUE(first_answer) << first_answer.error().message;
  ASSERT_TRUE(second_answer) << second_answer.error().message;
  ASSERT_TRUE(ours);

  auto counter = [](const json::object& answer, const char* which) {
    const auto& cpu = answer.at("cpu_stats").as_object();
    if (std::string_view(which) == "system") return cpu.at("system_cpu_usage").to_number<std::uint64_t>();
    return cpu.at("cpu_usage").at("total_usage").to_number<std::uint64_t>();
  };
  EXPECT_LE(k1.container_ns, counter(*first_answer, "total"));
  EXPECT_GE(k2.container_ns, counter(*first_answer, "total"));
  EXPECT_LE(k3.container_ns, counter(*second_answer, "total"));
  EXPECT_GE(k4.container_ns, counter(*second_answer, "total"));
  EXPECT_LE(k3.system_ns, counter(*second_answer, "system"));
  EXPECT_GE(k4.system_ns, counter(*second_answer, "system"));

  const auto alone = sample_from_docker_stats(id, *second_answer);
  EXPECT_EQ(alone.cpu_percent, 0.0);  // one-shot: no precpu_stats
  const auto api = sample_from_docker_stats(id, *second_answer, &*first_answer);
  const double delta_total = static_cast<double>(counter(*second_answer, "total") - counter(*first_answer, "total"));
  const double delta_system = static_cast<double>(counter(*second_answer, "system") - counter(*first_answer, "system"));
  EXPECT_NEAR(api.cpu_percent, delta_total / delta_system * k4.online_cpus * 100.0, 1e-6);
  EXPECT_GT(api.cpu_percent, 5.0);
  EXPECT_LT(api.cpu_percent, 56.0);
  // Memory and I/O counters stand still in this container (the string is built), so they compare directly.
  EXPECT_NEAR(static_cast<double>(api.memory_usage), static_cast<double>(ours->memory_usage), ours->memory_usage * 0.02);
  EXPECT_EQ(api.memory_limit, ours->memory_limit);
  EXPECT_EQ(api.pids, ours->pids);
  EXPECT_EQ(api.block_read, ours->block_read);
  EXPECT_EQ(api.block_write, ours->block_write);
}

TEST(client_stats, refuses_a_bad_container_ref) {
  net::io_context ctx;
  client c(ctx.get_executor(), parse_docker_host("unix:///nonexistent.sock"));
  auto r = run(ctx, c.container_stats_once("../info"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::invalid);
}
