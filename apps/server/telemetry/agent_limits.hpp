// What one agent may make the server keep, so that one compromised or broken host cannot exhaust what
// all hosts share: stats series for the containers it listed (plus a few newcomers until its next list),
// series of containers gone for a day dropped, and events at a bounded rate and size.
#pragma once

#include "dockmon/common/rate_limit.hpp"

#include <cstdint>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace dockmon::server {

class agent_limits {
 public:
  static constexpr std::size_t max_listed = 5000;          // containers per host the server tracks
  static constexpr std::size_t unlisted_allowance = 64;    // containers started since the last list
  static constexpr std::int64_t gone_retention_s = 24 * 3600;
  static constexpr std::size_t attribute_bytes_per_second = 256 * 1024;

  // The containers the agent listed (its answer to list_containers); containers it no longer lists are gone.
  void listed(const std::vector<std::string>& ids, std::int64_t now);
  // Whether a sample of this container may start or feed a series. A newcomer past the allowance is
  // refused and asks for a new list (list_wanted), which is how a container started since is admitted.
  bool admit_series(const std::string& id);
  // The container stopped or was removed: its series is kept for gone_retention_s, then dropped.
  void gone(const std::string& id, std::int64_t now);
  // Ids whose series should be dropped now: gone for longer than the retention, or the oldest gone ones
  // when the host holds more series than twice what it listed (a host cycling made-up ids).
  std::vector<std::string> take_expired(std::int64_t now);
  // An event with this many attribute bytes; false past 100 a second (bursts of 1000) or 256 KiB a second.
  bool admit_event(std::size_t attribute_bytes);

  // True once after a refused newcomer; the agent's session then asks for a list.
  bool take_list_wanted() { return std::exchange(list_wanted_, false); }
  std::size_t series() const { return live_.size() + gone_at_.size(); }
  std::size_t refused_series() const { return refused_series_; }
  std::size_t refused_events() const { return refused_events_; }

 private:
  std::size_t series_cap() const { return 2 * listed_.size() + 2 * unlisted_allowance; }

  std::unordered_set<std::string> listed_;
  std::unordered_set<std::string> live_;                       // series fed since the last list (listed or not)
  std::unordered_set<std::string> unlisted_;                   // admitted without being listed
  std::unordered_map<std::string, std::int64_t> gone_at_;      // series whose container is gone, since when
  token_bucket events_{100, 1000};
  token_bucket event_bytes_{attribute_bytes_per_second, 8 * attribute_bytes_per_second};
  bool list_wanted_ = false;
  std::size_t refused_series_ = 0;
  std::size_t refused_events_ = 0;
};

}  // namespace dockmon::server
