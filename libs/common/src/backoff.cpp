// Reconnect delays.
#include "dockmon/common/backoff.hpp"

#include <algorithm>

namespace dockmon {

backoff::backoff(duration initial, duration max, std::uint64_t seed)
    : initial_(std::max(initial, duration(1))), max_(std::max(max, initial_)), rng_(seed) {}

backoff::duration backoff::next() {
  auto base = initial_;
  for (unsigned i = 0; i < attempt_ && base < max_; ++i) base *= 2;
  base = std::min(base, max_);
  if (attempt_ < 64) ++attempt_;
  // Jitter spreads a fleet that lost its server at the same moment.
  std::uniform_int_distribution<std::int64_t> jitter(0, base.count() / 4);
  return std::max(initial_, base - duration(jitter(rng_)));
}

backoff::duration backoff::after_drop() {
  attempt_ = 1;
  const auto spread = std::min(max_, std::max(initial_, duration(10'000)));
  std::uniform_int_distribution<std::int64_t> pick(initial_.count(), spread.count());
  return duration(pick(rng_));
}

}  // namespace dockmon
