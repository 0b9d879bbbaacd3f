// Token buckets: one for a single limit, and a bounded table of them by key (an account, an address).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <iterator>
#include <string>
#include <unordered_map>

namespace dockmon {

class token_bucket {
 public:
  using clock = std::chrono::steady_clock;
  token_bucket(double rate_per_second, double burst) : rate_(rate_per_second), burst_(burst), tokens_(burst) {}

  // Takes one token when there is one.
  bool try_take(clock::time_point now = clock::now()) {
    refill(now);
    if (tokens_ < 1) return false;
    tokens_ -= 1;
    return true;
  }

  // Takes n tokens at once when there are that many (a cost in bytes, say).
  bool try_take(double n, clock::time_point now) {
    refill(now);
    if (tokens_ < n) return false;
    tokens_ -= n;
    return true;
  }

  // Whether a token is there now, without taking it.
  bool has_token(clock::time_point now = clock::now()) {
    refill(now);
    return tokens_ >= 1;
  }

  // Refilled to its burst: it holds nothing a fresh bucket would not.
  bool full(clock::time_point now = clock::now()) {
    refill(now);
    return tokens_ >= burst_;
  }

 private:
  void refill(clock::time_point now) {
    std::chrono::duration<double> elapsed = now - last_;
    last_ = std::max(last_, now);
    tokens_ = std::min(burst_, tokens_ + std::max(0.0, elapsed.count()) * rate_);
  }

  double rate_;
  double burst_;
  double tokens_;
  clock::time_point last_ = clock::now();
};

// Buckets by key, at most max_keys of them, that never forget a key being limited: a flood of made-up
// keys must not reset anyone's bucket (which would make the limit a matter of filling the table). When the
// table is full, buckets that have refilled (nothing worth keeping) are dropped, at most once a second;
// if none has, new keys share one overflow bucket until room is made.
class keyed_buckets {
 public:
  using clock = token_bucket::clock;
  keyed_buckets(double rate_per_second, double burst, std::size_t max_keys)
      : rate_(rate_per_second), burst_(burst), max_keys_(max_keys), overflow_(rate_per_second, burst) {}

  bool try_take(const std::string& key, clock::time_point now = clock::now()) { return bucket(key, now).try_take(now); }
  bool has_token(const std::string& key, clock::time_point now = clock::now()) { return bucket(key, now).has_token(now); }
  std::size_t size() const { return buckets_.size(); }

 private:
  token_bucket& bucket(const std::string& key, clock::time_point now) {
    if (auto it = buckets_.find(key); it != buckets_.end()) return it->second;
    if (buckets_.size() >= max_keys_ && now - last_sweep_ >= std::chrono::seconds(1)) {
      last_sweep_ = now;
      for (auto it = buckets_.begin(); it != buckets_.end();) it = it->second.full(now) ? buckets_.erase(it) : std::next(it);
    }
    if (buckets_.size() >= max_keys_) return overflow_;
    return buckets_.try_emplace(key, rate_, burst_).first->second;
  }

  double rate_;
  double burst_;
  std::size_t max_keys_;
  std::unordered_map<std::string, token_bucket> buckets_;
  token_bucket overflow_;
  clock::time_point last_sweep_{};
};

}  // namespace dockmon
