// --metrics-containers: parsing, and whether a container is chosen.
#include "core/metrics_selection.hpp"

#include <stdexcept>

namespace dockmon::server {

bool metrics_selection::selects(const std::string& host_id, const std::string& host_name,
                                const std::vector<std::string>& container_tags,
                                const std::vector<std::string>& host_tags) const {
  if (all) return true;
  if (hosts.contains(host_id) || hosts.contains(host_name)) return true;
  for (const auto* list : {&container_tags, &host_tags}) {
    for (const auto& t : *list) {
      if (tags.contains(t)) return true;
    }
  }
  return false;
}

metrics_selection parse_metrics_selection(std::string_view text) {
  metrics_selection out;
  if (text == "none" || text.empty()) return out;
  if (text == "all") {
    out.all = true;
    return out;
  }
  for (std::size_t start = 0; start <= text.size();) {
    const auto comma = std::min(text.find(',', start), text.size());
    auto item = text.substr(start, comma - start);
    start = comma + 1;
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.empty()) continue;
    if (item.starts_with("host:") && item.size() > 5) {
      out.hosts.emplace(item.substr(5));
    } else if (item.starts_with("tag:") && item.size() > 4 && item.size() <= 4 + 32) {
      out.tags.emplace(item.substr(4));
    } else {
      throw std::invalid_argument("'" + std::string(item) +
                                  "' is not host:<id or name> or tag:<tag>; give none, all, or a list of those");
    }
  }
  return out;
}

}  // namespace dockmon::server
