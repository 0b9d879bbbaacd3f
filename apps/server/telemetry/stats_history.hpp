// Stats history kept in memory: per series, a ring of raw samples and rings of rolled-up buckets
// (downsampling tiers), so a chart over an hour, a day or a month reads a few thousand points at most.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace dockmon::server {

struct stats_point {
  std::int64_t t = 0;  // unix seconds (start of the bucket for rolled-up points)
  double cpu_percent = 0, memory_usage = 0, memory_limit = 0, memory_percent = 0;
  // Cumulative byte counters as the agent sends them (a rollup keeps the last value in its bucket).
  double network_rx = 0, network_tx = 0, disk_read = 0, disk_write = 0;
  double pids = 0;
};

// A fixed-capacity circular buffer that allocates only as it fills: most series never fill their coarse
// tiers, and 20k series with every ring allocated up front would cost gigabytes.
template <class T>
class ring {
 public:
  explicit ring(std::size_t capacity) : capacity_(capacity) {}

  void push(const T& v) {
    if (capacity_ == 0) return;
    if (items_.size() < capacity_) {
      // Grow by hand: vector's own doubling would overshoot the capacity (1800 -> 2048 slots).
      if (items_.size() == items_.capacity()) {
        items_.reserve(std::min(capacity_, std::max<std::size_t>(16, items_.size() * 2)));
      }
      items_.push_back(v);
      return;
    }
    items_[oldest_] = v;
    oldest_ = (oldest_ + 1) % capacity_;
  }

  std::size_t size() const { return items_.size(); }
  std::size_t capacity() const { return capacity_; }
  bool empty() const { return items_.empty(); }
  // i = 0 is the oldest.
  const T& operator[](std::size_t i) const { return items_[(oldest_ + i) % items_.size()]; }
  const T& back() const { return (*this)[items_.size() - 1]; }

 private:
  std::size_t capacity_;
  std::size_t oldest_ = 0;  // where the oldest item is once the ring is full
  std::vector<T> items_;
};

// A ring of stats points at half their size (40 bytes instead of 80): times as seconds after the ring's
// first point, gauges as floats (7 significant digits, more than a chart shows), and the cumulative
// counters as the float difference to the point before, summed back from a double base when read. A
// counter that jumps by more than 16 MiB between two points loses bytes below 2^-24 of the jump; rates
// computed from the points stay within a millionth of the truth.
class point_ring {
 public:
  explicit point_ring(std::size_t capacity) : items_(capacity) {}

  // Points must come in order of time (t not before the last one's).
  void push(const stats_point& p);
  std::size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  std::int64_t back_t() const { return t0_ + items_.back().dt; }
  // Appends the points with t >= since to out, oldest first.
  void append_since(std::int64_t since, std::vector<stats_point>& out) const;

 private:
  struct packed {
    std::uint32_t dt;  // seconds after t0_
    float cpu_percent, memory_usage, memory_limit, memory_percent, pids;
    float counter_delta[4];  // network_rx, network_tx, disk_read, disk_write minus the previous point's
  };
  static_assert(sizeof(packed) == 40);

  ring<packed> items_;
  std::int64_t t0_ = 0;
  double base_[4] = {0, 0, 0, 0};  // the counters just before the oldest point kept
  double last_[4] = {0, 0, 0, 0};  // the counters at the newest point
};

// Series keys: "host:<host_id>" for host stats (cpu_percent, memory_percent, network_rx as net bytes/s),
// "ctr:<host_id>:<container_id>" for containers.
// Single-threaded: only the server's I/O thread calls it, so there are no locks.
class stats_history {
 public:
  // tiers[0] is raw: every sample is kept, in a ring of span/step points, where step is the sample interval
  // assumed for sizing (2 s, the agent's default). Sizing raw for 1 s samples would double the memory of
  // 20k series for a rate nobody runs at; an agent sampling faster than step gets less than span of raw
  // history. The other tiers hold buckets of step seconds aligned on the epoch, span/step of them.
  struct tier {
    std::chrono::seconds step;
    std::chrono::seconds span;
  };

  // Throws std::invalid_argument for an empty list, a step <= 0, a span < step, or steps not increasing.
  explicit stats_history(std::vector<tier> tiers = default_tiers(), std::size_t max_series = 20000);
  // raw (2 s samples) kept 1 h; 60 s buckets kept 24 h; 900 s buckets kept 30 d.
  static std::vector<tier> default_tiers();

  // A point older than the series' last is ignored (a reconnecting agent may resend); one at the same
  // second is kept. A new series past max_series is dropped and counted in dropped_series().
  void add(const std::string& key, const stats_point& p);
  // The last sample added since start; nullopt when none (restored rollups are not a current value).
  std::optional<stats_point> latest(const std::string& key) const;
  // The finest tier whose span covers the window (the coarsest when none does), points with
  // t >= now - window, oldest first. A rolled-up tier ends with its bucket in progress, so a chart reaches
  // the present; that last point changes until its bucket completes.
  std::vector<stats_point> range(const std::string& key, std::chrono::seconds window, std::int64_t now) const;
  void remove(const std::string& key);
  std::size_t series_count() const;
  // How many adds were refused because they would have created a series past max_series (a counter:
  // the same refused key counts once per add).
  std::size_t dropped_series() const;

  // Rolled-up buckets completed since the last call (tiers other than raw), to persist.
  struct rollup {
    std::string key;
    std::int64_t step = 0;
    stats_point point;
  };
  // Call it regularly (every minute or so): completed rollups wait here until taken, up to
  // max_pending_rollups, past which new ones are not queued and are counted in dropped_rollups().
  std::vector<rollup> take_completed_rollups();
  std::size_t dropped_rollups() const;
  static constexpr std::size_t max_pending_rollups = 200000;

  // Puts persisted rollups back at start (before any add), so history survives a restart. Rollups of a
  // step no tier has (the tiers were reconfigured) are skipped; order does not matter.
  void restore(const std::vector<rollup>& rollups);

 private:
  // A bucket being filled: sums for the averaged fields, last values for counters, max for pids.
  struct bucket {
    std::int64_t start = 0;
    std::size_t samples = 0;
    double cpu_percent = 0, memory_usage = 0, memory_limit = 0, memory_percent = 0;
    double network_rx = 0, network_tx = 0, disk_read = 0, disk_write = 0;
    double pids = 0;
    void add(const stats_point& p);
    stats_point result() const;
  };
  struct rollup_tier {
    explicit rollup_tier(std::size_t capacity) : done(capacity) {}
    point_ring done;
    std::optional<bucket> open;
  };
  struct series {
    point_ring raw;
    std::vector<rollup_tier> rollups;  // tiers_[1..]
    std::optional<std::int64_t> last_t;
    std::optional<stats_point> newest;  // the last sample added, exactly as it came
  };

  series* find_or_create(const std::string& key);
  std::size_t capacity_of(const tier& t) const;

  std::vector<tier> tiers_;
  std::size_t max_series_;
  std::size_t dropped_series_ = 0;
  std::size_t dropped_rollups_ = 0;
  std::unordered_map<std::string, series> series_;
  std::vector<rollup> pending_;
};

}  // namespace dockmon::server
