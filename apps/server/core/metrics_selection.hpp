// Which containers have series of their own on /metrics: at fleet size every container's nine series make
// a scrape no Prometheus takes every 15 s, so /metrics has hosts by default and containers only as chosen
// (--metrics-containers); /metrics/containers has them all, for a scrape job of their own.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace dockmon::server {

struct metrics_selection {
  bool all = false;
  std::set<std::string> hosts;  // host ids or names
  std::set<std::string> tags;   // tags users set on the container or on its host

  bool none() const { return !all && hosts.empty() && tags.empty(); }
  // container_tags and host_tags: what users set on the container and on its host.
  bool selects(const std::string& host_id, const std::string& host_name, const std::vector<std::string>& container_tags,
               const std::vector<std::string>& host_tags) const;
};

// "none", "all", or a comma-separated list of host:<id or name> and tag:<tag>. Throws std::invalid_argument
// with what is wrong.
metrics_selection parse_metrics_selection(std::string_view text);

}  // namespace dockmon::server
