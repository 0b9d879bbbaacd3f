// Exponential reconnect delays with jitter, kept between an initial and a maximum delay.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace dockmon {

class backoff {
 public:
  using duration = std::chrono::milliseconds;
  backoff(duration initial, duration max, std::uint64_t seed = std::random_device{}());

  // The next delay: initial * 2^attempt capped at max, then jittered down by up to 25%, never under initial.
  duration next();
  void reset() { attempt_ = 0; }
  // The delay after a connection that was up dropped: anywhere between initial and 10 s (at most max), so
  // that a fleet whose server restarted comes back spread over seconds instead of all in the same one.
  // Failures after it grow from there as next() says.
  duration after_drop();
  unsigned attempt() const { return attempt_; }

 private:
  duration initial_;
  duration max_;
  unsigned attempt_ = 0;
  std::mt19937_64 rng_;
};

}  // namespace dockmon
