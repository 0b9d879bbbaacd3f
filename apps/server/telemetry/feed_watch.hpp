// Which live feeds (/ws) belong to which user, so that ending a user's sessions closes their feeds at
// once instead of at the feed's next periodic check of its credentials.
#pragma once

#include "dockmon/common/net.hpp"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace dockmon::server {

class feed_watch {
 public:
  // A feed waits on its timer between checks of its credentials; wake() cancels the wait.
  void add(const std::string& user_id, const std::shared_ptr<net::steady_timer>& timer) {
    auto& list = timers_[user_id];
    std::erase_if(list, [](const auto& w) { return w.expired(); });
    list.push_back(timer);
  }

  // The user's sessions or keys changed: every feed of theirs checks its credentials now.
  void wake(const std::string& user_id) {
    auto it = timers_.find(user_id);
    if (it == timers_.end()) return;
    for (const auto& w : it->second)
      if (auto timer = w.lock()) timer->cancel();
    std::erase_if(it->second, [](const auto& w) { return w.expired(); });
    if (it->second.empty()) timers_.erase(it);
  }

 private:
  std::map<std::string, std::vector<std::weak_ptr<net::steady_timer>>> timers_;
};

}  // namespace dockmon::server
