// A burst starts with a message sent at once; whatever follows within the window waits for its end.
#include "notify/bursts.hpp"

#include <algorithm>
#include <array>

namespace dockmon::server::notify {

namespace {

constexpr std::size_t lines_listed = 25;  // a chat message stays readable; the rest are counted

int rank(const std::string& severity) {
  constexpr std::array<std::string_view, 4> order{"info", "warning", "error", "critical"};
  const auto* found = std::find(order.begin(), order.end(), severity);
  return found == order.end() ? 0 : static_cast<int>(found - order.begin());
}

}  // namespace

std::int64_t burst_grouping::due_ms(const std::string& channel_id, const std::string& host_id, std::int64_t now_ms) {
  if (window_ms_ <= 0) return now_ms;
  if (burst_started_.size() > 10000) {
    std::erase_if(burst_started_, [&](const auto& item) { return now_ms - item.second >= window_ms_; });
  }
  auto [it, first] = burst_started_.try_emplace(channel_id + '\n' + host_id, now_ms);
  if (first || now_ms - it->second >= window_ms_) {
    it->second = now_ms;
    return now_ms;
  }
  return it->second + window_ms_;
}

message grouped_message(const std::vector<message>& parts) {
  if (parts.size() == 1) return parts.front();
  message m;
  m.event = "grouped";
  m.kind = "grouped";
  m.host_id = parts.front().host_id;
  m.host_name = parts.front().host_name;
  m.severity = "info";
  std::size_t fired = 0;
  for (const auto& p : parts) {
    if (rank(p.severity) > rank(m.severity) && p.event != "resolved") m.severity = p.severity;
    fired += p.event == "fired" ? 1 : 0;
  }
  const auto resolved = parts.size() - fired;
  m.title = "[" + m.severity + "] " + std::to_string(parts.size()) + " alerts on " + m.host_name + ": " + std::to_string(fired) +
            " firing, " + std::to_string(resolved) + " resolved";
  for (std::size_t i = 0; i < parts.size() && i < lines_listed; ++i) m.text += (i ? "\n" : "") + parts[i].title;
  if (parts.size() > lines_listed) m.text += "\n... and " + std::to_string(parts.size() - lines_listed) + " more";
  if (const auto& link = parts.front().link; !link.empty()) {
    m.link = link.substr(0, link.find("/#/")) + "/#/alerts";
    m.text += "\n" + m.link;
  }
  m.fired_at = parts.front().fired_at;
  return m;
}

}  // namespace dockmon::server::notify
