// Tags: words users set on hosts and containers to group them (prod, media, team-a), and one taken from a
// chosen Docker label (com.docker.compose.project by default), so that a compose project is a tag
// without anyone typing it. Alert rules scope by tag; the UI filters by tag.
#pragma once

#include "dockmon/common/net.hpp"
#include "dockmon/store/store.hpp"

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace dockmon::server {

inline constexpr std::size_t max_tags_per_target = 20;

// 1 to 32 letters, digits and - _ . : /
bool valid_tag(std::string_view tag);

// A request's {tags:[...]}: checked, without repeats, sorted; or what is wrong with it.
std::variant<std::vector<std::string>, std::string> parse_tags(const json::object& body);

class tag_book {
 public:
  // label_key: the Docker label whose value is a container's tag too; empty for none.
  explicit tag_book(std::string label_key = "com.docker.compose.project") : label_key_(std::move(label_key)) {}

  void load(const std::vector<store::tag_record>& rows);
  // Replaces a host's (container_name empty) or a container's tags.
  void set(const std::string& host_id, const std::string& container_name, std::vector<std::string> tags);

  // What users set; empty when nothing.
  const std::vector<std::string>& of(const std::string& host_id, const std::string& container_name = {}) const;
  // The label's value as a tag, or empty (no such label, or a value that is not a tag).
  std::string from_label(const std::map<std::string, std::string>& labels) const;
  std::string from_label(const json::object& labels) const;
  // Everything a rule's scope sees: the host's tags, the container's and its label's.
  std::vector<std::string> all_for(const std::string& host_id, const std::string& container_name,
                                   const std::map<std::string, std::string>& labels) const;
  const std::string& label_key() const { return label_key_; }

 private:
  std::string label_key_;
  std::map<std::pair<std::string, std::string>, std::vector<std::string>> tags_;  // (host id, container name)
};

}  // namespace dockmon::server
