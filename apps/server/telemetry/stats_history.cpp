// Stats history rings and their rollups; see stats_history.hpp for the tiers and what a bucket holds.
#include "telemetry/stats_history.hpp"

#include <algorithm>
#include <stdexcept>
#include <tuple>
#include <utility>

namespace dockmon::server {

namespace {

using namespace std::chrono_literals;

// Buckets are aligned on the epoch, so the same sample lands in the same bucket before and after a restart.
std::int64_t bucket_start(std::int64_t t, std::int64_t step) {
  std::int64_t q = t / step;
  if (t % step != 0 && t < 0) --q;  // floor, not truncation, for times before 1970
  return q * step;
}

}  // namespace

void point_ring::push(const stats_point& p) {
  const double counters[4] = {p.network_rx, p.network_tx, p.disk_read, p.disk_write};
  packed q{};
  if (items_.empty()) {
    t0_ = p.t;
    for (int i = 0; i < 4; ++i) base_[i] = last_[i] = counters[i];
  } else if (items_.size() == items_.capacity()) {
    // The oldest point goes: the base moves past it.
    for (int i = 0; i < 4; ++i) base_[i] += items_[0].counter_delta[i];
  }
  q.dt = static_cast<std::uint32_t>(p.t - t0_);
  q.cpu_percent = static_cast<float>(p.cpu_percent);
  q.memory_usage = static_cast<float>(p.memory_usage);
  q.memory_limit = static_cast<float>(p.memory_limit);
  q.memory_percent = static_cast<float>(p.memory_percent);
  q.pids = static_cast<float>(p.pids);
  for (int i = 0; i < 4; ++i) {
    q.counter_delta[i] = static_cast<float>(counters[i] - last_[i]);
    // What is read back is the sum of the stored deltas: carry their rounding, never let it add up.
    last_[i] += static_cast<double>(q.counter_delta[i]);
  }
  items_.push(q);
}

void point_ring::append_since(std::int64_t since, std::vector<stats_point>& out) const {
  double counters[4] = {base_[0], base_[1], base_[2], base_[3]};
  for (std::size_t k = 0; k < items_.size(); ++k) {
    const packed& q = items_[k];
    for (int i = 0; i < 4; ++i) counters[i] += static_cast<double>(q.counter_delta[i]);
    const std::int64_t t = t0_ + q.dt;
    if (t < since) continue;
    stats_point p;
    p.t = t;
    p.cpu_percent = q.cpu_percent;
    p.memory_usage = q.memory_usage;
    p.memory_limit = q.memory_limit;
    p.memory_percent = q.memory_percent;
    p.pids = q.pids;
    p.network_rx = counters[0];
    p.network_tx = counters[1];
    p.disk_read = counters[2];
    p.disk_write = counters[3];
    out.push_back(p);
  }
}

void stats_history::bucket::add(const stats_point& p) {
  if (samples == 0) pids = p.pids;
  ++samples;
  cpu_percent += p.cpu_percent;
  memory_usage += p.memory_usage;
  memory_limit += p.memory_limit;
  memory_percent += p.memory_percent;
  network_rx = p.network_rx;
  network_tx = p.network_tx;
  disk_read = p.disk_read;
  disk_write = p.disk_write;
  pids = std::max(pids, p.pids);
}

stats_point stats_history::bucket::result() const {
  const double n = samples == 0 ? 1.0 : static_cast<double>(samples);
  stats_point p;
  p.t = start;
  p.cpu_percent = cpu_percent / n;
  p.memory_usage = memory_usage / n;
  p.memory_limit = memory_limit / n;
  p.memory_percent = memory_percent / n;
  p.network_rx = network_rx;
  p.network_tx = network_tx;
  p.disk_read = disk_read;
  p.disk_write = disk_write;
  p.pids = pids;
  return p;
}

stats_history::stats_history(std::vector<tier> tiers, std::size_t max_series)
    : tiers_(std::move(tiers)), max_series_(max_series) {
  if (tiers_.empty()) throw std::invalid_argument("stats_history needs at least the raw tier");
  for (std::size_t i = 0; i < tiers_.size(); ++i) {
    if (tiers_[i].step <= 0s) throw std::invalid_argument("stats_history tier step must be positive");
    if (tiers_[i].span < tiers_[i].step) throw std::invalid_argument("stats_history tier span is shorter than its step");
    if (i > 0 && tiers_[i].step <= tiers_[i - 1].step) {
      throw std::invalid_argument("stats_history tier steps must increase from the raw tier");
    }
  }
}

std::vector<stats_history::tier> stats_history::default_tiers() {
  return {{2s, 1h}, {60s, 24h}, {900s, 30 * 24h}};
}

std::size_t stats_history::capacity_of(const tier& t) const {
  return static_cast<std::size_t>(t.span / t.step);
}

stats_history::series* stats_history::find_or_create(const std::string& key) {
  if (auto it = series_.find(key); it != series_.end()) return &it->second;
  if (series_.size() >= max_series_) {
    ++dropped_series_;
    return nullptr;
  }
  series s{point_ring(capacity_of(tiers_[0])), {}, std::nullopt, std::nullopt};
  s.rollups.reserve(tiers_.size() - 1);
  for (std::size_t i = 1; i < tiers_.size(); ++i) s.rollups.emplace_back(capacity_of(tiers_[i]));
  return &series_.emplace(key, std::move(s)).first->second;
}

void stats_history::add(const std::string& key, const stats_point& p) {
  series* s = find_or_create(key);
  if (s == nullptr) return;
  if (s->last_t && p.t < *s->last_t) return;
  s->last_t = p.t;
  s->newest = p;
  s->raw.push(p);
  for (std::size_t i = 0; i < s->rollups.size(); ++i) {
    const std::int64_t step = tiers_[i + 1].step.count();
    const std::int64_t start = bucket_start(p.t, step);
    rollup_tier& rt = s->rollups[i];
    // Points arrive in order, so a point outside the open bucket is past it: the bucket is complete.
    if (rt.open && start != rt.open->start) {
      stats_point done = rt.open->result();
      rt.done.push(done);
      if (pending_.size() < max_pending_rollups) {
        pending_.push_back(rollup{key, step, done});
      } else {
        ++dropped_rollups_;
      }
      rt.open.reset();
    }
    if (!rt.open) {
      rt.open.emplace();
      rt.open->start = start;
    }
    rt.open->add(p);
  }
}

std::optional<stats_point> stats_history::latest(const std::string& key) const {
  auto it = series_.find(key);
  if (it == series_.end()) return std::nullopt;
  return it->second.newest;
}

std::vector<stats_point> stats_history::range(const std::string& key, std::chrono::seconds window,
                                              std::int64_t now) const {
  std::vector<stats_point> out;
  auto it = series_.find(key);
  if (it == series_.end()) return out;
  const series& s = it->second;
  std::size_t index = tiers_.size() - 1;
  for (std::size_t i = 0; i < tiers_.size(); ++i) {
    if (tiers_[i].span >= window) {
      index = i;
      break;
    }
  }
  const std::int64_t since = now - window.count();
  const point_ring& points = index == 0 ? s.raw : s.rollups[index - 1].done;
  out.reserve(points.size() + 1);
  points.append_since(since, out);
  if (index > 0) {
    const auto& open = s.rollups[index - 1].open;
    if (open && open->start >= since) out.push_back(open->result());
  }
  return out;
}

void stats_history::remove(const std::string& key) { series_.erase(key); }

std::size_t stats_history::series_count() const { return series_.size(); }

std::size_t stats_history::dropped_series() const { return dropped_series_; }

std::size_t stats_history::dropped_rollups() const { return dropped_rollups_; }

std::vector<stats_history::rollup> stats_history::take_completed_rollups() {
  std::vector<rollup> out;
  out.swap(pending_);
  return out;
}

void stats_history::restore(const std::vector<rollup>& rollups) {
  // Sorted so each ring is filled oldest first, whatever order the store answered in.
  std::vector<const rollup*> sorted;
  sorted.reserve(rollups.size());
  for (const auto& r : rollups) sorted.push_back(&r);
  std::sort(sorted.begin(), sorted.end(), [](const rollup* a, const rollup* b) {
    return std::tie(a->key, a->step, a->point.t) < std::tie(b->key, b->step, b->point.t);
  });
  for (const rollup* r : sorted) {
    std::size_t index = 0;
    for (std::size_t i = 1; i < tiers_.size(); ++i) {
      if (tiers_[i].step.count() == r->step) index = i;
    }
    if (index == 0) continue;
    series* s = find_or_create(r->key);
    if (s == nullptr) continue;
    point_ring& done = s->rollups[index - 1].done;
    if (!done.empty() && r->point.t <= done.back_t()) continue;
    done.push(r->point);
    // A sample inside a bucket already completed would be folded into a second bucket with the same start.
    const std::int64_t end = r->point.t + r->step;
    if (!s->last_t || *s->last_t < end) s->last_t = end;
  }
}

}  // namespace dockmon::server
