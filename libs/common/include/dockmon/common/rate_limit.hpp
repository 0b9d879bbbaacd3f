// A token bucket: `rate` actions a second on average, bursts of up to `burst`.
#pragma once

#include <algorithm>
#include <chrono>

namespace dockmon {

class token_bucket {
 public:
  using clock = std::chrono::steady_clock;
  token_bucket(double rate_per_second, double burst) : rate_(rate_per_second), burst_(burst), tokens_(burst) {}

  // Takes one token when there is one.
  bool try_take(clock::time_point now = clock::now()) {
    std::chrono::duration<double> elapsed = now - last_;
    last_ = now;
    tokens_ = std::min(burst_, tokens_ + std::max(0.0, elapsed.count()) * rate_);
    if (tokens_ < 1) return false;
    tokens_ -= 1;
    return true;
  }

 private:
  double rate_;
  double burst_;
  double tokens_;
  clock::time_point last_ = clock::now();
};

}  // namespace dockmon
