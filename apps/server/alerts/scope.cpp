// Scope matching. Names are matched without backtracking blow-up: a pattern from a user runs against
// every container of the fleet.
#include "alerts/scope.hpp"

#include <algorithm>

namespace dockmon::server::alerts {

bool glob_match(std::string_view pattern, std::string_view text) {
  // The classic two-pointer match: on a mismatch, let the last '*' swallow one more character. Linear in
  // practice, quadratic at worst, never exponential.
  std::size_t p = 0, t = 0, star = std::string_view::npos, resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool scope::matches(const target& t) const {
  if (!host_ids.empty() && std::find(host_ids.begin(), host_ids.end(), t.host_id) == host_ids.end()) return false;
  if (!name_pattern.empty() && !glob_match(name_pattern, t.container_name)) return false;
  if (!label.empty()) {
    const auto eq = label.find('=');
    const auto key = label.substr(0, eq);
    const auto found = t.labels.find(key);
    if (found == t.labels.end()) return false;
    if (eq != std::string::npos && found->second != label.substr(eq + 1)) return false;
  }
  if (!tag.empty() && std::find(t.tags.begin(), t.tags.end(), tag) == t.tags.end()) return false;
  return true;
}

}  // namespace dockmon::server::alerts
