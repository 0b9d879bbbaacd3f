// Tag checks and lookups.
#include "tags/tag_book.hpp"

#include <algorithm>

namespace dockmon::server {

namespace {
const std::vector<std::string> none;
}

bool valid_tag(std::string_view tag) {
  if (tag.empty() || tag.size() > 32) return false;
  return std::all_of(tag.begin(), tag.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
           c == ':' || c == '/';
  });
}

std::variant<std::vector<std::string>, std::string> parse_tags(const json::object& body) {
  const auto* list = body.if_contains("tags");
  if (list == nullptr || !list->is_array()) return std::string("tags must be a list");
  std::vector<std::string> out;
  for (const auto& t : list->get_array()) {
    if (!t.is_string() || !valid_tag(t.get_string()))
      return std::string("each tag is 1 to 32 letters, digits and - _ . : /");
    out.emplace_back(t.get_string());
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  if (out.size() > max_tags_per_target) return "at most " + std::to_string(max_tags_per_target) + " tags";
  return out;
}

void tag_book::load(const std::vector<store::tag_record>& rows) {
  tags_.clear();
  for (const auto& r : rows) tags_[{r.host_id, r.container_name}].push_back(r.tag);
}

void tag_book::set(const std::string& host_id, const std::string& container_name, std::vector<std::string> tags) {
  if (tags.empty()) tags_.erase({host_id, container_name});
  else tags_[{host_id, container_name}] = std::move(tags);
}

const std::vector<std::string>& tag_book::of(const std::string& host_id, const std::string& container_name) const {
  auto it = tags_.find({host_id, container_name});
  return it != tags_.end() ? it->second : none;
}

std::string tag_book::from_label(const std::map<std::string, std::string>& labels) const {
  if (label_key_.empty()) return {};
  auto it = labels.find(label_key_);
  return it != labels.end() && valid_tag(it->second) ? it->second : std::string();
}

std::string tag_book::from_label(const json::object& labels) const {
  if (label_key_.empty()) return {};
  const auto* v = labels.if_contains(label_key_);
  return v != nullptr && v->is_string() && valid_tag(v->get_string()) ? std::string(v->get_string()) : std::string();
}

std::vector<std::string> tag_book::all_for(const std::string& host_id, const std::string& container_name,
                                           const std::map<std::string, std::string>& labels) const {
  auto out = of(host_id);
  if (!container_name.empty()) {
    const auto& own = of(host_id, container_name);
    out.insert(out.end(), own.begin(), own.end());
    if (auto from = from_label(labels); !from.empty()) out.push_back(std::move(from));
  }
  return out;
}

}  // namespace dockmon::server
