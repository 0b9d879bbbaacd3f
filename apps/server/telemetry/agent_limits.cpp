// Per-agent bounds on series and events.
#include "telemetry/agent_limits.hpp"

#include <algorithm>

namespace dockmon::server {

void agent_limits::listed(const std::vector<std::string>& ids, std::int64_t now) {
  listed_.clear();
  for (const auto& id : ids) {
    if (listed_.size() >= max_listed) break;
    listed_.insert(id);
  }
  unlisted_.clear();  // the list is the truth now: newcomers start counting again
  for (auto it = live_.begin(); it != live_.end();) {
    if (listed_.contains(*it)) {
      ++it;
      continue;
    }
    gone_at_.try_emplace(*it, now);
    it = live_.erase(it);
  }
}

bool agent_limits::admit_series(const std::string& id) {
  if (live_.contains(id)) return true;
  // A container that was listed, or one already counted as a newcomer since the last list, is known; any
  // other (also one whose series is kept as gone) is a newcomer and counts against the allowance.
  const bool known = listed_.contains(id) || unlisted_.contains(id);
  if (!known) {
    if (unlisted_.size() >= unlisted_allowance) {
      list_wanted_ = true;
      ++refused_series_;
      return false;
    }
    unlisted_.insert(id);
  }
  gone_at_.erase(id);  // a stopped container that runs again
  live_.insert(id);
  return true;
}

void agent_limits::gone(const std::string& id, std::int64_t now) {
  if (live_.erase(id) > 0) gone_at_.try_emplace(id, now);
}

std::vector<std::string> agent_limits::take_expired(std::int64_t now) {
  std::vector<std::string> out;
  for (auto it = gone_at_.begin(); it != gone_at_.end();) {
    if (now - it->second <= gone_retention_s) {
      ++it;
      continue;
    }
    out.push_back(it->first);
    unlisted_.erase(it->first);
    it = gone_at_.erase(it);
  }
  if (series() > series_cap() && !gone_at_.empty()) {
    std::vector<std::pair<std::int64_t, std::string>> oldest;
    for (const auto& [id, since] : gone_at_) oldest.emplace_back(since, id);
    std::sort(oldest.begin(), oldest.end());
    for (const auto& [since, id] : oldest) {
      if (series() <= series_cap()) break;
      out.push_back(id);
      unlisted_.erase(id);
      gone_at_.erase(id);
    }
  }
  return out;
}

bool agent_limits::admit_event(std::size_t attribute_bytes) {
  const auto now = token_bucket::clock::now();
  if (!events_.try_take(now)) {
    ++refused_events_;
    return false;
  }
  if (!event_bytes_.try_take(static_cast<double>(attribute_bytes), now)) {
    ++refused_events_;
    return false;
  }
  return true;
}

}  // namespace dockmon::server
