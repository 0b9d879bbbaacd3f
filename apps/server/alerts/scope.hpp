// What a rule watches: all hosts or chosen ones, containers by name pattern, by Docker label or by tag.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace dockmon::server::alerts {

// A container (or, with no name, a host) as a rule sees it.
struct target {
  std::string host_id;
  std::string container_name;                 // empty: the host itself
  std::map<std::string, std::string> labels;  // the container's Docker labels
  std::vector<std::string> tags;              // the host's and the container's tags
};

struct scope {
  std::vector<std::string> host_ids;  // empty: every host
  std::string name_pattern;           // '*' and '?' as in a shell; empty: any name
  std::string label;                  // "key" (present) or "key=value"; empty: any
  std::string tag;                    // empty: any

  bool matches(const target& t) const;
};

// Shell-style matching of a whole name: '*' any run of characters, '?' one character.
bool glob_match(std::string_view pattern, std::string_view text);

}  // namespace dockmon::server::alerts
